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

from importlib import resources
from typing import Any

from inkworm.fold import final_state, walk
from inkworm.layout import layout
from inkworm.render import palette as P
from inkworm.render.geometry import build, stretch
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
from inkworm.views import describe, messages, topology_diff

WIDTH, HEIGHT = 1000, 640
"""The chip's SVG view box."""


def _chip(topology: Topology, trace: Trace, layout_name: str, seed: int) -> dict[str, Any]:
    """Wells and channel routes in the view box, the measurement's channels routed apart."""
    truth = topology.edge_set()  # the connections the run made over no channel, from the fold
    etched = [edge for edge in final_state(trace).made if frozenset(edge) not in truth]
    centers = stretch(layout(topology, layout_name, seed), (70, 60, WIDTH - 70, HEIGHT - 60))
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


def view_data(topology: Topology, trace: Trace, layout_name: str = "auto",
              seed: int = 0) -> dict[str, Any]:
    """Everything the page shows, as JSON-able data."""
    captions: dict[int, str] = {}
    for step in steps_from_trace(trace):
        for seq in step.seqs:
            captions.setdefault(seq, step.caption)
    events = [{"seq": e.seq, "node": e.node, "kind": e.kind.value, "text": describe(e),
               "caption": captions.get(e.seq, ""), "t": e.t_us} for e in trace.events]
    diff = topology_diff(trace, topology)
    result = trace.outcome
    first = [i for i, e in enumerate(trace.events) if isinstance(e, ProbeStart)]
    seen: set[str] = set()
    visits = []
    for i in first:
        if trace.events[i].node not in seen:
            seen.add(trace.events[i].node)
            visits.append(i)
    return {
        "title": f"{trace.header.graph or 'cluster'} · {trace.header.mode.value} probe · "
                 f"launched from {trace.header.launch} · {trace.header.source.value}",
        "launch": trace.header.launch,
        "stack": "running probes" if trace.header.parallel else "call stack",
        "chip": _chip(topology, trace, layout_name, seed),
        "events": events, "states": _states(trace), "arrows": _arrows(trace),
        "order": list(dict.fromkeys(e.node for e in trace.events if isinstance(e, ProbeStart))),
        "nodes": list(dict.fromkeys([*topology.nodes, *(e.node for e in trace.events)])),
        "calls": [[e.node, e.to] for e in trace.events if isinstance(e, Call)],
        "returns": [[e.node, e.callee] for e in trace.events if isinstance(e, Return)],
        "skips": [[e.node, e.neighbor] for e in trace.events if isinstance(e, Skip)],
        "made": [list(edge) for edge in final_state(trace).made],  # each once, as made
        "failed": [e.node if not isinstance(e, Error) else e.to for e in trace.events
                   if isinstance(e, Error | Kill | Crash)],
        "visits": visits,
        "result": (dict(result.map) if isinstance(result, Result) else None),
        "spurious": [list(edge) for edge in diff.spurious],
    }


def view_html(topology: Topology, trace: Trace, theme: str = "dark", layout_name: str = "auto",
              seed: int = 0) -> str:
    """The page: the template with the run's data and the theme's colours, under its policy."""
    t = P.THEMES[theme]
    colours = {"bg": P.rgb_hex(t.background), "text": t.text, "dim": t.text_dim,
               "warn": t.warn, "good": t.good, "error": t.error, "ink": P.INK, "dye": P.DYE,
               "tint": P.TINT, "measure": P.WARN, "fault": P.FAULT,
               "glass": "#e4e9ef", "wall": "#9aa6b2"}
    style = ":root{" + "".join(f"--{k}:{v};" for k, v in colours.items()) + "}"
    data = view_data(topology, trace, layout_name, seed)
    page = (resources.files("inkworm") / "render" / "viewer.html").read_text(encoding="utf-8")
    page = page.replace("/*THEME*/", style).replace("<!--TITLE-->", html_text(data["title"]))
    page = page.replace("/*DATA*/", script_json(data))
    return with_csp(page)
