"""The parallel worm: the seed's ``:erpc.multicall`` idea, with its duplicate work.

A probe on node N that received ``visited``::

    probe_start, nodes()
    each neighbour in visited      -> skip
    the others, the targets T      -> :erpc.multicall(T, :code, :load_binary, ...)
                                      :erpc.multicall(T, run_probe, [bin, visited + N + T])
    when every target has answered -> one return (or error) per target, in T order;
                                      the map: %{N => nodes()} merged with each answer in T
                                      order (later wins)

Every target gets the same visited set (multicall sends the same arguments), so a node that
two branches reach at once is probed twice, perhaps by two probes running at the same time.
A probe is named by its path in the call tree: ``"0"`` for the launcher's, ``P.i`` for the
``i``-th target (1-based, in T order) of probe ``P``; every event a probe writes carries it.

Failures are those of the sequential model without faults: under ``naive`` with
``dist_auto_connect never`` a probe not adjacent to the launcher raises at its greeting. Its
caller records ``error`` once the multicall returns, in T order among the answers; a caller
that is not ``tolerant`` stops there (the targets after it in T order get neither ``return``
nor ``error``) and raises in turn, up to the launcher's ``crash``, with the sequential
model's reasons. ``tolerant`` records the error and goes on without that target.

Virtual time: each probe has its own clock; a multicall takes one latency whatever the number
of targets (its requests go out together), and returns when its slowest answer arrives. The run
is a discrete-event simulation: steps are taken earliest first, ties by probe path (a
caller before its callees, sibling 1 before sibling 2), so the trace is in time order and the
same inputs give the same trace. Naive connections are shared: a second probe greeting from a
node whose connection to the launcher is being set up waits for it (one ``connect`` a side).
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from inkworm.errors import InputError
from inkworm.run import AutoConnect, Faults, Mode
from inkworm.trace import (
    Call,
    Connect,
    Crash,
    Error,
    Event,
    LoadBinary,
    Neighbors,
    ProbeEnd,
    ProbeStart,
    Result,
    Return,
    Skip,
)
from inkworm.worm import NEVER_CONNECT_REASON, Latency

#: The most probes a parallel run may start before it is refused: duplicate work grows with
#: the cycles of the graph (a grid makes it explode), and a trace must stay writable.
MAX_PROBES = 100_000

SubMap = dict[str, tuple[str, ...]]


@dataclass(slots=True)
class _Probe:
    """One probe of the parallel worm: where it runs, what it received and gathered."""

    path: str
    key: tuple[int, ...]
    """The path as integers: the tie-break of steps at one instant."""
    node: str
    received: frozenset[str]
    parent: _Probe | None
    neighbors: tuple[str, ...] = ()
    fold: int = 0
    """How many of ``neighbors`` the fold has passed."""
    targets: list[str] = field(default_factory=list)
    children: list[_Probe] = field(default_factory=list)
    waiting: int = 0
    """Targets whose answer has not arrived."""
    answered_at: int = 0
    """When the latest answer arrived (the multicall returns then)."""
    sub: SubMap | None = None
    """The map it returned (``None`` until it ends, and for good when it failed)."""
    failure: str | None = None
    """What its caller's erpc raises (``None``: it has not failed)."""


