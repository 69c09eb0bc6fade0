"""Two runs compared: their labels, one layout for both and the diff of their maps (the
part of a comparison a video, a deck and the viewer share; no drawing here)."""

from __future__ import annotations

from dataclasses import dataclass

from inkworm.errors import InputError
from inkworm.layout import Positions, layout
from inkworm.run import AutoConnect
from inkworm.topology import Topology
from inkworm.trace import Crash, Result, Trace
from inkworm.views import Edge, map_edges

SOURCES = {"beam": "recorded", "simulated": "simulated", "log": "from a log"}


@dataclass(frozen=True)
class Run:
    """One side of a comparison: a run, its topology and its label."""

    topology: Topology
    trace: Trace
    label: str
    """What tells this side from the other ("naive", "recorded", ...): captions, the diff."""

    @property
    def title(self) -> str:
        h = self.trace.header
        never = " · dist_auto_connect never" if h.auto_connect is AutoConnect.NEVER else ""
        return (f"{self.label}:  {h.graph or 'cluster'} · {h.mode.value} probe{never} · "
                f"{SOURCES.get(h.source.value, h.source.value)}")


def label_runs(a: tuple[Topology, Trace], b: tuple[Topology, Trace]) -> tuple[Run, Run]:
    """Label two runs by what differs between them: the mode, else the source, else the
    graph, else the launcher; "A" and "B" when nothing does. Refuses runs that share no node
    (nothing to align, nothing to compare)."""
    (ta, ra), (tb, rb) = a, b
    if not set(ta.nodes) & set(tb.nodes):
        raise InputError(f"--compare: {tb.source or 'the second run'} shares no node with "
                         f"{ta.source or 'the first'}: nothing to compare")
    ha, hb = ra.header, rb.header
    candidates = [
        (ha.mode.value, hb.mode.value),
        (SOURCES.get(ha.source.value, ha.source.value),
         SOURCES.get(hb.source.value, hb.source.value)),
        (_auto(ha.auto_connect), _auto(hb.auto_connect)),
        (ha.graph or "", hb.graph or ""),
        (f"from {ha.launch}", f"from {hb.launch}"),
    ]
    la, lb = next(((x, y) for x, y in candidates if x and y and x != y), ("A", "B"))
    return Run(ta, ra, la), Run(tb, rb, lb)


def _auto(value: AutoConnect | None) -> str:
    return f"auto-connect {value.value}" if value else ""


def shared_layout(a: Run, b: Run, layout_name: str, seed: int) -> Positions:
    """One layout for both chips: of the first run's topology, joined with the second's
    nodes and edges when they differ (a well sits at the same place on both sides)."""
    if set(a.topology.nodes) >= set(b.topology.nodes) and \
            a.topology.edge_set() >= b.topology.edge_set():
        return layout(a.topology, layout_name, seed)
    nodes = [*a.topology.nodes, *(n for n in b.topology.nodes if n not in a.topology.nodes)]
    edges = [*a.topology.edges, *(e for e in b.topology.edges
                                  if frozenset(e) not in a.topology.edge_set())]
    return layout(Topology.from_edges(edges, nodes), layout_name, seed)


def reported_edges(trace: Trace) -> set[Edge] | None:
    """The edges a run's map reports (``None``: it has no map)."""
    outcome = trace.outcome
    return map_edges(outcome.map) if isinstance(outcome, Result) else None


def diff_text(a: Run, b: Run) -> str:
    """The end of a comparison in one line: the edges only one of the maps reports."""
    ea, eb = reported_edges(a.trace), reported_edges(b.trace)

    def edges(items: set[Edge]) -> str:
        return " ".join(f"{x}\u2013{y}" for x, y in sorted(items)) or "none"

    def no_map(run: Run) -> str:
        outcome = run.trace.outcome
        if isinstance(outcome, Crash):
            return f"{run.label} has no map (the worm crashed)"
        return f"{run.label} has no map (the trace ends before one)"

    if ea is None and eb is None:
        return f"{no_map(a)}; {no_map(b)}"
    if ea is None or eb is None:
        with_map, without = (b, a) if ea is None else (a, b)
        return f"{no_map(without)}; {with_map.label}'s map has {len(ea or eb or ())} edges"
    if ea == eb:
        return f"both maps report the same {len(ea)} edges"
    return (f"edges only {a.label} reports: {edges(ea - eb)}   \u00b7   only {b.label} "
            f"reports: {edges(eb - ea)}")


def diff_edges(a: Run, b: Run) -> tuple[set[Edge], set[Edge]]:
    """(only in A's map, only in B's map); empty when either has no map."""
    ea, eb = reported_edges(a.trace), reported_edges(b.trace)
    if ea is None or eb is None:
        return set(), set()
    return ea - eb, eb - ea  # map_edges' pairs are sorted already
