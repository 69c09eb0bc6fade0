"""The one fold over a run's events: the run state after each event.

Like networkx's ``dfs_labeled_edges``, :func:`walk` is the one fold over the stream of typed
events: it yields each event with the run state after it (visited, call stack, connections the
run made, failures, the partial map, the orphans). Every question about "who is on the stack
at event N" asks it (:func:`state_at`, :func:`states_at`, :func:`final_state`); each event
class changes the state by its entry in a table (:data:`_ADVANCE`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from inkworm.trace import (
    Call,
    Connect,
    Crash,
    Disconnect,
    Error,
    Event,
    Kill,
    Neighbors,
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
    orphans: set[str] = field(default_factory=set)
    """What walks on cut off from the launcher, its answer going nowhere: nodes of a
    sequential run, probe paths of a parallel one (a killed caller's callees, the callee of a
    call that gave up, every probe still running when the worm failed; and in a sequential
    run, a probe an orphan starts; in a parallel run, a probe below an orphan's path,
    :meth:`is_orphan`)."""
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
                        self.duplicates, set(self.orphans), dict(self.below))

    def is_orphan(self, node: str, probe: str | None = None) -> bool:
        """Whether ``node``'s probe (in a parallel run, probe ``probe``, or one that called
        it) is cut off from the launcher."""
        if probe is None:
            return node in self.orphans
        while probe:
            if probe in self.orphans:
                return True
            probe = probe.rpartition(".")[0]
        return False

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
        elif e.probe is None and e.node in self.orphans:
            self.orphans.add(e.to)

    def _neighbors(self, e: Neighbors) -> None:
        self.seen[e.node] = e.nodes

    def _connect(self, e: Connect) -> None:
        self.made.setdefault(pair(e.node, e.peer), None)

    def _error(self, e: Error) -> None:
        self.failures.append(e)
        if e.probe is None:
            if e.to in self.stack:  # the call gave up: its callee walks on
                self.orphans.update(self.stack[self.stack.index(e.to):])
            self._unwind(e.to)  # the callee's probe is lost with the call
        elif (e.probe, e.to) in self.children:
            child = self.children[(e.probe, e.to)]
            if child in self.running:
                self.orphans.add(child)
            self._stop(child)

    def _disconnect(self, e: Disconnect) -> None:
        self.failures.append(e)

    def _kill(self, e: Kill) -> None:
        self.failures.append(e)
        self.killed.add(e.node)
        if self.running:  # what the killed node's probes called walks on
            for path in [p for p, node in self.running.items() if node == e.node]:
                self.orphans.update(p for p in self.running if p.startswith(path + "."))
        elif e.node in self.stack:
            self.orphans.update(self.stack[self.stack.index(e.node) + 1:])
        if e.node in self.stack:
            self.stack.remove(e.node)  # its callees are orphans: they keep walking

    def _crash(self, e: Crash) -> None:
        self.failures.append(e)
        self.outcome = e
        if e.probe is not None:  # every probe still running walks on
            self.orphans.update(p for p in self.running if p != e.probe)
        else:
            self.orphans.update(n for n in self.stack if n != e.node)
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
    """The one fold over a run: each event with the (live) run state after it.

    >>> from inkworm.topology import parse_dot
    >>> from inkworm.worm import simulate
    >>> trace = simulate(parse_dot("graph { a -- b; b -- c }"))
    >>> [list(state.stack) for e, state in walk(trace) if e.kind.value == "probe_start"]
    [['a'], ['a', 'b'], ['a', 'b', 'c']]
    """
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
