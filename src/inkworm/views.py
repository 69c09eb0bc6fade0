"""Views over a trace's event stream: the small views over the fold (:mod:`inkworm.fold`, the
run state at any event, named here too) and over the stream (DFS tree, result map, spurious
edges, names). Node names in a trace are
matched to a DOT topology by :class:`NameMatcher` (exact name first, then the part before ``@``).
"""

from __future__ import annotations

__all__ = [
    "DERIVED", "Edge", "NameMatcher", "RunState", "TopologyDiff", "connections",
    "derived_topology", "describe", "dfs_tree", "event_nodes", "final_state", "growth",
    "map_edges", "messages", "neighbor_lists", "pair", "relabelled", "renamed", "reported_map",
    "result_map", "state_at", "states_at", "topology_diff", "topology_of", "trace_nodes",
    "transcript", "visit_order", "walk",
]

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inkworm.fold import (
    Edge,
    RunState,
    final_state,
    growth,
    pair,
    state_at,
    states_at,
    visit_order,
    walk,
)
from inkworm.topology import Topology, load_dot
from inkworm.trace import (
    SCHEMA,
    Call,
    Event,
    FieldType,
    Neighbors,
    NodeSet,
    ProbeEnd,
    ProbeStart,
    Result,
    Return,
    Trace,
)


def dfs_tree(events: Iterable[Event]) -> list[Edge]:
    """The call edges (caller, callee) in call order: the worm's DFS tree."""
    return [(e.node, e.to) for e in events if isinstance(e, Call)]


def result_map(events: Iterable[Event]) -> dict[str, tuple[str, ...]] | None:
    """The worm's final answer (``None`` when the run crashed or was cut short)."""
    for e in events:
        if isinstance(e, Result):
            return dict(e.map)
    return None


def neighbor_lists(events: Iterable[Event]) -> dict[str, tuple[str, ...]]:
    """What ``nodes()`` returned on each probed node, in the runtime's order."""
    return {e.node: e.nodes for e in events if isinstance(e, Neighbors)}


def reported_map(events: Sequence[Event]) -> dict[str, tuple[str, ...]]:
    """The worm's answer: its result, or (crashed, cut short) what its probes reported."""
    result = result_map(events)
    return result if result is not None else neighbor_lists(events)


def connections(events: Iterable[Event] | Trace) -> list[Edge]:
    """Connections created during the run (``connect`` events), each pair once, sorted pair."""
    return list(final_state(events).made)


def messages(events: Sequence[Event]) -> list[tuple[int, int, str]]:
    """The run's messages as (send index, receive index, kind) into ``events``, in the order
    they arrive: each ``call`` to the probe start it leads to, each probe end to the
    ``return`` that hears its answer (a parallel run's by probe path, a sequential one's by
    node, the latest send of a key meeting the next receive of it)."""
    calls: dict[str, int] = {}
    ends: dict[str, int] = {}
    out: list[tuple[int, int, str]] = []
    for i, e in enumerate(events):
        if isinstance(e, Call):
            calls[e.child or e.to] = i
        elif isinstance(e, ProbeStart) and (e.probe or e.node) in calls:
            out.append((calls.pop(e.probe or e.node), i, "call"))
        elif isinstance(e, ProbeEnd):
            ends[e.probe or e.node] = i
        elif isinstance(e, Return) and (e.child or e.callee) in ends:
            out.append((ends.pop(e.child or e.callee), i, "return"))
    return out


def map_edges(result: Mapping[str, Iterable[str]]) -> set[Edge]:
    """The undirected edges a result map claims, as sorted pairs."""
    return {pair(node, peer) for node, peers in result.items() for peer in peers if peer != node}


class NameMatcher:
    """Matches trace node names to topology names: exact first, then before-``@`` if unique."""

    def __init__(self, topology_nodes: Iterable[str]) -> None:
        self.nodes = set(topology_nodes)
        short: dict[str, list[str]] = {}
        for n in self.nodes:
            short.setdefault(n.split("@", 1)[0], []).append(n)
        self._short = {k: v[0] for k, v in short.items() if len(v) == 1}

    def __call__(self, name: str) -> str | None:
        if name in self.nodes:
            return name
        return self._short.get(name.split("@", 1)[0])


@dataclass(frozen=True)
class TopologyDiff:
    """A worm's answer compared with the true topology (names as in the topology)."""

    spurious: list[Edge]
    """Edges in the result, not in the graph (the measurement created them)."""
    missing: list[Edge]
    """Edges of the graph between reached nodes that the result does not report."""
    unreached: list[str]
    """Graph nodes the worm never reached (other component, node down)."""
    unknown: list[str]
    """Trace nodes that match no graph node."""

    @property
    def exact(self) -> bool:
        return not (self.spurious or self.missing or self.unreached or self.unknown)


def topology_diff(trace: Trace, topology: Topology) -> TopologyDiff:
    """Compare the trace's result (or, if it has none, what its probes saw) with ``topology``."""
    match = NameMatcher(topology.nodes)
    reported = reported_map(trace.events)
    names = {n for n in trace_nodes(trace)}
    unknown = sorted(n for n in names if match(n) is None)
    claimed = {pair(*(match(x) or x for x in e)) for e in map_edges(reported)}
    reached = {match(n) or n for n in visit_order(trace.events)} | {
        match(n) or n for n in reported}
    truth = {pair(*e) for e in topology.edges}
    return TopologyDiff(
        spurious=sorted(claimed - truth),
        missing=sorted(e for e in truth - claimed if e[0] in reached and e[1] in reached),
        unreached=[n for n in topology.nodes if n not in reached],
        unknown=unknown,
    )


