"""Stage 2: the worm model, a simulator of the seed's probe that emits trace v1 events.

It reproduces the seed's ``run_probe``/``traverse``/``visit`` exactly::

    run_probe(binary, visited)        # IO.puts "Hello from ..." (naive: to the launcher's GL)
      traverse: nodes() then a left fold over them
        neighbour in visited  -> skip
        otherwise             -> visit: :erpc load_binary, then :erpc run_probe(binary, visited)
                                 merge the sub-map, add its keys to visited

The DFS is sequential, so every ``visited`` set is a prefix of the visit order and every
returned key set a contiguous slice of it; events share one order list (:class:`NodeSet`),
which keeps a 100,000-node run linear in time and memory.

Modes (``shared/trace-v1.md``):

* ``fixed``: each probe resets its group leader to its local ``init``; the true topology comes
  back.
* ``naive``: the probe's output goes to the launcher's group leader, so a probed node not yet
  connected to the launcher connects to it right after its probe starts and before its
  ``nodes()`` call; both sides append the new peer and report ``connect``. The connection stays.
  With ``auto_connect=never`` that output fails instead: the probe raises at the first node not
  adjacent to the launcher and the failure propagates up to the launcher (``error`` on every
  caller, ``crash`` on the launcher), as the real BEAM does.

Faults (:class:`~inkworm.run.Faults`, the recorder's ``--kill NODE --after OTHER`` and
``--tolerant``) run on a second engine, :class:`_FaultRun`: the kill can leave a branch of the
walk running on its own (an orphan), so the run is a set of walkers (call stacks), each with
its own clock, the earliest stepped first, one event a step. A kill, right after OTHER's probe
starts, takes NODE out of every ``nodes()`` (each peer records ``disconnect``) and:

* NODE not reached: the walk never calls it (a partial map, as on the real BEAM); a probe that
  listed it before it died fails to load it (``error`` with ``{:erpc, :noconnection}``);
* NODE running (on the stack): its caller's erpc raises ``{:erpc, :noconnection}``, which rises
  to the launcher (``crash``, no map); the probes NODE was calling keep walking, orphaned, and
  their answer goes nowhere (the recorder loses their events; the model shows them).

With ``tolerant`` each failed call is an ``error`` and the caller goes on with its next
neighbour. With ``timeout_ms`` every erpc call has a deadline: a call still unanswered then
raises ``{:erpc, :timeout}`` in its caller, and the callee's branch walks on as an orphan
(erpc abandons the request, it does not stop the remote process); ``hang`` stalls one probe for
good right after it starts, so that the deadlines below it pass (the outermost first).

Virtual time comes from a deterministic :class:`Latency` model.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Literal

from inkworm.errors import InputError, gc_paused
from inkworm.run import AutoConnect, Faults, Mode, RunSpec
from inkworm.topology import Topology
from inkworm.trace import (
    Call,
    Connect,
    Crash,
    Disconnect,
    Error,
    Event,
    Header,
    Kill,
    LoadBinary,
    Neighbors,
    NodeSet,
    ProbeEnd,
    ProbeStart,
    Result,
    Return,
    Skip,
    Source,
    Trace,
)

#: What the caller's erpc raises when a naive probe's output cannot reach the launcher's group
#: leader under ``dist_auto_connect never`` (observed on OTP 25 by the recorder).
NEVER_CONNECT_REASON = "{:exception, :terminated}"
#: What an erpc call to a node that is gone raises (the recorder's ``--kill``, OTP 25).
NOCONNECTION_REASON = "{:erpc, :noconnection}"
#: The ``nodedown_reason`` each peer of a stopped node records.
NODEDOWN_REASON = ":connection_closed"
#: What an erpc call raises when its timeout passes.
TIMEOUT_REASON = "{:erpc, :timeout}"
#: The clock of a walker that will never step again (a hung probe).
_NEVER = 1 << 62


#: The longest step of the latency model: 1,000 s (a run's clock stays far inside ``t_us``'s
#: 64 bits, which the reader requires).
MAX_LATENCY_US = 10**9


@dataclass(frozen=True)
class Latency:
    """Virtual durations in microseconds; the defaults are of the order of a local cluster.

    ``call``: one erpc hop (request or reply); ``load``: shipping and loading the probe's object
    code (``:code.load_binary`` over erpc, round trip); ``start``: a probe's start-up (its
    ``IO.puts``); ``nodes``: ``:erlang.nodes()``; ``skip``: passing over a visited neighbour;
    ``connect``: an auto-connect handshake (naive mode).
    """

    call: int = 400
    load: int = 1200
    start: int = 60
    nodes: int = 15
    skip: int = 5
    connect: int = 900

    @classmethod
    def parse(cls, spec: str) -> Latency:
        """``"call=400,load=1200"`` → a :class:`Latency` with those fields changed."""
        names = {f.name for f in fields(cls)}
        values: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key, sep, raw = item.partition("=")
            if not sep or key not in names or not re.fullmatch(r"[0-9]{1,10}", raw) \
                    or int(raw) > MAX_LATENCY_US:
                raise InputError(f"bad latency '{item}': expected NAME=MICROSECONDS with NAME "
                                 f"in {', '.join(sorted(names))} and at most "
                                 f"{MAX_LATENCY_US:,} microseconds")
            values[key] = int(raw)
        return cls(**values)


@dataclass(slots=True)
class _Frame:
    """One running probe: its node, its ``nodes()`` snapshot and its place in the fold."""

    node: str
    start: int
    """Index of the node in the visit order (its subtree is ``order[start:]`` when done)."""
    neighbors: tuple[str, ...] | None = None
    """``None`` until the probe has called ``nodes()``."""
    i: int = 0


def simulate(topology: Topology, spec: RunSpec | None = None,
             latency: Latency | None = None, faults: Faults | None = None) -> Trace:
    """Run the worm model on ``topology`` as ``spec`` says (with ``faults``, if any), and
    return its trace."""
    spec = spec or RunSpec()
    mode, edge_order, auto_connect = spec.mode, spec.edge_order, spec.auto_connect
    launch = spec.launch if spec.launch is not None else topology.nodes[0]
    if launch not in topology.nodes:
        raise InputError(f"launch node '{launch}' is not in the graph",
                         topology.path or topology.source)
    _check_faults(topology, launch, faults)
    lat = latency or Latency()
    header = Header(
        launch=launch,
        mode=mode,
        source=Source.SIMULATED,
        graph=topology.source,
        edge_order=edge_order,
        auto_connect=auto_connect,
        meta={"simulator": "inkworm", "latency_us": dict(vars(lat)), **_fault_meta(faults)},
    )
    with gc_paused():
        peers = topology.peers(edge_order)
        events = (_run(peers, launch, mode, auto_connect, lat) if faults is None
                  else _FaultRun(peers, launch, mode, auto_connect, lat, faults).run())
    return Trace(header, events)


def _check_faults(topology: Topology, launch: str, faults: Faults | None) -> None:
    """Refuse a fault the run cannot have, as the recorder does."""
    if faults is None:
        return
    if faults.hang is not None:
        if faults.hang not in topology.nodes:
            raise InputError(f"node {faults.hang!r} is not in the graph",
                             topology.path or topology.source)
        if faults.hang == launch:
            raise InputError(f"--hang {launch}: the launch node cannot hang (no call to it "
                             "could time out)")
        if faults.timeout_ms is None:
            raise InputError(f"--hang {faults.hang} needs --timeout (else the worm waits "
                             "for ever)")
    if faults.timeout_ms is not None and not 0 < faults.timeout_ms < 2**32:
        raise InputError(f"timeout {faults.timeout_ms} ms: expected 1 to {2**32 - 1}")
    kill = faults.kill
    if kill is None:
        return
    if kill.victim == launch:
        raise InputError(f"--kill {launch}: the launch node cannot be killed (it writes "
                         "the trace)")
    for node in (kill.victim, kill.after):
        if node not in topology.nodes:
            raise InputError(f"node {node!r} is not in the graph",
                             topology.path or topology.source)


def _fault_meta(faults: Faults | None) -> dict[str, object]:
    """The header's record of the faults, in the recorder's words (``kills``, ``tolerant``)."""
    if faults is None:
        return {}
    kills = [{"node": faults.kill.victim, "after": faults.kill.after}] if faults.kill else []
    meta: dict[str, object] = {"kills": kills, "tolerant": faults.tolerant,
                               "timeout_ms": faults.timeout_ms}
    if faults.hang is not None:
        meta["hang"] = faults.hang
    return meta


def _run(
    peers: dict[str, list[str]],
    launch: str,
    mode: Mode,
    auto_connect: AutoConnect,
    lat: Latency,
) -> list[Event]:
    """The seed's recursion as a loop over an explicit stack (no depth limit)."""
    events: list[Event] = []
    emit = events.append
    order: list[str] = []
    pos: dict[str, int] = {}
    snapshots: dict[str, tuple[str, ...]] = {}
    naive = mode is Mode.NAIVE
    t = 0
    # The launcher's probe starts with an empty visited set.
    emit(ProbeStart(seq=0, t_us=t, node=launch, visited=NodeSet(order, pos, 0, 0)))
    t += lat.start
    pos[launch] = 0
    order.append(launch)
    stack = [_Frame(launch, 0)]
    while stack:
        frame = stack[-1]
        node = frame.node
        neighbors = frame.neighbors
        if neighbors is None:
            # Start of traverse: the naive probe's "Hello from" output goes to the launcher.
            if naive and node != launch and launch not in peers[node]:
                if auto_connect is AutoConnect.NEVER:
                    events += _propagate_failure(stack, len(events), t, lat,
                                                 NEVER_CONNECT_REASON)
                    return events
                t += lat.connect
                for a, b in ((node, launch), (launch, node)):
                    peers[a].append(b)
                    emit(Connect(seq=len(events), t_us=t, node=a, peer=b))
            neighbors = frame.neighbors = snapshots[node] = tuple(peers[node])
            emit(Neighbors(seq=len(events), t_us=t, node=node, nodes=neighbors))
            t += lat.nodes
        if frame.i < len(neighbors):
            neighbor = neighbors[frame.i]
            frame.i += 1
            if neighbor in pos:
                emit(Skip(seq=len(events), t_us=t, node=node, neighbor=neighbor))
                t += lat.skip
                continue
            emit(LoadBinary(seq=len(events), t_us=t, node=node, to=neighbor))
            t += lat.load
            visited = NodeSet(order, pos, 0, len(order))
            emit(Call(seq=len(events), t_us=t, node=node, to=neighbor, visited=visited))
            t += lat.call
            emit(ProbeStart(seq=len(events), t_us=t, node=neighbor, visited=visited))
            t += lat.start
            pos[neighbor] = len(order)
            stack.append(_Frame(neighbor, len(order)))
            order.append(neighbor)
            continue
        # The fold is over: this probe returns its sub-map to its caller.
        stack.pop()
        keys = NodeSet(order, pos, frame.start, len(order))
        emit(ProbeEnd(seq=len(events), t_us=t, node=node, keys=keys))
        if stack:
            t += lat.call
            emit(Return(seq=len(events), t_us=t, node=stack[-1].node, callee=node,
                          keys=keys))
    emit(Result(seq=len(events), t_us=t, node=launch,
                map={n: snapshots[n] for n in order}))
    return events


