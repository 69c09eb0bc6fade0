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

Failures: a target whose multicall answer is an error records ``error`` once the multicall
returns, in T order among the answers (a failed load: right after the loads, and that target
is not called); a caller that is not ``tolerant`` stops at the first (the targets after it get
neither ``return`` nor ``error``) and raises in turn, up to the launcher's ``crash``, with the
sequential model's reasons. ``tolerant`` records the error and goes on without that target.
What fails (:class:`~inkworm.run.Faults`, as in :mod:`inkworm.worm.faults`):

* ``naive`` under ``dist_auto_connect never``: a probe not adjacent to the launcher raises at
  its greeting;
* ``kill``: right after OTHER's first probe starts, NODE stops: its peers see it go down, every
  probe running on it dies (its caller hears ``{:erpc, :noconnection}`` at once), what those
  probes called walks on, orphaned (its answers go nowhere), and a later load on NODE fails;
* ``timeout_ms``: each multicall gives up that long after it went out; targets unanswered
  then are ``{:erpc, :timeout}`` and walk on, orphaned;
* ``hang``: every probe on that node stalls for good right after it starts.

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
    Disconnect,
    Error,
    Event,
    Kill,
    LoadBinary,
    Neighbors,
    ProbeEnd,
    ProbeStart,
    Result,
    Return,
    Skip,
)
from inkworm.worm.model import (
    NEVER,
    NEVER_CONNECT_REASON,
    NOCONNECTION_REASON,
    NODEDOWN_REASON,
    TIMEOUT_REASON,
    Latency,
)

#: The most probes a parallel run may start before it is refused: duplicate work grows with
#: the cycles of the graph (a grid makes it explode), and a trace must stay writable.
MAX_PROBES = 100_000

SubMap = dict[str, tuple[str, ...]]
#: The tie-break key of a multicall's deadline: after every step of the probe and its callees
#: at that instant (an answer arriving right at the deadline is in time, as in the sequential
#: model).
_LAST = 1 << 62


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
    """The probes its calls started, in T order (a target whose load failed has none)."""
    pending: set[str] = field(default_factory=set)
    """Paths of the children whose answer the running multicall still waits for."""
    heard: dict[str, str | None] = field(default_factory=dict)
    """Each child's answer: ``None`` for its map, else the reason its call failed."""
    sub: SubMap | None = None
    """The map it returned (``None`` until it ends, and for good when it failed)."""
    done: bool = False
    """Ended, failed or killed: it takes no more steps and hears no more answers."""


