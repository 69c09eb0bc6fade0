"""The side panel's result: the launcher's map and the edges the measurement put in it, laid
out for any cluster size.

The map is one line a node up to :data:`MAP_LINES` nodes, then columns, then counts. The
spurious edges (in the map, not in the cluster) are always counted exactly and grouped by
endpoint ("a \u2013 d e f g h": the launcher's star of measurement channels reads as one line),
wrapped to the panel's width; when they do not fit, the last line says exactly how many edges
around how many nodes are not listed.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from inkworm import collect
from inkworm.fold import RunState
from inkworm.names import peer_names
from inkworm.render import hud
from inkworm.render import palette as P
from inkworm.render.fronts import counted
from inkworm.render.palette import Theme
from inkworm.run import Strategy
from inkworm.topology import Topology
from inkworm.trace import Result, Trace
from inkworm.views import DERIVED, Edge, NameMatcher, pair

MAP_LINES = 9
"""Up to this many nodes, the map is one line a node."""
MAP_COLUMNS = 3
"""...then up to this many columns of such lines (3 times MAP_LINES nodes), then counts."""
SPURIOUS_LINES = 6
"""The most lines the spurious edges take; the rest is counted."""

Line = tuple[hud.Span, ...]


def spurious_groups(edges: Iterable[Edge]) -> list[tuple[str, list[str]]]:
    """Edges grouped by endpoint: the node touching the most of them first (ties by name),
    with all of its edges; then the same among the rest. Every edge is in exactly one group."""
    left = set(edges)
    groups = []
    while left:
        count = Counter(node for edge in left for node in edge)
        hub = min(count, key=lambda node: (-count[node], node))
        others = sorted(b if a == hub else a for a, b in left if hub in (a, b))
        left = {edge for edge in left if hub not in edge}
        groups.append((hub, others))
    return groups


def wrap_words(words: Sequence[str], first: str, indent: str, fits: Callable[[str], bool]
               ) -> list[str]:
    """``first`` followed by ``words``, broken into lines that ``fits``; later lines start
    with ``indent``."""
    lines, line = [], first
    for word in words:
        candidate = f"{line} {word}" if line.strip() else f"{line}{word}"
        if fits(candidate) or not line.strip() or line == first:
            line = candidate
        else:
            lines.append(line)
            line = f"{indent}{word}"
    lines.append(line)
    return lines


def result_block(launch: str, result: Mapping[str, tuple[str, ...]], spurious: Sequence[Edge],
                 is_real: Callable[[str, str], bool], theme: Theme, size: int,
                 width: int, collected: Sequence[str] = (),
                 derived_from: str | None = None, condensed: bool = False) -> hud.TextBlock:
    """The result panel at text ``size``, ``width`` pixels wide; ``collected``: what the
    collectors found (:func:`inkworm.collect.lines`), after the map; ``derived_from``: the
    topology was derived from this (``"log"``, ``"trace"``), not given as a DOT file, so the
    map is compared with what the run itself showed; ``condensed``: the map as counts (for a
    panel that does not fit otherwise at the smallest readable size)."""
    face = hud.font(size)

    def fits(text: str, room: float = width) -> bool:
        return face.getlength(text) <= room

    head = hud.render_lines((hud.plain(f"{launch}'s map", theme.text_dim),), size,
                            max_width=width)
    blocks = [head, _map_block(result, is_real, theme, size, width, fits, condensed)]
    tail: list[Line] = [hud.plain(""), *verdict(spurious, theme, fits, derived_from)]
    if collected:
        tail += [hud.plain(""), hud.plain("collected", theme.text_dim)]
        tail += [hud.plain(line, theme.text) for line in collected]
    blocks.append(hud.render_lines(tuple(tail), size, max_width=width))
    return hud.stack(blocks)


def names_fit(result: Mapping[str, tuple[str, ...]], size: int, width: int) -> bool:
    """Whether the map panel at text ``size`` and ``width`` pixels shows every node's name
    whole (with room for its count, in columns): else a smaller size is better than names
    cut to a letter."""
    nodes = sorted(result)
    if len(nodes) > MAP_LINES * MAP_COLUMNS:
        return True  # the map is told as counts
    columns = -(-len(nodes) // MAP_LINES)
    room = (width - size * (columns - 1)) / columns
    face = hud.font(size)
    tail = ": 99 +9" if columns > 1 else ":"
    return all(face.getlength(node + tail) <= room for node in nodes)


def verdict(spurious: Sequence[Edge], theme: Theme, fits: Callable[[str], bool],
            derived_from: str | None = None) -> list[Line]:
    """What the panel says of the map under it: the edges not in the topology, or that it is
    the true topology, or (a topology derived from the run itself) only where it came from."""
    if spurious:
        n = len(spurious)
        against = "the topology" if derived_from is None else f"the {derived_from}'s topology"
        return [hud.plain(f"{n} edge{'s' if n > 1 else ''} not in {against}:", theme.warn),
                *(hud.plain(row, theme.warn) for row in _spurious_rows(spurious, fits))]
    if derived_from is None:
        return [hud.plain("= the true topology", theme.good)]
    # the topology was read off this very run: no claim that it is true
    return [hud.plain(f"topology derived from the {derived_from}", theme.text_dim)]


def _map_block(result: Mapping[str, tuple[str, ...]], is_real: Callable[[str, str], bool],
               theme: Theme, size: int, width: int,
               fits: Callable[[str, float], bool], condensed: bool = False) -> hud.TextBlock:
    nodes = sorted(result)
    if condensed or len(nodes) > MAP_LINES * MAP_COLUMNS:
        edges = {frozenset((a, b)) for a in result for b in result[a] if a != b}
        wrong = sum(1 for e in edges if not is_real(*sorted(e)))
        text = f"{len(nodes)} nodes, {len(edges)} edges"
        if wrong:
            text += f" ({wrong} spurious)"
        return hud.render_lines((hud.plain(text, theme.text),), size, max_width=width)
    columns = -(-len(nodes) // MAP_LINES)
    rows = -(-len(nodes) // columns)
    gap = size
    room = (width - gap * (columns - 1)) / columns
    shown = peer_names(nodes)
    if columns == 1:  # long names (name@host): a row's peers wrap while the map has lines
        rows_of = [_wrapped_line(node, result[node], is_real, theme, room, fits, shown)
                   for node in nodes]
        wrapped = [line for lines in rows_of if lines is not None for line in lines]
        if None not in rows_of and len(wrapped) <= MAP_LINES:
            return hud.render_lines(tuple(wrapped), size)
    blocks = []
    for c in range(columns):
        lines = tuple(_map_line(node, result[node], is_real, theme, room, fits, columns > 1,
                                shown)
                      for node in nodes[c * rows:(c + 1) * rows])
        blocks.append(hud.render_lines(lines, size))
    block = hud.beside(blocks, gap)
    if columns > 1:  # say what the counts are
        key: Line = (("node: peers", theme.text_dim), (" +spurious", theme.warn))
        block = hud.stack([hud.render_lines((key,), size), block])
    return block


def _wrapped_line(node: str, peers: Sequence[str], is_real: Callable[[str, str], bool],
                  theme: Theme, room: float, fits: Callable[[str, float], bool],
                  shown_as: Mapping[str, str]) -> list[Line] | None:
    """``node: p q`` and, indented under it, the peers that do not fit on its line; None
    when a name does not fit even on a line of its own."""
    lines: list[list[hud.Span]] = [[(f"{node}:", theme.text)]]
    texts = [f"{node}:"]
    for peer in peers:
        colour = theme.text if is_real(node, peer) else theme.warn
        p = shown_as.get(peer, peer)
        if fits(f"{texts[-1]} {p}", room):
            lines[-1].append((f" {p}", colour))
            texts[-1] = f"{texts[-1]} {p}"
        else:
            lines.append([("   ", theme.text), (p, colour)])
            texts.append(f"   {p}")
    if not all(fits(text, room) for text in texts):
        return None
    return [tuple(line) for line in lines]


def _map_line(node: str, peers: Sequence[str], is_real: Callable[[str, str], bool],
              theme: Theme, room: float, fits: Callable[[str, float], bool],
              counted: bool, shown_as: Mapping[str, str] | None = None) -> Line:
    """``node: p q r`` (spurious peers in the warning colour); ``counted`` (in columns):
    ``node: 3 +1`` (how many real peers, how many spurious). Cut to ``room``
    pixels with a count of what is cut (``… +3``), the name itself cut (``…``) when even it
    does not fit: the panel never leaves the frame."""
    real = [p for p in peers if is_real(node, p)]
    wrong = [p for p in peers if not is_real(node, p)]
    name = shown_as or {}
    words = [(str(len(real)), theme.text)] if counted else [
        (name.get(p, p), theme.text if p in real else theme.warn) for p in peers]
    if counted and wrong:  # the spurious edges are named in the list below the map
        words.append((f"+{len(wrong)}", theme.warn))
    shown = list(words)
    while shown:
        cut = len(words) - len(shown)
        text = f"{node}: " + " ".join(w for w, _ in shown) + (f" \u2026 +{cut}" if cut else "")
        if fits(text, room):
            break
        shown.pop()
    cut = len(words) - len(shown)
    tail = f" \u2026 +{cut}" if cut else ""
    while len(node) > 1 and not fits(f"{node}:{tail}", room):  # a name too long for its room
        node = node[:-2] + "\u2026"
    spans: list[hud.Span] = [(f"{node}:", theme.text)]
    spans += [(f" {word}", colour) for word, colour in shown]
    if cut:
        spans.append((f" \u2026 +{cut}", theme.text_dim))
    return tuple(spans)


def _spurious_rows(spurious: Sequence[Edge], fits: Callable[[str], bool]) -> list[str]:
    """The spurious edges grouped by endpoint and wrapped, in at most :data:`SPURIOUS_LINES`
    lines. When they do not all fit, the worst hubs with their counts instead (``n000 \u2013 292
    edges``: a name list cut at ``… +270`` tells less), and a last line counts exactly the
    groups left out."""
    groups = spurious_groups(spurious)
    rows: list[str] = []
    for hub, others in groups:
        rows += wrap_words(others, f"{hub} \u2013", "    ", fits)
        if len(rows) > SPURIOUS_LINES:
            break
    else:
        return rows
    room = SPURIOUS_LINES - 1
    shown = groups if len(groups) <= SPURIOUS_LINES else groups[:room]
    rows = [f"{hub} \u2013 {len(others)} edge{'s' if len(others) > 1 else ''}"
            for hub, others in shown]
    if len(shown) < len(groups):
        rows.append(_more(groups[len(shown):]))
    return rows


def _more(groups: Sequence[tuple[str, list[str]]]) -> str:
    edges = sum(len(others) for _, others in groups)
    return (f"\u2026 and {edges} more edge{'s' if edges > 1 else ''} around "
            f"{len(groups)} other node{'s' if len(groups) > 1 else ''}")


@functools.lru_cache(maxsize=256)
def growth_chart(series: tuple[int, ...], visits: int, most: int, theme: Theme, size: int,
                 width: int) -> hud.TextBlock:
    """The hairball as a number a viewer can read: the connections the measurement has made
    (``series[k]``: after k + 1 visits) against the visits of the whole run (``visits``; the
    run makes ``most`` in all), the count written above a small area chart that fills as the
    walk goes on."""
    from PIL import Image, ImageDraw

    made = series[-1] if series else 0
    label = hud.render_lines(((("made by the measurement: ", theme.text_dim),
                               (str(made), theme.warn)),), size, max_width=width)
    tall = max(8, round(size * 2.2))
    wide = max(16, min(width, round(size * 14)))
    image = Image.new("RGBA", (wide, tall), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    line = max(1, round(size / 12))
    dim = (*P.hex_rgb(theme.text_dim), 160)
    draw.line((0, tall - 1, wide - 1, tall - 1), fill=dim, width=line)  # the visits axis
    top = max(most, 1)
    if series:
        points = [(round(k * (wide - 1) / max(visits - 1, 1)),
                   round((tall - 2) * (1 - v / top))) for k, v in enumerate(series)]
        warn = P.hex_rgb(theme.warn)
        draw.polygon([(points[0][0], tall - 1), *points, (points[-1][0], tall - 1)],
                     fill=(*warn, 90))
        draw.line(points, fill=(*warn, 255), width=max(1, round(size / 8)))
    chart = hud.TextBlock(np.asarray(image, dtype=np.uint8))
    return hud.stack([label, chart])


def walk_lines(state: RunState, theme: Theme) -> tuple[tuple[hud.Span, ...], ...]:
    """A sequential run's panel during the walk: the visited set and the call stack."""
    visited, stack = state.visited, state.stack
    return (
        hud.plain(f"visited ({len(visited)})", theme.text_dim),
        *[hud.plain(row, theme.text) for row in _rows(visited, " ", 24, 3)],
        hud.plain(""),
        hud.plain(f"call stack (depth {len(stack)})", theme.text_dim),
        *[hud.plain(row, theme.text) for row in _rows(stack, " \u2192 ", 24, 3)],
    )


