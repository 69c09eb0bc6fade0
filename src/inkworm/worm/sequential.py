"""The sequential worm without faults: the seed's recursion as a loop over an explicit stack.

The DFS is sequential, so every ``visited`` set is a prefix of the visit order and every
returned key set a contiguous slice of it; events share one order list (:class:`NodeSet`),
which keeps a 100,000-node run linear in time and memory. A run with faults takes
:class:`~inkworm.worm.faults.FaultRun` (:func:`run` picks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from inkworm.run import AutoConnect, Faults, Mode
from inkworm.trace import (
    Call,
    Connect,
    Crash,
    Error,
    Event,
    LoadBinary,
    Neighbors,
    NodeSet,
    ProbeEnd,
    ProbeStart,
    Result,
    Return,
    Skip,
)
from inkworm.worm.faults import FaultRun
from inkworm.worm.model import NEVER_CONNECT_REASON, Latency


def run(peers: dict[str, list[str]], launch: str, mode: Mode, auto_connect: AutoConnect,
        lat: Latency, faults: Faults | None) -> list[Event]:
    """The sequential worm's events: this module's loop, or with faults their engine."""
    if faults is not None:
        return FaultRun(peers, launch, mode, auto_connect, lat, faults).run()
    return _run(peers, launch, mode, auto_connect, lat)


@dataclass(slots=True)
class _Frame:
    """One running probe: its node, its ``nodes()`` snapshot and its place in the fold."""

    node: str
    start: int
    """Index of the node in the visit order (its subtree is ``order[start:]`` when done)."""
    neighbors: tuple[str, ...] | None = None
    """``None`` until the probe has called ``nodes()``."""
    i: int = 0


def _run(peers: dict[str, list[str]], launch: str, mode: Mode, auto_connect: AutoConnect,
         lat: Latency) -> list[Event]:
    """The seed's recursion as a loop over an explicit stack (no depth limit)."""
    events: list[Event] = []
    emit = events.append
    order: list[str] = []
    pos: dict[str, int] = {}
    snapshots: dict[str, tuple[str, ...]] = {}
    naive = mode.prints_to_launcher
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
                t = _greet(peers, node, launch, t + lat.connect, events)
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


def _greet(peers: dict[str, list[str]], node: str, launch: str, t: int,
           events: list[Event]) -> int:
    """A naive probe's greeting reaches the launcher's group leader: ``node`` and the
    launcher connect, each appending the other to its ``nodes()``."""
    for a, b in ((node, launch), (launch, node)):
        peers[a].append(b)
        events.append(Connect(seq=len(events), t_us=t, node=a, peer=b))
    return t


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