class ParallelRun:
    """The parallel worm on ``peers`` (each node's ``nodes()``, mutated by naive connects)."""

    def __init__(self, peers: dict[str, list[str]], launch: str, mode: Mode,
                 auto_connect: AutoConnect, lat: Latency, faults: Faults | None) -> None:
        if faults is not None and (faults.kill or faults.timeout_ms is not None
                                   or faults.hang is not None):
            raise InputError("--strategy parallel takes --tolerant but not --kill, --timeout "
                             "or --hang (the model has them for the sequential worm only)")
        self.peers, self.launch, self.lat = peers, launch, lat
        self.naive, self.never = mode.prints_to_launcher, auto_connect is AutoConnect.NEVER
        self.tolerant = faults is not None and faults.tolerant
        self.events: list[Event] = []
        self.queue: list[tuple[int, tuple[int, ...], int, Callable[[int], None]]] = []
        self.counter = 0
        self.probes = 0
        self.connecting: dict[str, int] = {}
        """Nodes whose (naive) connection to the launcher is being set up: when it is up."""

    def run(self) -> list[Event]:
        root = _Probe("0", (0,), self.launch, frozenset(), None)
        self.at(0, root.key, lambda t: self.start(root, t))
        while self.queue:
            t, _, _, step = heapq.heappop(self.queue)
            step(t)
        for seq, event in enumerate(self.events):
            event.seq = seq
        return self.events

    def at(self, t: int, key: tuple[int, ...], step: Callable[[int], None]) -> None:
        """Take ``step`` at ``t`` (after the steps due earlier, and those of smaller key)."""
        self.counter += 1
        heapq.heappush(self.queue, (t, key, self.counter, step))

    # --- one probe's steps ------------------------------------------------------------------

    def start(self, p: _Probe, t: int) -> None:
        self.probes += 1
        if self.probes > MAX_PROBES:
            raise InputError(f"the parallel worm starts more than {MAX_PROBES:,} probes on "
                             "this graph (duplicate work grows with its cycles); refusing")
        self.events.append(ProbeStart(seq=0, t_us=t, node=p.node, probe=p.path,
                                      visited=p.received))
        self.at(t + self.lat.start, p.key, lambda t: self.greet(p, t))

    def greet(self, p: _Probe, t: int) -> None:
        """The probe's greeting (naive: on the launcher's group leader), then ``nodes()``."""
        node, launch = p.node, self.launch
        if not self.naive or node == launch or launch in self.peers[node]:
            self.list_neighbors(p, t)
            return
        if self.never:
            self.fail(p, t, NEVER_CONNECT_REASON)
            return
        up = self.connecting.get(node)
        if up is None:
            up = self.connecting[node] = t + self.lat.connect
            self.at(up, (), lambda t: self.connected(node, t))
        self.at(up, p.key, lambda t: self.list_neighbors(p, t))

    def connected(self, node: str, t: int) -> None:
        """``node``'s auto-connection to the launcher is up: both sides see it."""
        del self.connecting[node]
        for a, b in ((node, self.launch), (self.launch, node)):
            self.peers[a].append(b)
            self.events.append(Connect(seq=0, t_us=t, node=a, peer=b))

    def list_neighbors(self, p: _Probe, t: int) -> None:
        p.neighbors = tuple(self.peers[p.node])
        self.events.append(Neighbors(seq=0, t_us=t, node=p.node, probe=p.path,
                                     nodes=p.neighbors))
        p.targets = [n for n in p.neighbors if n not in p.received]
        self.at(t + self.lat.nodes, p.key, lambda t: self.fold(p, t))

    def fold(self, p: _Probe, t: int) -> None:
        """Skip the next visited neighbour; past the last one, fan out (or end)."""
        while p.fold < len(p.neighbors) and p.neighbors[p.fold] not in p.received:
            p.fold += 1
        if p.fold < len(p.neighbors):
            self.events.append(Skip(seq=0, t_us=t, node=p.node, probe=p.path,
                                    neighbor=p.neighbors[p.fold]))
            p.fold += 1
            self.at(t + self.lat.skip, p.key, lambda t: self.fold(p, t))
        elif p.targets:
            self.fan_out(p, t)
        else:
            self.end(p, t, {p.node: p.neighbors})

    def fan_out(self, p: _Probe, t: int) -> None:
        """The first multicall: the code to every target."""
        for to in p.targets:
            self.events.append(LoadBinary(seq=0, t_us=t, node=p.node, probe=p.path, to=to))
        self.at(t + self.lat.load, p.key, lambda t: self.call_all(p, t))

    def call_all(self, p: _Probe, t: int) -> None:
        """The second multicall: ``run_probe`` on every target, with the same visited set."""
        fan = p.received | {p.node, *p.targets}
        for i, to in enumerate(p.targets, start=1):
            child = _Probe(f"{p.path}.{i}", (*p.key, i), to, fan, p)
            p.children.append(child)
            self.events.append(Call(seq=0, t_us=t, node=p.node, probe=p.path, to=to,
                                    visited=fan, child=child.path))
        p.waiting = len(p.children)
        t += self.lat.call
        for child in p.children:
            self.at(t, child.key, functools.partial(self.start, child))

    def end(self, p: _Probe, t: int, sub: SubMap) -> None:
        p.sub = sub
        self.events.append(ProbeEnd(seq=0, t_us=t, node=p.node, probe=p.path,
                                    keys=frozenset(sub)))
        if p.parent is None:
            self.events.append(Result(seq=0, t_us=t, node=p.node, probe=p.path, map=sub))
        else:
            self.answer(p.parent, t + self.lat.call)

    def fail(self, p: _Probe, t: int, reason: str) -> None:
        """``p`` raised ``reason``: its caller's erpc raises it (the launcher: crash)."""
        p.failure = reason
        if p.parent is None:
            self.events.append(Crash(seq=0, t_us=t, node=p.node, probe=p.path, reason=reason))
        else:
            self.answer(p.parent, t + self.lat.call)

    def answer(self, p: _Probe, t: int) -> None:
        """One of ``p``'s targets answered at ``t``; the last one lets the multicall return."""
        p.waiting -= 1
        p.answered_at = max(p.answered_at, t)
        if p.waiting == 0:
            self.at(p.answered_at, p.key, lambda t: self.collect(p, t))

    def collect(self, p: _Probe, t: int) -> None:
        """The multicall returned: each target's answer in T order, then the merged map."""
        sub: SubMap = {p.node: p.neighbors}
        for child in p.children:
            if child.sub is not None:
                self.events.append(Return(seq=0, t_us=t, node=p.node, probe=p.path,
                                          callee=child.node, keys=frozenset(child.sub),
                                          child=child.path))
                sub.update(child.sub)
                continue
            assert child.failure is not None
            self.events.append(Error(seq=0, t_us=t, node=p.node, probe=p.path, to=child.node,
                                     reason=child.failure))
            if not self.tolerant:
                up = child.failure if p.parent is None else f"{{:exception, {child.failure}}}"
                self.fail(p, t, up)
                return
        self.end(p, t, sub)