def fronts_lines(state: RunState, t: Theme) -> tuple[tuple[hud.Span, ...], ...]:
    """A parallel run's panel (it has no one stack): what was visited (and how many probes
    landed on a node already visited), and the probes running now: the fronts (at work),
    then those waiting for their calls' answers, each node once with its count."""
    twice = state.duplicates
    paths = list(state.running)
    waiting = {p.rpartition(".")[0] for p in paths if "." in p}
    fronts = counted([state.running[p] for p in paths if p not in waiting], "\u00d7{}")
    parents = counted([state.running[p] for p in paths if p in waiting], "\u00d7{}")
    return (
        hud.plain(f"visited ({len(state.visited)})", t.text_dim),
        *[hud.plain(row, t.text) for row in _rows(state.visited, " ", 24, 3)],
        *([hud.plain(f"+ {twice} duplicate probe{'s' if twice > 1 else ''}", t.text)]
          if twice else []),
        hud.plain(""),
        hud.plain(f"running probes ({len(paths)})", t.text_dim),
        *[hud.plain(row, t.text) for row in _rows(fronts, " ", 24, 3)],
        *([hud.plain(_waiting(parents, sum(p in waiting for p in paths)), t.text_dim)]
          if parents else []),
    )


Lines = tuple[tuple[hud.Span, ...], ...]
"""A panel's lines of text, each of coloured spans."""

