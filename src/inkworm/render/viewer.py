"""``inkworm view``: one offline HTML file a learner steps through, event by event.

The chip (the same layout, routes and palette as the renders, drawn as SVG), a panel from
the fold (visited, the call stack or the running probes, the connections made, the step's
caption; at the end the map and its spurious edges) and space-time lanes beside it: a lane a
node, time going down, each call, answer and connection an arrow between lanes, as ShiViz
draws messages. The run's state after every event comes from the one fold
(:func:`inkworm.fold.walk`), written into the page as data; the page's script only shows it.
No network request of any kind: the data, script and styles are inline, under a
Content-Security-Policy that runs only the page's own script.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from importlib import resources
from typing import Any

from inkworm.fold import final_state, walk
from inkworm.layout import Positions, layout
from inkworm.names import peer_names
from inkworm.render import palette as P
from inkworm.render.geometry import build, stretch
from inkworm.render.pair import SOURCES, Run, diff_text, shared_layout
from inkworm.render.story import steps_from_trace
from inkworm.safe import html_text, script_json, with_csp
from inkworm.topology import Topology
from inkworm.trace import (
    Call,
    Connect,
    Crash,
    Error,
    Kill,
    ProbeStart,
    Result,
    Return,
    Skip,
    Trace,
)
from inkworm.views import Edge, describe, messages, topology_diff

WIDTH, HEIGHT = 1000, 640
"""The chip's SVG view box."""