def event_nodes(e: Event) -> list[str]:
    """Every node name one event mentions: its node, the other nodes it names, the names in
    its node lists and sets, and the result map's."""
    names = [e.node, *e.others()]
    for attr in ("nodes", "visited", "keys"):
        names += getattr(e, attr, ())
    if isinstance(e, Result):
        for node, peers in e.map.items():
            names += [node, *peers]
    return names


def trace_nodes(trace: Trace) -> list[str]:
    """Every node name the trace mentions, first mention first.

    A visited set or a subtree's keys that is a slice of a shared visit order
    (:class:`~inkworm.trace.NodeSet`) is read only past the part of that order already read:
    a sequential worm's visited sets are ever longer prefixes of it, so reading them whole
    was quadratic (0.2 s of a 1,000-node render, twice)."""
    seen: dict[str, None] = {trace.header.launch: None}
    add = seen.setdefault
    read: dict[int, int] = {}
    """Per shared order (by identity): how far from its start it was read."""
    for e in trace.events:
        add(e.node)
        for name in e.others():
            add(name)
        for attr in ("nodes", "visited", "keys"):
            names = getattr(e, attr, ())
            if isinstance(names, NodeSet):
                order, lo, hi = names.span
                done = read.get(id(order), 0)
                if lo <= done:  # [lo, done) was read: the rest, and the prefix grows
                    names = order[done:hi] if hi > done else ()
                    read[id(order)] = max(done, hi)
            for name in names:
                add(name)
        if isinstance(e, Result):
            for node, peers in e.map.items():
                add(node)
                for name in peers:
                    add(name)
    return list(seen)


def renamed(trace: Trace, topology: Topology) -> Trace:
    """The trace with every node name as ``topology`` spells it, matched once here
    (:class:`NameMatcher`); names that match nothing stay as they are. The same trace when
    every name already matches exactly (a simulated run)."""
    match = NameMatcher(topology.nodes)
    return relabelled(trace, {n: match(n) or n for n in trace_nodes(trace)})


def relabelled(trace: Trace, names: Mapping[str, str]) -> Trace:
    """The trace with every node name ``n`` as ``names[n]`` (every name of the trace must be
    a key); the same trace when nothing changes."""
    if all(k == v for k, v in names.items()):
        return trace

    def convert(kind: FieldType, value: Any) -> Any:
        if kind is FieldType.NODE:
            return names[value]
        if kind is FieldType.NODES:
            return tuple(names[n] for n in value)
        if kind is FieldType.SET:
            return frozenset(names[n] for n in value)
        if kind is FieldType.MAP:
            return {names[k]: tuple(names[n] for n in v) for k, v in value.items()}
        return value

    events = [dataclasses.replace(e, node=names[e.node], **{
        f.attr: convert(f.type, getattr(e, f.attr)) for f in SCHEMA[e.kind]})
        for e in trace.events]
    header = dataclasses.replace(trace.header, launch=names.get(trace.header.launch,
                                                                trace.header.launch))
    return Trace(header, events, trace.path)


def describe(e: Event) -> str:
    """One event as a short line: ``b call d [a,b,c]``, ``d neighbors [b,e,f,a]``."""

    def nodes(items: Iterable[str], keep_order: bool = False) -> str:
        return "[" + ",".join(items if keep_order else sorted(items)) + "]"

    detail = ""
    if isinstance(e, ProbeStart):
        detail = nodes(e.visited)
    elif isinstance(e, Neighbors):
        detail = nodes(e.nodes, keep_order=True)
    elif isinstance(e, Call):
        detail = f"{e.to} {nodes(e.visited)}"
    elif isinstance(e, Result):
        detail = " ".join(f"{k}:{nodes(v, keep_order=True)}" for k, v in sorted(e.map.items()))
    else:
        parts = list(e.others())
        parts += [nodes(e.keys)] if hasattr(e, "keys") else []
        parts += [e.reason] if hasattr(e, "reason") else []
        detail = " ".join(parts)
    return f"{e.node} {e.kind.value}" + (f" {detail}" if detail else "")


def transcript(events: Iterable[Event]) -> list[str]:
    """Every event as :func:`describe` gives it: compare whole runs in tests."""
    return [describe(e) for e in events]


DERIVED = "derived"
"""The name of a topology :func:`derived_topology` read off a run (no DOT file was given)."""


def derived_topology(trace: Trace) -> Topology:
    """The cluster as it was before the run, from the trace alone.

    Every ``nodes()`` list (or the result map) gives edges; connections the run itself made
    (``connect`` events) are taken out. Nodes are listed in visit order.
    """
    reported = reported_map(trace.events)
    made = set(connections(trace.events))
    edges = sorted(e for e in map_edges(reported) if e not in made)
    nodes = list(dict.fromkeys([*visit_order(trace.events), *reported]))
    return Topology.from_edges(edges, nodes or [trace.header.launch], name=DERIVED)


def topology_of(trace: Trace, near: Path | None = None) -> Topology:
    """The topology a trace was made on: the DOT file its header names, beside ``near`` (the
    trace file; only the file name is used, never a path from inside the file), else
    :func:`derived_topology`. Give the DOT file explicitly where it lives elsewhere."""
    if trace.header.graph and near is not None:
        candidate = near.parent / Path(trace.header.graph).name
        if candidate.is_file():
            return load_dot(candidate)
    return derived_topology(trace)
