"""The worm with faults (:class:`~inkworm.run.Faults`): a kill, a hang, a timeout, a
tolerant caller. The simulator's second engine (:func:`inkworm.worm.simulate` uses it only
when a run has faults): a kill or a timeout can leave a branch of the walk running on its own
(an orphan), so the run is a set of walkers (call stacks), each with its own clock, the earliest
stepped first, one event a step; see :mod:`inkworm.worm` for what each fault does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

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
    deadline: int = NEVER

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


class FaultRun:
    """The seed's walk with faults: walkers stepped earliest first, one event a step."""

    def __init__(self, peers: dict[str, list[str]], launch: str, mode: Mode,
                 auto_connect: AutoConnect, lat: Latency, faults: Faults) -> None:
        self.peers, self.launch, self.lat, self.faults = peers, launch, lat, faults
        self.naive, self.never = mode.prints_to_launcher, auto_connect is AutoConnect.NEVER
        self.events: list[Event] = []
        self.walkers: list[_Walker] = []
        self.dead: set[str] = set()
        self.timeout = faults.timeout_ms * 1000 if faults.timeout_ms is not None else NEVER

    def run(self) -> list[Event]:
        main = _Walker([], 0, ("start", self.launch))
        self.walkers.append(main)
        while self.walkers:
            walker = min(self.walkers, key=self.due)  # the first of equals: stable
            if self.due(walker) >= NEVER:
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
                w.t, w.next = NEVER, ("hang",)
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
            top.calling, top.deadline = None, NEVER
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
        top.calling, top.deadline = None, NEVER
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
