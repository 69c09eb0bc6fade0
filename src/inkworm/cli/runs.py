"""Commands that run the worm: ``simulate`` (the model), ``record`` (a real cluster),
``cluster``."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from inkworm.cli.common import (
    Finite,
    check_output,
    echo_err,
    emit,
    fault_options,
    parse_latency,
    usage,
    warn_dot,
    worm_options,
)
from inkworm.cli.live import attached_record, reach_options, refuse_attach_only
from inkworm.output import check_target
from inkworm.record import DEFAULT_DEADLINE_S
from inkworm.report import observed_topology
from inkworm.run import Faults, RunSpec
from inkworm.topology import load_dot, to_dot
from inkworm.tracefile import write_trace


@click.command()
@click.argument("graph")
@worm_options
@click.option("--latency", default="", metavar="NAME=US,...", callback=parse_latency,
              help="Latency model, e.g. call=400,load=1200 (see inkworm.worm.Latency).")
@fault_options
@click.option("--hang", metavar="NODE", help="NODE's probe stalls for good once started "
              "(with --timeout).")
@click.option("-o", "--output", metavar="TRACE", help="Write the trace here (default: stdout).")
def simulate(graph: str, spec: RunSpec, latency: Any, faults: Faults | None,
             hang: str | None, output: str | None) -> None:
    """Simulate the worm on a DOT GRAPH and write its trace (JSON Lines); --kill, --after,
    --tolerant and --timeout as for record."""
    from inkworm.worm import simulate as run

    if hang is not None:
        if faults is None or faults.timeout_ms is None:
            raise click.UsageError("--hang goes with --timeout (else the worm waits for ever)")
        faults = dataclasses.replace(faults, hang=hang)
    check_output(output, graph)
    topology = load_dot(graph)
    warn_dot(topology)
    trace = run(topology, spec, latency, faults)
    emit(lambda out: write_trace(trace, out), output, (graph,))


@click.command()
@click.argument("graph", required=False)
@worm_options
@fault_options
@click.option("--delay", "delays", multiple=True, metavar="NODE=MS",
              help="Sleep MS after NODE's probe starts (repeatable).")
@click.option("--deadline", "deadline_s", type=Finite(min=0.001, max=(2**32 - 1) / 1000),
              default=DEFAULT_DEADLINE_S, show_default=True, metavar="SECONDS",
              help="Stop waiting for the worm after this long; the trace is written without "
                   "an outcome and says why (meta.stopped), exit code 1.")
@click.option("--collector", metavar="FILE.exs",
              help="Your own collectors (opt-in): an Elixir file whose value is a list of "
                   "{\"name\", fn -> value end}; each runs on every probed node.")
@click.option("--attach", "attach_node", metavar="NODE",
              help="Record on a live cluster inkworm did not start, launched from NODE "
                   "(no GRAPH; default --mode fixed; see inkworm map).")
@reach_options
@click.option("--yes-disturb", is_flag=True,
              help="With --attach and --mode naive or ignore-launcher: connect the nodes "
                   "the worm reaches to NODE, for good, as the seed's probe does.")
@click.option("-o", "--output", metavar="TRACE", help="Write the trace here (default: stdout).")
def record(graph: str | None, spec: RunSpec, faults: Faults | None, delays: tuple[str, ...],
           deadline_s: float, collector: str | None, attach_node: str | None,
           output: str | None, **kw: Any) -> None:
    """Run the real worm on a local :peer cluster built from GRAPH (or, with --attach, on a
    live cluster from NODE); write its trace."""
    from inkworm.record import RecordOptions, parse_delays, validate
    from inkworm.record import record as run

    if attach_node is not None:
        attached_record(graph, spec, faults, collector, deadline_s, output, attach_node, kw)
        return
    refuse_attach_only(kw)
    if graph is None:
        raise click.UsageError("GRAPH is missing (or --attach NODE for a live cluster)")
    topology = load_dot(graph)
    warn_dot(topology)
    faults = faults or Faults()
    options = RecordOptions(
        **dataclasses.asdict(spec), timeout_ms=faults.timeout_ms, tolerant=faults.tolerant,
        delays_ms=usage(parse_delays, delays), deadline_s=deadline_s, fault=faults.kill,
        collector=Path(collector) if collector else None,
    )
    validate(topology, options)  # every option, and -o, before a single process starts
    if output not in (None, "-"):
        check_target(output, (graph,))
    recording = run(topology, options)
    emit(lambda out: write_trace(recording.trace, out), output, (graph,))
    report = recording.report
    worm = report.get("worm_us")
    echo_err(f"recorded {len(recording.trace.events)} events on {len(topology.nodes)} real "
              f"nodes (peers started in {report.get('peer_start_total_us', 0) / 1e6:.2f} s, "
              + (f"worm {worm / 1e3:.1f} ms)" if worm is not None else "worm stopped)"))
    if report.get("outcome") == "stopped":
        echo_err(f"inkworm: the worm had not answered after {deadline_s:g} s (--deadline): "
                  "the run was stopped and its trace has no outcome")
        raise SystemExit(1)


@click.command()
@click.argument("graph")
def cluster(graph: str) -> None:
    """Start a local cluster from GRAPH and print its observed topology as DOT."""
    from inkworm.record import observe

    text = to_dot(observed_topology(observe(load_dot(graph))))
    emit(lambda out: out.write(text), None)  # a terminal sees names escaped
