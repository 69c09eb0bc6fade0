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
``--tolerant``) run on a second engine, :class:`~inkworm.worm.faults.FaultRun`: the kill can
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

Virtual time comes from a deterministic :class:`Latency` model. Each strategy's engine is a
module (:mod:`~inkworm.worm.sequential`, :mod:`~inkworm.worm.parallel`) and an entry in
:data:`ENGINES`; the reasons and :class:`Latency` below them all, in :mod:`~inkworm.worm.model`.
"""

from __future__ import annotations

from collections.abc import Callable

from inkworm.collect import ignoring_launcher, with_collectors
from inkworm.errors import InputError, gc_paused
from inkworm.run import AutoConnect, Faults, Mode, RunSpec, Strategy
from inkworm.topology import Topology
from inkworm.trace import Event, Header, Source, Trace
from inkworm.worm import parallel, sequential
from inkworm.worm.model import (
    MAX_LATENCY_US,
    NEVER,
    NEVER_CONNECT_REASON,
    NOCONNECTION_REASON,
    NODEDOWN_REASON,
    TIMEOUT_REASON,
    Latency,
)

__all__ = ["ENGINES", "MAX_LATENCY_US", "NEVER", "NEVER_CONNECT_REASON", "NOCONNECTION_REASON",
           "NODEDOWN_REASON", "TIMEOUT_REASON", "Engine", "Latency", "simulate"]

Engine = Callable[[dict[str, list[str]], str, Mode, AutoConnect, Latency, Faults | None],
                  list[Event]]
"""A strategy's engine: (peers, launch, mode, auto_connect, latency, faults) → its events."""

ENGINES: dict[Strategy, Engine] = {
    Strategy.SEQUENTIAL: sequential.run,
    Strategy.PARALLEL: parallel.run,
}
"""The engine of each strategy."""


def simulate(topology: Topology, spec: RunSpec | None = None,
             latency: Latency | None = None, faults: Faults | None = None) -> Trace:
    """Run the worm model on ``topology`` as ``spec`` says (with ``faults``, if any), and
    return its trace.

    >>> from inkworm.topology import parse_dot
    >>> from inkworm.views import connections, visit_order
    >>> bowtie = parse_dot("graph { a -- b; b -- c; a -- c; b -- d; d -- e; e -- f; f -- d }")
    >>> naive = simulate(bowtie, RunSpec(mode=Mode.NAIVE))
    >>> visit_order(naive)
    ['a', 'b', 'c', 'd', 'e', 'f']
    >>> connections(naive)  # what the measurement made: every node not next to a
    [('a', 'd'), ('a', 'e'), ('a', 'f')]
    >>> connections(simulate(bowtie, RunSpec(mode=Mode.FIXED)))
    []
    """
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
    with gc_paused():
        peers = topology.peers(edge_order)
        events = ENGINES[spec.strategy](peers, launch, mode, auto_connect, lat, faults)
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
