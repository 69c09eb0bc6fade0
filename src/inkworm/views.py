"""Views over a trace's event stream: the run state at any event, and the views over it.

Like networkx's ``dfs_labeled_edges``, :func:`walk` is the one fold over the stream of typed
events: it yields each event with the run state after it (visited, call stack, connections the
run made, failures, the partial map). Every question about "who is on the stack at event N"
asks it (:func:`state_at`, :func:`states_at`, :func:`final_state`); the small views below (visit
order, DFS tree, result map, spurious edges) filter it or the stream. Node names in a trace are
matched to a DOT topology by :class:`NameMatcher` (exact name first, then the part before ``@``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inkworm.topology import Topology, load_dot
from inkworm.trace import (
    SCHEMA,
    Call,
    Connect,
    Crash,
    Disconnect,
    Error,
    Event,
    FieldType,
    Kill,
    Neighbors,
    NodeSet,
    ProbeEnd,
    ProbeStart,
    Result,
    Trace,
)

Edge = tuple[str, str]


def pair(a: str, b: str) -> Edge:
    """An undirected edge as its sorted pair: the one normal form of an edge in inkworm."""
    return (a, b) if a <= b else (b, a)


@dataclass
class RunState:
    """What a run has done up to (and including) one event.

    :func:`walk` yields one live object, updated in place after each event; keep a moment with
    :meth:`snapshot`.
    """

    visited: list[str] = field(default_factory=list)
    """Nodes whose probe started, in visit order."""
    stack: list[str] = field(default_factory=list)
    """Probes running, outermost (the launcher) first: the call stack. In a parallel run,
    every running probe's node in the order they started (a node twice when two of its
    probes run at once): the running tree, not one stack."""
    made: dict[Edge, None] = field(default_factory=dict)
    """Connections the run made (``connect`` events), each pair once, in order of appearance."""
    failures: list[Event] = field(default_factory=list)
    """``error``, ``disconnect``, ``kill`` and ``crash`` events so far."""
    seen: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """What ``nodes()`` returned on each probed node so far: the partial map."""
    killed: set[str] = field(default_factory=set)
    outcome: Result | Crash | None = None
    event: Event | None = None
    """The event this state follows (``None`` before the first)."""
    running: dict[str, str] = field(default_factory=dict)
    """A parallel run's running probes, path to node, in the order they started (empty for
    a sequential run, whose events name no probe)."""
    children: dict[tuple[str, str], str] = field(default_factory=dict)
    """A parallel run's calls: (caller's path, callee node) to the callee's path."""
    duplicates: int = 0
    """Probes started on a node already probed: a parallel run's duplicate work (in a
    sequential run, what ``check`` flags as ``probed-twice``)."""
    below: dict[str, int] = field(default_factory=dict, repr=False)
    """A parallel run's running probes counted under each path above them (a probe that
    ends with none running below it leaves the running tree at once, without a search)."""

    @property
    def active(self) -> str | None:
        """The node whose probe is working now (the top of the stack)."""
        return self.stack[-1] if self.stack else None

    def snapshot(self) -> RunState:
        """A copy that later events will not change."""
        return RunState(list(self.visited), list(self.stack), dict(self.made),
                        list(self.failures), dict(self.seen), set(self.killed), self.outcome,
                        self.event, dict(self.running), dict(self.children),
                        self.duplicates, dict(self.below))

    def advance(self, e: Event) -> None:
        """Apply one event (dispatched by its class: this runs once per event of a run)."""
        self.event = e
        apply = _ADVANCE.get(type(e))
        if apply is not None:
            apply(self, e)

    def _probe_start(self, e: ProbeStart) -> None:
        if e.node not in self.visited:
            self.visited.append(e.node)
        else:
            self.duplicates += 1
        self.stack.append(e.node)
        if e.probe is not None:
            if e.probe not in self.running:
                for above in _above(e.probe):
                    self.below[above] = self.below.get(above, 0) + 1
            self.running[e.probe] = e.node

    def _probe_end(self, e: ProbeEnd) -> None:
        if e.probe is not None:
            self._stop(e.probe)
        else:
            self._unwind(e.node)

    def _call(self, e: Call) -> None:
        if e.probe is not None and e.child is not None:
            self.children[(e.probe, e.to)] = e.child

    def _neighbors(self, e: Neighbors) -> None:
        self.seen[e.node] = e.nodes

    def _connect(self, e: Connect) -> None:
        self.made.setdefault(pair(e.node, e.peer), None)

    def _error(self, e: Error) -> None:
        self.failures.append(e)
        if e.probe is None:
            self._unwind(e.to)  # the callee's probe is lost with the call
        elif (e.probe, e.to) in self.children:
            self._stop(self.children[(e.probe, e.to)])

    def _disconnect(self, e: Disconnect) -> None:
        self.failures.append(e)

    def _kill(self, e: Kill) -> None:
        self.failures.append(e)
        self.killed.add(e.node)
        if e.node in self.stack:
            self.stack.remove(e.node)  # its callees are orphans: they keep walking

    def _crash(self, e: Crash) -> None:
        self.failures.append(e)
        self.outcome = e
        if e.probe is not None:
            self._stop(e.probe)
        elif e.node in self.stack:
            self.stack.remove(e.node)

    def _result(self, e: Result) -> None:
        self.outcome = e
        self.stack.clear()
        self.running.clear()
        self.below.clear()

    def _stop(self, path: str) -> None:
        """A parallel run's probe ``path`` is over (ended, or lost with its call): it and
        whatever it still had running leave the running tree."""
        if self.below.get(path):  # a failure: what it called may still run
            prefix = path + "."
            gone = [p for p in self.running if p == path or p.startswith(prefix)]
        else:  # the usual end: every probe it called has ended
            gone = [path] if path in self.running else []
        if gone:
            for p in gone:
                del self.running[p]
                for above in _above(p):
                    self.below[above] -= 1
            self.stack[:] = self.running.values()

    def _unwind(self, node: str) -> None:
        if node in self.stack:
            del self.stack[len(self.stack) - 1 - self.stack[::-1].index(node):]


