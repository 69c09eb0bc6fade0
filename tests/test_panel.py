"""The result panel: spurious edges grouped by endpoint and counted exactly, at any size."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import GRAPHS
from conftest import inkworm_run as inkworm
from inkworm import Mode, load_dot, simulate
from inkworm.gen import sparse_cluster
from inkworm.render import hud
from inkworm.render.board import Board
from inkworm.render.options import RenderOptions
from inkworm.render.panel import SPURIOUS_LINES, _spurious_rows, spurious_groups
from inkworm.render.timeline import steps_from_trace, time_steps
from inkworm.run import RunSpec
from inkworm.topology import to_dot
from inkworm.tracefile import write_trace
from inkworm.views import pair

edges = st.lists(st.tuples(st.sampled_from("abcdefghij"), st.sampled_from("abcdefghij"))
                 .filter(lambda e: e[0] != e[1]).map(lambda e: pair(*e)), unique=True)


@given(edges)
def test_groups_hold_every_edge_once(items: list[tuple[str, str]]) -> None:
    groups = spurious_groups(items)
    rebuilt = [pair(hub, other) for hub, others in groups for other in others]
    assert sorted(rebuilt) == sorted(items)
    sizes = [len(others) for _, others in groups]
    assert sizes == sorted(sizes, reverse=True) or len(groups) < 2 or sizes[0] >= sizes[1]


def test_the_launchers_star_is_one_group() -> None:
    star = [pair("a", n) for n in "defgh"] + [pair("b", "x")]
    assert spurious_groups(star) == [("a", list("defgh")), ("b", ["x"])]


def _accounted(rows: list[str]) -> int:
    """Edges the rows name or count: listed names, '… +N' and '… and N more edges'."""
    total = 0
    for row in rows:
        more = re.match(r"\u2026 and (\d+) more edge", row)
        if more:
            total += int(more.group(1))
            continue
        hub = re.search(r"\u2013 (\d+) edges?$", row)
        if hub:  # a hub's count
            total += int(hub.group(1))
            continue
        body = row.split("\u2013", 1)[1] if "\u2013" in row else row
        cut = re.search(r"\u2026 \+(\d+)$", body)
        if cut:
            total += int(cut.group(1))
            body = body[: cut.start()]
        total += len(body.split())
    return total


@pytest.mark.parametrize(("hubs", "spokes"), [(1, 3), (1, 55), (1, 292), (5, 4), (40, 2),
                                              (3, 120)])
def test_rows_account_for_every_edge_exactly(hubs: int, spokes: int) -> None:
    items = [pair(f"h{h:02d}", f"n{h:02d}{s:03d}") for h in range(hubs) for s in range(spokes)]
    face = hud.font(20)
    rows = _spurious_rows(items, lambda text: face.getlength(text) <= 520)
    assert len(rows) <= SPURIOUS_LINES
    assert _accounted(rows) == len(items)
    assert rows[0].startswith("h00 \u2013")
    if hubs * spokes > 200:  # too many to name: the worst hubs with their counts
        assert rows[0] == f"h00 \u2013 {spokes} edges"


@pytest.mark.parametrize("nodes", [12, 60, 300])
def test_the_panel_counts_what_check_counts(nodes: int, tmp_path: Path) -> None:
    dot = tmp_path / "g.dot"
    dot.write_text(to_dot(sparse_cluster(nodes, seed=3)), encoding="utf-8")
    topology = load_dot(dot)
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    path = tmp_path / "run.jsonl"
    with path.open("w", encoding="utf-8") as out:
        write_trace(trace, out)
    proc = inkworm("check", str(path), "--graph", str(dot))
    listed = [line for line in proc.stdout.splitlines() if line.startswith("spurious edge")]
    board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(), 854,
                  480)
    board.finish()
    assert len(board.spurious) == len(listed) > 0
    assert sorted(board.spurious) == sorted(
        tuple(line.split(": ", 1)[1].split(" -- ")) for line in listed)


def test_the_bowtie_panel_counts_its_three_artefacts() -> None:
    topology = load_dot(GRAPHS / "bowtie.dot")
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(), 854,
                  480)
    board.finish()
    assert board.spurious == [("a", "d"), ("a", "e"), ("a", "f")]


def test_a_block_over_nothing_is_the_block_as_blending_makes_it() -> None:
    """Blitting over clear pixels copies the block (its clear pixels zeroed): the bytes the
    float blend makes, for every alpha and colour."""
    import numpy as np

    from inkworm.render import hud

    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (64, 256, 4), dtype=np.uint8)
    image[..., 3] = np.arange(256, dtype=np.uint8)[None, :]  # every alpha, 0 included
    src = image.astype(np.float32)
    alpha = src[..., 3:4] / 255.0
    out = alpha + 0.0
    blend = np.concatenate([src[..., :3] * alpha / np.maximum(out, 1e-6), out * 255.0], axis=2)
    want = np.clip(blend + 0.5, 0, 255).astype(np.uint8)
    frame = np.zeros_like(image)
    hud.blit(frame, hud.TextBlock(image), 0, 0)
    assert np.array_equal(frame, want)


def test_a_topology_read_off_the_run_is_not_called_true() -> None:
    """An imported log (or a trace without its DOT file) has a topology derived from itself:
    the panel must not certify the map against it."""
    from inkworm.render.palette import THEMES
    from inkworm.render.panel import verdict

    theme = THEMES["dark"]

    def said(*args: object) -> str:
        return " / ".join("".join(t for t, _ in line) for line in verdict(*args))  # type: ignore[arg-type]

    assert said([], theme, lambda _: True) == "= the true topology"
    assert said([], theme, lambda _: True, "log") == "topology derived from the log"
    assert "true" not in said([], theme, lambda _: True, "trace")
    assert said([("a", "d")], theme, lambda _: True, "log").startswith(
        "1 edge not in the log's topology:")


@pytest.mark.parametrize("nodes", [60, 300])
def test_the_panel_shows_the_state_of_the_step_on_screen(nodes: int) -> None:
    """A condensed run's caption covers many steps; the panel follows them (it said
    'visited (1) n00' 2.5 s into a 60-node run while five wells were inked): exactly at
    every caption, and between captions never more than PANEL_EVERY behind, frame by frame."""
    import bisect

    from inkworm.render.options import PANEL_EVERY
    from inkworm.render.schedule import caption_schedule, timeline
    from inkworm.views import states_at

    topology = sparse_cluster(nodes, seed=3)
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    options = RenderOptions()
    fps = 15
    steps = timeline(trace, options, fps)
    assert len({s.cue for s in steps}) < len(steps) / 2  # condensed: captions cover steps
    board = Board(trace, topology, steps, options, 854, 480)
    states = states_at(trace, [s.seqs[-1] for s in steps])
    starts = [s.start for s in steps]

    def visited_at(tau: float) -> int:  # after the last step started by tau
        k = bisect.bisect_right(starts, tau + 1e-9) - 1
        return len(states[steps[k].seqs[-1]].visited) if k >= 0 else 0

    caption_starts = {round(t * fps) for t, _ in caption_schedule(steps)}
    for frame in range(round(steps[-1].end * fps)):
        tau = frame / fps
        board.advance(tau)
        shown = int("".join(text for text, _ in board._panel_now[0]).split("(")[1][:-1])
        if frame in caption_starts:
            assert shown == visited_at(tau), tau
        assert visited_at(tau - PANEL_EVERY - 1 / fps) <= shown <= visited_at(tau), tau


def test_a_large_runs_panel_charts_the_measurements_connections() -> None:
    """The hairball as a number: the chart's series is the fold's count of connections made,
    visit by visit, and it is drawn under the panel of a large run only."""
    from inkworm.views import growth, states_at

    trace = simulate(sparse_cluster(60, seed=3), RunSpec(mode=Mode.NAIVE))
    series = growth(trace)
    assert len(series) == 60 and series == tuple(sorted(series)) and series[-1] == 54
    starts = {e.node: e.seq for e in trace.events if e.kind.value == "probe_start"}
    order = sorted(starts, key=starts.__getitem__)
    for k in (5, 20, 40):  # the count while k + 1 nodes were visited, at the next visit
        before = states_at(trace, [starts[order[k + 1]] - 1])[starts[order[k + 1]] - 1]
        assert series[k] == len(before.made)
    board = Board(trace, sparse_cluster(60, seed=3), time_steps(steps_from_trace(trace)),
                  RenderOptions(), 854, 480)
    board.advance(board.steps[len(board.steps) // 2].start)
    assert board._panel_grown is not None and 0 < board._panel_grown[-1] < 54
    small = simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=Mode.NAIVE))
    assert Board(small, load_dot(GRAPHS / "bowtie.dot"), time_steps(steps_from_trace(small)),
                 RenderOptions(), 854, 480)._growth is None


def test_the_final_panel_with_its_chart_stays_in_the_frame() -> None:
    """The chart's label ran past the frame's edge on a 60-node run's final map (the map's
    lines above it were fitted to the panel's width, the label was not)."""
    topology = sparse_cluster(60, seed=3)
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(), 1920,
                  1080)
    board.finish()
    x, _, width = board.f.panel
    assert board._growth is not None
    assert board.panel_extent[2] <= x + width