class ParallelRun:
    """The parallel worm on ``peers`` (each node's ``nodes()``, changed by naive connects and
    kills)."""

    def __init__(self, peers: dict[str, list[str]], launch: str, mode: Mode,
                 auto_connect: AutoConnect, lat: Latency, faults: Faults | None) -> None:
        self.peers, self.launch, self.lat = peers, launch, lat
        self.naive, self.never = mode.prints_to_launcher, auto_connect is AutoConnect.NEVER
        self.faults = faults or Faults()
        self.timeout = (self.faults.timeout_ms * 1000 if self.faults.timeout_ms is not None
                        else NEVER)
        self.events: list[Event] = []
        self.queue: list[tuple[int, tuple[int, ...], int, _Probe | None,
                               Callable[[int], None]]] = []
        self.counter = 0
        self.probes = 0
        self.connecting: dict[str, int] = {}
        """Nodes whose (naive) connection to the launcher is being set up: when it is up."""
        self.running: dict[str, list[_Probe]] = {}
        """The probes started and not done on each node."""
        self.dead: set[str] = set()

    def run(self) -> list[Event]:
        root = _Probe("0", (0,), self.launch, frozenset(), None)
        self.at(0, root, lambda t: self.start(root, t))
        while self.queue:
            t, _, _, probe, step = heapq.heappop(self.queue)
            if probe is None or not probe.done:
                step(t)
        for seq, event in enumerate(self.events):
            event.seq = seq
        return self.events

    def at(self, t: int, probe: _Probe | None, step: Callable[[int], None],
           key: tuple[int, ...] | None = None) -> None:
        """Take ``step`` at ``t`` (after the steps due earlier, and those of smaller key),
        unless ``probe`` is done by then."""
        self.counter += 1
        order = key if key is not None else probe.key if probe is not None else ()
        heapq.heappush(self.queue, (t, order, self.counter, probe, step))

    # --- one probe's steps ------------------------------------------------------------------

    def start(self, p: _Probe, t: int) -> None:
        if p.node in self.dead:  # the call was on its way when the node stopped
            self.finish(p, t, None, NOCONNECTION_REASON, at_once=True)
            return
        self.probes += 1
        if self.probes > MAX_PROBES:
            raise InputError(f"the parallel worm starts more than {MAX_PROBES:,} probes on "
                             "this graph (duplicate work grows with its cycles); refusing")
        self.events.append(ProbeStart(seq=0, t_us=t, node=p.node, probe=p.path,
                                      visited=p.received))
        self.running.setdefault(p.node, []).append(p)
        kill = self.faults.kill
        if kill is not None and kill.after == p.node and kill.victim not in self.dead:
            self.kill(kill.victim, t)
        if p.node != self.faults.hang:  # a hung probe stalls for good
            self.at(t + self.lat.start, p, lambda t: self.greet(p, t))

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
            self.at(up, None, lambda t: self.connected(node, t))
        self.at(up, p, lambda t: self.list_neighbors(p, t))

    def connected(self, node: str, t: int) -> None:
        """``node``'s auto-connection to the launcher is up: both sides see it."""
        del self.connecting[node]
        if node in self.dead:
            return
        for a, b in ((node, self.launch), (self.launch, node)):
            self.peers[a].append(b)
            self.events.append(Connect(seq=0, t_us=t, node=a, peer=b))

    def list_neighbors(self, p: _Probe, t: int) -> None:
        p.neighbors = tuple(self.peers[p.node])
        self.events.append(Neighbors(seq=0, t_us=t, node=p.node, probe=p.path,
                                     nodes=p.neighbors))
        p.targets = [n for n in p.neighbors if n not in p.received]
        self.at(t + self.lat.nodes, p, lambda t: self.fold(p, t))

    def fold(self, p: _Probe, t: int) -> None:
        """Skip the next visited neighbour; past the last one, fan out (or end)."""
        while p.fold < len(p.neighbors) and p.neighbors[p.fold] not in p.received:
            p.fold += 1
        if p.fold < len(p.neighbors):
            self.events.append(Skip(seq=0, t_us=t, node=p.node, probe=p.path,
                                    neighbor=p.neighbors[p.fold]))
            p.fold += 1
            self.at(t + self.lat.skip, p, lambda t: self.fold(p, t))
        elif p.targets:
            self.fan_out(p, t)
        else:
            self.end(p, t, {p.node: p.neighbors})

    def fan_out(self, p: _Probe, t: int) -> None:
        """The first multicall: the code to every target."""
        for to in p.targets:
            self.events.append(LoadBinary(seq=0, t_us=t, node=p.node, probe=p.path, to=to))
        late = self.lat.load > self.timeout
        back = t + (self.timeout if late else self.lat.load)
        self.at(back, p, lambda t: self.loaded(p, t, late))

    def loaded(self, p: _Probe, t: int, late: bool) -> None:
        """The loads are back: a failed one is an error (a stopped node, or too late)."""
        callees = []
        for to in p.targets:
            reason = (NOCONNECTION_REASON if to in self.dead
                      else TIMEOUT_REASON if late else None)
            if reason is None:
                callees.append(to)
                continue
            self.events.append(Error(seq=0, t_us=t, node=p.node, probe=p.path, to=to,
                                     reason=reason))
            if not self.faults.tolerant:
                self.fail(p, t, self.raised(p, reason))
                return
        if callees:
            self.call_all(p, t, callees)
        else:
            self.end(p, t, {p.node: p.neighbors})

    def call_all(self, p: _Probe, t: int, callees: list[str]) -> None:
        """The second multicall: ``run_probe`` on every target loaded, with the visited set
        at fan-out (every target in it)."""
        fan = p.received | {p.node, *p.targets}
        for to in callees:
            i = p.targets.index(to) + 1
            child = _Probe(f"{p.path}.{i}", (*p.key, i), to, fan, p)
            p.children.append(child)
            p.pending.add(child.path)
            self.events.append(Call(seq=0, t_us=t, node=p.node, probe=p.path, to=to,
                                    visited=fan, child=child.path))
        for child in p.children:
            self.at(t + self.lat.call, child, functools.partial(self.start, child))
        if self.timeout < NEVER:
            self.at(t + self.timeout, p, lambda t: self.give_up(p, t), (*p.key, _LAST))

    def arrive(self, p: _Probe, child: _Probe, failure: str | None, t: int) -> None:
        """``child``'s answer reaches ``p``: heard if the multicall still waits for it."""
        if child.path not in p.pending:
            return  # it gave up on it: the answer goes nowhere
        p.pending.discard(child.path)
        p.heard[child.path] = failure
        if not p.pending:
            self.collect(p, t)

    def give_up(self, p: _Probe, t: int) -> None:
        """The multicall's timeout: every target still unanswered is ``{:erpc, :timeout}``."""
        if p.pending:
            p.heard.update(dict.fromkeys(p.pending, TIMEOUT_REASON))
            p.pending.clear()
            self.collect(p, t)

    def collect(self, p: _Probe, t: int) -> None:
        """The multicall returned: each target's answer in T order, then the merged map."""
        sub: SubMap = {p.node: p.neighbors}
        for child in p.children:
            failure = p.heard[child.path]
            if failure is None:
                assert child.sub is not None
                self.events.append(Return(seq=0, t_us=t, node=p.node, probe=p.path,
                                          callee=child.node, keys=frozenset(child.sub),
                                          child=child.path))
                sub.update(child.sub)
                continue
            self.events.append(Error(seq=0, t_us=t, node=p.node, probe=p.path, to=child.node,
                                     reason=failure))
            if not self.faults.tolerant:
                self.fail(p, t, self.raised(p, failure))
                return
        self.end(p, t, sub)

    def raised(self, p: _Probe, reason: str) -> str:
        """What ``p`` raises when its call failed with ``reason``: what its caller's erpc
        sees, ``{:exception, reason}``; the launcher's crash keeps the reason itself."""
        return reason if p.parent is None else f"{{:exception, {reason}}}"

    def end(self, p: _Probe, t: int, sub: SubMap) -> None:
        p.sub = sub
        self.events.append(ProbeEnd(seq=0, t_us=t, node=p.node, probe=p.path,
                                    keys=frozenset(sub)))
        if p.parent is None:
            self.events.append(Result(seq=0, t_us=t, node=p.node, probe=p.path, map=sub))
        self.finish(p, t, sub, None)

    def fail(self, p: _Probe, t: int, reason: str) -> None:
        """``p`` raised ``reason``: its caller's erpc raises it (the launcher: crash)."""
        if p.parent is None:
            self.events.append(Crash(seq=0, t_us=t, node=p.node, probe=p.path, reason=reason))
        self.finish(p, t, None, reason)

    def finish(self, p: _Probe, t: int, sub: SubMap | None, failure: str | None,
               at_once: bool = False) -> None:
        """``p`` is done: its answer (a map, or a failure) goes back to its caller, one hop
        later (``at_once``: its node is gone, and the caller's erpc sees it now)."""
        p.done = True
        if p in self.running.get(p.node, ()):
            self.running[p.node].remove(p)
        parent = p.parent
        if parent is not None:
            back = t if at_once else t + self.lat.call
            self.at(back, parent, lambda t: self.arrive(parent, p, failure, t))

    def kill(self, victim: str, t: int) -> None:
        """Stop ``victim`` at ``t``: its peers see it go down, its running probes die with it
        (each caller hears ``{:erpc, :noconnection}`` now), what they called walks on."""
        self.events.append(Kill(seq=0, t_us=t, node=victim))
        self.dead.add(victim)
        for peer in self.peers.pop(victim, []):
            self.peers[peer] = [n for n in self.peers[peer] if n != victim]
            if peer not in self.dead:
                self.events.append(Disconnect(seq=0, t_us=t, node=peer, peer=victim,
                                              reason=NODEDOWN_REASON))
        self.peers[victim] = []
        for p in list(self.running.pop(victim, [])):
            self.finish(p, t, None, NOCONNECTION_REASON, at_once=True)


def run(peers: dict[str, list[str]], launch: str, mode: Mode, auto_connect: AutoConnect,
        lat: Latency, faults: Faults | None) -> list[Event]:
    """The parallel worm's events (:class:`ParallelRun`)."""
    return ParallelRun(peers, launch, mode, auto_connect, lat, faults).run()
