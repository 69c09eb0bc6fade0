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
``--tolerant``) run on a second engine, :class:`~inkworm.faults.FaultRun`: the kill can
leave a branch of the walk running on its own (an orphan), so the run is a set of walkers
(call stacks), each with its own clock, the earliest stepped first, one event a step. A
kill, right after OTHER's probe
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
from dataclasses import dataclass, fields

from inkworm.collect import ignoring_launcher, with_collectors
from inkworm.errors import InputError, gc_paused
from inkworm.run import AutoConnect, Faults, Mode, RunSpec, Strategy
from inkworm.topology import Topology
from inkworm.trace import (
    Call,
    Connect,
    Crash,
    Error,
    Event,
    Header,
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
NEVER = 1 << 62


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
        strategy=Strategy.PARALLEL if spec.strategy is Strategy.PARALLEL else None,
        meta={"simulator": "inkworm", "latency_us": dict(vars(lat)), **_fault_meta(faults),
              **({"collect": list(spec.collect)} if spec.collect else {})},
    )
    from inkworm.faults import FaultRun  # they build on this module's constants
    from inkworm.parallel import ParallelRun

    with gc_paused():
        peers = topology.peers(edge_order)
        if spec.strategy is Strategy.PARALLEL:
            events = ParallelRun(peers, launch, mode, auto_connect, lat, faults).run()
        elif faults is None:
            events = _run(peers, launch, mode, auto_connect, lat)
        else:
            events = FaultRun(peers, launch, mode, auto_connect, lat, faults).run()
        if mode is Mode.IGNORE_LAUNCHER:
            events = ignoring_launcher(events, launch)
        if spec.collect:
            events = with_collectors(events, spec.collect)
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