def _above(path: str) -> Iterator[str]:
    """The paths above a probe's: its caller's, their caller's, ... up to the launcher's."""
    while "." in path:
        path = path.rpartition(".")[0]
        yield path


_ADVANCE: dict[type[Event], Any] = {
    ProbeStart: RunState._probe_start, ProbeEnd: RunState._probe_end, Call: RunState._call,
    Neighbors: RunState._neighbors, Connect: RunState._connect, Error: RunState._error,
    Disconnect: RunState._disconnect, Kill: RunState._kill, Crash: RunState._crash,
    Result: RunState._result,
}
"""What each event class changes in the run state (skip, load_binary and return change nothing
the state holds; a call only in a parallel run)."""


def walk(events: Iterable[Event] | Trace) -> Iterator[tuple[Event, RunState]]:
    """The one fold over a run: each event with the (live) run state after it."""
    stream = events.events if isinstance(events, Trace) else events
    state = RunState()
    for e in stream:
        state.advance(e)
        yield e, state


def final_state(events: Iterable[Event] | Trace) -> RunState:
    """The run state after the last event."""
    state = RunState()
    for _, state in walk(events):  # noqa: B007 - the last one is the answer
        pass
    return state


def states_at(events: Iterable[Event] | Trace, seqs: Iterable[int]) -> dict[int, RunState]:
    """Snapshots of the run state right after each event ``seq`` in ``seqs`` (one pass)."""
    wanted = set(seqs)
    found: dict[int, RunState] = {}
    for e, state in walk(events):
        if e.seq in wanted:
            found[e.seq] = state.snapshot()
    return found


def state_at(events: Iterable[Event] | Trace, seq: int) -> RunState | None:
    """The run state right after event ``seq`` (``None`` when the run has no such event)."""
    return states_at(events, (seq,)).get(seq)


def growth(events: Iterable[Event] | Trace) -> tuple[int, ...]:
    """How many connections the run had made by each visit: ``[k]`` while ``k + 1`` nodes
    were visited (the last: at the run's end). How the measurement's hairball grows."""
    series: list[int] = []
    for _, state in walk(events):
        if len(state.visited) > len(series):
            series += [len(state.made)] * (len(state.visited) - len(series))
        elif series:
            series[-1] = len(state.made)
    return tuple(series)


def visit_order(events: Iterable[Event] | Trace) -> list[str]:
    """Nodes in the order their probe started."""
    return final_state(events).visited


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