def _propagate_failure(stack: list[_Frame], seq: int, t: int, lat: Latency,
                       reason: str) -> Iterator[Event]:
    """The probe on top of the stack raised: every caller's erpc raises in turn.

    The caller of the failing probe sees ``reason``; each caller above sees the exception of
    the probe below it, ``{:exception, <its reason>}`` (as the recorder observes on OTP 25),
    and the launcher's ``crash`` carries what its own call raised.
    """
    failed = stack.pop().node
    while stack:
        t += lat.call
        caller = stack.pop().node
        yield Error(seq=seq, t_us=t, node=caller, to=failed, reason=reason)
        seq += 1
        failed = caller
        if stack:
            reason = f"{{:exception, {reason}}}"
    yield Crash(seq=seq, t_us=t, node=failed, reason=reason)


# --- the fault engine ----------------------------------------------------------------------

@dataclass(slots=True)
class _Probe:
    """One running probe of a faulty run: what it received and the map it has gathered."""

    node: str
    received: frozenset[str]
    sub: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Its own ``nodes()`` and the sub-maps its calls returned (``Map.merge``)."""
    neighbors: tuple[str, ...] | None = None
    i: int = 0
    calling: str | None = None
    """The node its pending erpc call went to (with a timeout: until ``deadline``)."""
    deadline: int = _NEVER

    def visited(self) -> frozenset[str]:
        return self.received | self.sub.keys() | {self.node}


#: What a walker's top probe does next: fold on; call, start or answer a node; crash.
_Next = (tuple[Literal["fold"]] | tuple[Literal["call", "start"], str]
         | tuple[Literal["return"], str, dict[str, tuple[str, ...]]]
         | tuple[Literal["fail"], str, str] | tuple[Literal["crash"], str]
         | tuple[Literal["hang"]])


@dataclass(slots=True)
class _Walker:
    """A call stack walking on its own clock: the launcher's, or an orphaned branch's."""

    stack: list[_Probe]
    t: int
    next: _Next = ("fold",)
    orphan: bool = False
    """Its bottom probe's caller is dead: its answer (or its failure) goes nowhere."""