PANELS: dict[Strategy, Callable[[RunState, Theme], Lines]] = {
    Strategy.SEQUENTIAL: walk_lines,
    Strategy.PARALLEL: fronts_lines,
}
"""Each strategy's panel during the walk, from the run's state."""


def with_chart(lines: tuple[tuple[hud.Span, ...], ...], series: tuple[int, ...],
               growth: tuple[int, ...], theme: Theme) -> Callable[[int, int, bool],
                                                                 hud.TextBlock]:
    """The panel's lines with the growth chart (``series`` so far, of the run's ``growth``)
    under them (condensed: without it)."""
    visits, most = len(growth), growth[-1]  # (a count only grows)

    def build(size: int, room: int, condensed: bool) -> hud.TextBlock:
        text = hud.render_lines(lines, size, max_width=room)
        if condensed:
            return text
        gap = hud.render_lines((hud.plain(""),), size)
        return hud.stack([text, gap, growth_chart(series, visits, most, theme, size, room)])

    return build


def result_panel(outcome: Result, trace: Trace, topology: Topology, spurious: Sequence[Edge],
                 growth: tuple[int, ...] | None,
                 theme: Theme) -> Callable[[int, int, bool], hud.TextBlock]:
    """The result panel: the map, the ``spurious`` edges (topology names), what the
    collectors found, and for a large run the growth chart in full."""
    match = NameMatcher(topology.nodes)
    extra = list(spurious)
    counted_edges = set(extra)

    def real(a: str, b: str) -> bool:
        return pair(match(a) or a, match(b) or b) not in counted_edges

    found = collect.lines(collect.collected(trace.events))
    # no DOT file: the topology was read off this very run, so no "true topology" claim
    derived = ("log" if trace.header.source.value == "log" else "trace") \
        if topology.name == DERIVED else None

    def build(size: int, width: int, condensed: bool) -> hud.TextBlock:
        block = result_block(outcome.node, outcome.map, extra, real, theme, size, width,
                             found, derived_from=derived, condensed=condensed)
        if growth is None or condensed:
            return block
        gap = hud.render_lines((hud.plain(""),), size)  # the hairball, grown in full
        chart = growth_chart(growth, len(growth), growth[-1], theme, size, width)
        return hud.stack([block, gap, chart])

    return build


def _rows(items: Sequence[str], sep: str, width: int, max_rows: int) -> list[str]:
    """``items`` joined and wrapped at ``width`` characters; the oldest rows elided."""
    rows, row = [], ""
    for item in items:
        if row and len(row) + len(sep) + len(item) > width:
            rows.append(row + sep.rstrip())
            row = item
        else:
            row = f"{row}{sep}{item}" if row else item
    rows.append(row or "—")
    if len(rows) > max_rows:
        rows = ["…", *rows[-(max_rows - 1):]]
    return rows


def _waiting(nodes: Sequence[str], probes: int) -> str:
    """The probes waiting for their calls' answers: named on one line, else counted."""
    named = " ".join(["waiting:", *nodes])
    return named if len(named) <= 24 else f"{probes} waiting for answers"
