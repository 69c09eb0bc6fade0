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

Virtual time comes from a deterministic :class:`Latency` model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields

from inkworm.errors import InputError
from inkworm.topology import EdgeOrder, Topology
from inkworm.trace import (
    AutoConnect,
    Call,
    Connect,
    Crash,
    Error,
    Event,
    Header,
    LoadBinary,
    Mode,
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

#: The reason the BEAM gives when a naive probe's output cannot reach the launcher's group
#: leader under ``dist_auto_connect never`` (observed on OTP 25 by the recorder).
NEVER_CONNECT_REASON = "{:exception, :terminated}"


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
            if not sep or key not in names or not raw.isdigit():
                raise InputError(f"bad latency '{item}': expected NAME=MICROSECONDS with NAME "
                                 f"in {', '.join(sorted(names))}")
            values[key] = int(raw)
        return cls(**values)


@dataclass
class _Frame:
    """One running probe: its node, its ``nodes()`` snapshot and its place in the fold."""

    node: str
    start: int
    """Index of the node in the visit order (its subtree is ``order[start:]`` when done)."""
    neighbors: tuple[str, ...] | None = None
    """``None`` until the probe has called ``nodes()``."""
    i: int = 0


def simulate(
    topology: Topology,
    launch: str | None = None,
    mode: Mode = Mode.FIXED,
    edge_order: EdgeOrder = EdgeOrder.DOT,
    auto_connect: AutoConnect = AutoConnect.ALWAYS,
    latency: Latency | None = None,
) -> Trace:
    """Run the worm model on ``topology`` and return its trace."""
    launch = launch if launch is not None else topology.nodes[0]
    if launch not in topology.nodes:
        raise InputError(f"launch node '{launch}' is not in the graph",
                         topology.source or None)
    header = Header(
        launch=launch,
        mode=mode,
        source=Source.SIMULATED,
        graph=topology.source,
        edge_order=edge_order.value,
        auto_connect=auto_connect,
        meta={"simulator": "inkworm", "latency_us": dict(vars(latency or Latency()))},
    )
    events = list(_run(topology, launch, mode, edge_order, auto_connect, latency or Latency()))
    return Trace(header, events)


def _run(
    topology: Topology,
    launch: str,
    mode: Mode,
    edge_order: EdgeOrder,
    auto_connect: AutoConnect,
    lat: Latency,
) -> Iterator[Event]:
    peers = topology.peers(edge_order)
    order: list[str] = []
    pos: dict[str, int] = {}
    snapshots: dict[str, tuple[str, ...]] = {}
    seq = 0
    t = 0

    def visited() -> NodeSet:
        return NodeSet(order, pos, 0, len(order))

    stack: list[_Frame] = []

    def start(node: str) -> Iterator[Event]:
        """A probe starts on ``node``; yields its start (and naive connections)."""
        nonlocal seq, t
        yield ProbeStart(seq, t, node, visited())
        seq += 1
        t += lat.start
        pos[node] = len(order)
        order.append(node)
        stack.append(_Frame(node, pos[node]))

    yield from start(launch)
    while stack:
        frame = stack[-1]
        if frame.neighbors is None:
            # Start of traverse: the naive probe's "Hello from" output goes to the launcher.
            node = frame.node
            if mode is Mode.NAIVE and node != launch and launch not in peers[node]:
                if auto_connect is AutoConnect.NEVER:
                    yield from _propagate_failure(stack, seq, t, lat, NEVER_CONNECT_REASON)
                    return
                t += lat.connect
                for a, b in ((node, launch), (launch, node)):
                    peers[a].append(b)
                    yield Connect(seq, t, a, b)
                    seq += 1
            frame.neighbors = snapshots[node] = tuple(peers[node])
            yield Neighbors(seq, t, node, frame.neighbors)
            seq += 1
            t += lat.nodes
        if frame.i < len(frame.neighbors):
            neighbor = frame.neighbors[frame.i]
            frame.i += 1
            if neighbor in pos:
                yield Skip(seq, t, frame.node, neighbor)
                seq += 1
                t += lat.skip
                continue
            yield LoadBinary(seq, t, frame.node, neighbor)
            t += lat.load
            yield Call(seq + 1, t, frame.node, neighbor, visited())
            seq += 2
            t += lat.call
            yield from start(neighbor)
            continue
        # The fold is over: this probe returns its sub-map to its caller.
        stack.pop()
        keys = NodeSet(order, pos, frame.start, len(order))
        yield ProbeEnd(seq, t, frame.node, keys)
        seq += 1
        if stack:
            t += lat.call
            yield Return(seq, t, stack[-1].node, frame.node, keys)
            seq += 1
    yield Result(seq, t, launch, {node: snapshots[node] for node in order})


def _propagate_failure(stack: list[_Frame], seq: int, t: int, lat: Latency,
                       reason: str) -> Iterator[Event]:
    """The probe on top of the stack raised: every caller's erpc raises in turn."""
    failed = stack.pop().node
    while stack:
        t += lat.call
        caller = stack.pop().node
        yield Error(seq, t, caller, failed, reason)
        seq += 1
        failed = caller
    yield Crash(seq, t, failed, reason)