def _chip(topology: Topology, made: Iterable[Edge], positions: Positions) -> dict[str, Any]:
    """Wells and channel routes in the view box, the measurement's channels (those of the
    run's connections ``made`` over no channel) routed apart."""
    truth = topology.edge_set()
    etched = [edge for edge in made if frozenset(edge) not in truth]
    centers = stretch(positions, (70, 60, WIDTH - 70, HEIGHT - 60))
    g = build(centers, [*topology.edges, *etched], WIDTH, HEIGHT, max_radius=26.0,
              apart=etched, bounds=(10, 10, WIDTH - 10, HEIGHT - 10))
    channels = [{"a": a, "b": b, "etched": (a, b) in etched,
                 "d": "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in line.tolist())}
                for (a, b), line in g.routes.items()]
    wells = [{"name": n, "x": round(x, 1), "y": round(y, 1)} for n, (x, y) in centers.items()]
    return {"wells": wells, "channels": channels, "radius": round(g.radius, 1)}


def _states(trace: Trace) -> list[dict[str, Any]]:
    """The run after each event, as the page shows it: the visited count (a prefix of the
    visit order), the stack, the channels called, answered and skipped, the connections made
    and the nodes failed (each a prefix of its list, by count)."""
    out = []
    called = answered = skipped = failed = 0
    for e, state in walk(trace):
        called += isinstance(e, Call)
        answered += isinstance(e, Return)
        skipped += isinstance(e, Skip)
        failed += isinstance(e, Error | Kill | Crash)
        out.append({"v": len(state.visited), "s": list(state.stack), "c": called,
                    "r": answered, "k": skipped, "m": len(state.made), "f": failed})
    return out


def _arrows(trace: Trace) -> list[list[Any]]:
    """[from node, from event index, to node, to event index, kind]: each call to the probe
    start it leads to, each answer from the probe end that sent it, each connection."""
    events = trace.events
    arrows: list[list[Any]] = [[events[send].node, send, events[receive].node, receive, kind]
                               for send, receive, kind in messages(events)]
    return arrows + [[e.node, i, e.peer, i, "connect"] for i, e in enumerate(events)
                     if isinstance(e, Connect)]


def view_data(topology: Topology, trace: Trace, layout_name: str = "auto", seed: int = 0,
              positions: Positions | None = None) -> dict[str, Any]:
    """Everything the page shows of one run, as JSON-able data (``positions``: the wells'
    layout, when it is shared with another run)."""
    if positions is None:
        positions = layout(topology, layout_name, seed)
    captions: dict[int, str] = {}
    for step in steps_from_trace(trace):
        for seq in step.seqs:
            captions.setdefault(seq, step.caption)
    events = [{"seq": e.seq, "node": e.node, "kind": e.kind.value, "text": describe(e),
               "caption": captions.get(e.seq, ""), "t": e.t_us} for e in trace.events]
    diff = topology_diff(trace, topology)
    result = trace.outcome
    end = final_state(trace)
    return {
        "title": f"{trace.header.graph or 'cluster'} · {trace.header.mode.value} probe · "
                 f"launched from {trace.header.launch} · "
                 f"{SOURCES.get(trace.header.source.value, trace.header.source.value)}",
        "launch": trace.header.launch,
        "stack": "running probes" if trace.header.parallel else "call stack",
        "chip": _chip(topology, end.made, positions),
        "events": events, "states": _states(trace), "arrows": _arrows(trace),
        "order": list(end.visited),
        "nodes": list(dict.fromkeys([*topology.nodes, *(e.node for e in trace.events)])),
        "calls": [[e.node, e.to] for e in trace.events if isinstance(e, Call)],
        "returns": [[e.node, e.callee] for e in trace.events if isinstance(e, Return)],
        "skips": [[e.node, e.neighbor] for e in trace.events if isinstance(e, Skip)],
        "made": [list(edge) for edge in end.made],  # each once, as made
        "failed": [e.node if not isinstance(e, Error) else e.to for e in trace.events
                   if isinstance(e, Error | Kill | Crash)],
        "visits": list(_first_probes(trace).values()),
        "result": (dict(result.map) if isinstance(result, Result) else None),
        "peer": (dict(peer_names(list(result.map))) if isinstance(result, Result) else {}),
        "spurious": [list(edge) for edge in diff.spurious],
    }


def _first_probes(trace: Trace) -> dict[str, int]:
    """Each node's first probe start, as an event index, in visit order."""
    firsts: dict[str, int] = {}
    for i, e in enumerate(trace.events):
        if isinstance(e, ProbeStart):
            firsts.setdefault(e.node, i)
    return firsts


def _segments(trace: Trace) -> list[tuple[str, list[int]]]:
    """A run's event indices cut at each node's first probe and at its outcome, each keyed
    by what it shows (``visit d``, ``outcome``), as the video's comparison cuts its steps."""
    segments: list[tuple[str, list[int]]] = []
    firsts = set(_first_probes(trace).values())
    for i, e in enumerate(trace.events):
        if i in firsts:
            segments.append((f"visit {e.node}", [i]))
        elif isinstance(e, Result | Crash) or not segments:
            segments.append(("outcome" if isinstance(e, Result | Crash) else "start", [i]))
        else:
            segments[-1][1].append(i)
    return segments


def joint_steps(a: Trace, b: Trace) -> list[tuple[int, int]]:
    """Two runs on one track of steps, each step an event index of each: matched visits
    (and the outcomes) start together and advance side by side, the shorter side holding at
    its last event; a visit only one run makes advances that side while the other holds."""
    sa, sb = _segments(a), _segments(b)
    matcher = difflib.SequenceMatcher(None, [k for k, _ in sa], [k for k, _ in sb],
                                      autojunk=False)
    steps: list[tuple[int, int]] = []
    ia = ib = 0
    for tag, i0, i1, j0, j1 in matcher.get_opcodes():
        if tag == "equal":
            for (_, x), (_, y) in zip(sa[i0:i1], sb[j0:j1], strict=True):
                for k in range(max(len(x), len(y))):
                    ia, ib = x[min(k, len(x) - 1)], y[min(k, len(y) - 1)]
                    steps.append((ia, ib))
            continue
        for _, x in sa[i0:i1]:
            steps.extend((ia, ib) for ia in x)
        for _, y in sb[j0:j1]:
            steps.extend((ia, ib) for ib in y)
    return steps


def compare_data(a: Run, b: Run, layout_name: str = "auto", seed: int = 0) -> dict[str, Any]:
    """The page of two runs: one layout (a well at the same place on both chips), each
    side's data with its label, the track of joint steps and the maps' diff."""
    positions = shared_layout(a, b, layout_name, seed)
    sides = []
    for run in (a, b):
        side = view_data(run.topology, run.trace, positions=positions)
        side["label"], side["title"] = run.label, run.title
        sides.append(side)
    return {"title": f"{a.label} | {b.label} · {a.trace.header.graph or 'cluster'}",
            "sides": sides, "joint": joint_steps(a.trace, b.trace), "diff": diff_text(a, b)}


def view_html(topology: Topology, trace: Trace, theme: str = "dark", layout_name: str = "auto",
              seed: int = 0, compare: tuple[Run, Run] | None = None) -> str:
    """The page: the template with the run's data (or the two runs' of ``compare``) and the
    theme's colours, under its policy."""
    if compare is None:
        one = view_data(topology, trace, layout_name, seed)
        data = {"title": one["title"], "sides": [one], "joint": None, "diff": ""}
    else:
        data = compare_data(*compare, layout_name, seed)
    return _page(data, theme)


def _page(data: dict[str, Any], theme: str) -> str:
    t = P.THEMES[theme]
    colours = {"bg": P.rgb_hex(t.background), "text": t.text, "dim": t.text_dim,
               "warn": t.warn, "good": t.good, "error": t.error, "ink": P.INK, "dye": P.DYE,
               "tint": P.TINT, "measure": P.WARN, "fault": P.FAULT,
               "glass": "#e4e9ef", "wall": "#9aa6b2"}
    style = ":root{" + "".join(f"--{k}:{v};" for k, v in colours.items()) + "}"
    page = (resources.files("inkworm") / "render" / "viewer.html").read_text(encoding="utf-8")
    page = page.replace("/*THEME*/", style).replace("<!--TITLE-->", html_text(data["title"]))
    page = page.replace("/*DATA*/", script_json(data))
    return with_csp(page)