class _FaultRun:
    """The seed's walk with faults: walkers stepped earliest first, one event a step."""

    def __init__(self, peers: dict[str, list[str]], launch: str, mode: Mode,
                 auto_connect: AutoConnect, lat: Latency, faults: Faults) -> None:
        self.peers, self.launch, self.lat, self.faults = peers, launch, lat, faults
        self.naive, self.never = mode is Mode.NAIVE, auto_connect is AutoConnect.NEVER
        self.events: list[Event] = []
        self.walkers: list[_Walker] = []
        self.dead: set[str] = set()
        self.timeout = faults.timeout_ms * 1000 if faults.timeout_ms is not None else _NEVER

    def run(self) -> list[Event]:
        main = _Walker([], 0, ("start", self.launch))
        self.walkers.append(main)
        while self.walkers:
            walker = min(self.walkers, key=self.due)  # the first of equals: stable
            if self.due(walker) >= _NEVER:
                break  # only hung probes are left: they record nothing more
            at = min(range(len(walker.stack)), key=lambda i: walker.stack[i].deadline,
                     default=None)
            if at is not None and walker.stack[at].deadline < walker.t:
                self.time_out(walker, at)
            elif not self.step(walker):
                self.walkers.remove(walker)
        self.events.sort(key=lambda e: e.t_us)  # stable: causal order within one instant
        for seq, event in enumerate(self.events):
            event.seq = seq
        return self.events

    @staticmethod
    def due(w: _Walker) -> int:
        """When ``w`` acts next: its clock, or the first deadline of its pending calls."""
        return min([w.t, *(p.deadline for p in w.stack)])

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def step(self, w: _Walker) -> bool:
        """One event of ``w`` (or a few at one instant); False when ``w`` is done."""
        nxt, t, lat = w.next, w.t, self.lat
        if nxt[0] == "start":
            to = nxt[1]
            caller = w.stack[-1] if w.stack else None
            visited = caller.visited() if caller else frozenset()
            self.emit(ProbeStart(seq=0, t_us=t, node=to, visited=visited))
            w.stack.append(_Probe(to, visited))
            w.t, w.next = t + lat.start, ("fold",)
            if to == self.faults.hang:
                w.t, w.next = _NEVER, ("hang",)
            kill = self.faults.kill
            if kill is not None and kill.after == to and kill.victim not in self.dead:
                self.kill(kill.victim, t)
            return True
        top = w.stack[-1]
        node = top.node
        if nxt[0] == "call":
            self.emit(Call(seq=0, t_us=t, node=node, to=nxt[1], visited=top.visited()))
            top.calling, top.deadline = nxt[1], t + self.timeout
            w.t, w.next = t + lat.call, ("start", nxt[1])
        elif nxt[0] == "return":
            _, callee, sub = nxt
            self.emit(Return(seq=0, t_us=t, node=node, callee=callee, keys=frozenset(sub)))
            top.calling, top.deadline = None, _NEVER
            top.sub.update(sub)
            w.next = ("fold",)
        elif nxt[0] == "fail":
            return self.fail(w, nxt[1], nxt[2])
        elif nxt[0] == "crash":
            self.emit(Crash(seq=0, t_us=t, node=node, reason=nxt[1]))
            return False
        elif top.neighbors is None:
            return self.traverse(w)
        elif top.i < len(top.neighbors):
            self.fold(w)
        else:
            return self.end(w)
        return True

    def traverse(self, w: _Walker) -> bool:
        """The top probe's greeting (naive: to the launcher) and its ``nodes()``."""
        top, launch = w.stack[-1], self.launch
        if self.naive and top.node != launch and launch not in self.peers[top.node]:
            if self.never:
                w.stack.pop()
                return self.raise_to_caller(w, top.node, NEVER_CONNECT_REASON, w.t)
            w.t += self.lat.connect
            for a, b in ((top.node, launch), (launch, top.node)):
                self.peers[a].append(b)
                self.emit(Connect(seq=0, t_us=w.t, node=a, peer=b))
        top.neighbors = tuple(self.peers[top.node])
        top.sub[top.node] = top.neighbors
        self.emit(Neighbors(seq=0, t_us=w.t, node=top.node, nodes=top.neighbors))
        w.t += self.lat.nodes
        return True

    def fold(self, w: _Walker) -> None:
        """One step of the top probe's fold: skip a visited neighbour, or load the probe."""
        top, lat = w.stack[-1], self.lat
        assert top.neighbors is not None
        neighbor = top.neighbors[top.i]
        top.i += 1
        if neighbor in top.visited():
            self.emit(Skip(seq=0, t_us=w.t, node=top.node, neighbor=neighbor))
            w.t += lat.skip
            return
        self.emit(LoadBinary(seq=0, t_us=w.t, node=top.node, to=neighbor))
        if neighbor in self.dead:  # the erpc fails at once: there is no connection to make
            w.t, w.next = w.t + lat.call, ("fail", neighbor, NOCONNECTION_REASON)
        elif lat.load > self.timeout:
            w.t, w.next = w.t + self.timeout, ("fail", neighbor, TIMEOUT_REASON)
        else:
            w.t, w.next = w.t + lat.load, ("call", neighbor)

    def end(self, w: _Walker) -> bool:
        """The top probe's fold is over: it answers its caller (the launcher: the result)."""
        top = w.stack.pop()
        keys = frozenset(top.sub)
        self.emit(ProbeEnd(seq=0, t_us=w.t, node=top.node, keys=keys))
        if w.stack:
            w.t, w.next = w.t + self.lat.call, ("return", top.node, top.sub)
            return True
        if not w.orphan:
            self.emit(Result(seq=0, t_us=w.t, node=top.node, map=dict(top.sub)))
        return False

    def fail(self, w: _Walker, callee: str, reason: str) -> bool:
        """The top probe's call to ``callee`` raised ``reason``: record it, then go on
        (tolerant) or raise it in turn."""
        top = w.stack[-1]
        top.calling, top.deadline = None, _NEVER
        self.emit(Error(seq=0, t_us=w.t, node=top.node, to=callee, reason=reason))
        if self.faults.tolerant:
            w.next = ("fold",)
            return True
        if len(w.stack) == 1 and not w.orphan:
            w.next = ("crash", reason)
            return True
        w.stack.pop()
        return self.raise_to_caller(w, top.node, f"{{:exception, {reason}}}", w.t)

    def raise_to_caller(self, w: _Walker, failed: str, reason: str, t: int) -> bool:
        """``failed``'s probe raised ``reason``: its caller's erpc raises (none: lost)."""
        if not w.stack:
            return False
        w.t, w.next = t + self.lat.call, ("fail", failed, reason)
        return True

    def time_out(self, w: _Walker, at: int) -> None:
        """The erpc call of ``w.stack[at]`` passed its deadline: the caller's erpc raises, and
        what it called walks on as an orphan (an answer already on its way is dropped; a probe
        not started yet never starts: erpc abandons the spawn)."""
        caller = w.stack[at]
        assert caller.calling is not None
        if at + 1 < len(w.stack):
            self.walkers.append(_Walker(w.stack[at + 1:], w.t, w.next, orphan=True))
        del w.stack[at + 1:]
        w.t, w.next = caller.deadline, ("fail", caller.calling, TIMEOUT_REASON)

    def kill(self, victim: str, t: int) -> None:
        """Stop ``victim`` at ``t``: at that instant its peers see it go down, its running
        probe dies with it (its caller's erpc raises), and what it was calling walks on as an
        orphan."""
        self.emit(Kill(seq=0, t_us=t, node=victim))
        self.dead.add(victim)
        for peer in self.peers.pop(victim, []):
            self.peers[peer] = [n for n in self.peers[peer] if n != victim]
            if peer not in self.dead:
                self.emit(Disconnect(seq=0, t_us=t, node=peer, peer=victim,
                                     reason=NODEDOWN_REASON))
        self.peers[victim] = []
        for w in list(self.walkers):
            at = next((i for i, p in enumerate(w.stack) if p.node == victim), None)
            if at is None:
                continue
            if at + 1 < len(w.stack):
                self.walkers.append(_Walker(w.stack[at + 1:], w.t, w.next, orphan=True))
            del w.stack[at:]
            if w.stack:  # the connection is down: the caller's erpc raises at once
                w.t, w.next = t, ("fail", victim, NOCONNECTION_REASON)
            else:
                self.walkers.remove(w)
