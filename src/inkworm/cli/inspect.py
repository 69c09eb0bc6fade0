"""Commands that read a run or a topology: ``check``, ``summary``, ``dot``, ``gen``,
``import-log``, ``export``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from inkworm import views
from inkworm.check import check
from inkworm.cli.common import (
    SEED,
    Finite,
    check_output,
    echo,
    echo_err,
    echo_lines,
    emit,
    warn_dot,
    warn_ignored_run_options,
    worm_options,
)
from inkworm.dotscan import MAX_EDGES, MAX_NODES
from inkworm.inputs import load_input
from inkworm.reader import load_trace
from inkworm.report import diff_lines, reported_topology, summary_lines
from inkworm.run import Mode, RunSpec
from inkworm.topology import Topology, load_dot, to_dot
from inkworm.tracefile import write_trace


@click.command(name="check")
@click.argument("trace_path", metavar="TRACE")
@click.option("--graph", metavar="DOT", help="Also diff the result against this topology.")
@click.option("--expect-order", metavar="A,B,...", help="Fail unless the visit order is this.")
@click.option("--snapshot", metavar="FILE",
              help="Fail unless visit order, DFS tree and result match this JSON snapshot "
                   "(written when missing).")
@click.option("--update", is_flag=True, help="With --snapshot: rewrite it from this trace.")
@click.option("--strict", is_flag=True,
              help="With --graph: fail (exit 1) when the map differs from the graph.")
@click.option("--quiet", is_flag=True, help="Print violations only.")
def check_cmd(trace_path: str, graph: str | None, expect_order: str | None,
              snapshot: str | None, update: bool, strict: bool, quiet: bool) -> int:
    """Check a TRACE's ordering invariants (exit 0 valid, 1 violations, 2 unreadable)."""
    from inkworm.testing import TraceAssertionError, assert_matches_snapshot, assert_visit_order

    if update and not snapshot:
        raise click.UsageError("--update goes with --snapshot")
    if strict and not graph:
        raise click.UsageError("--strict goes with --graph")
    if snapshot is not None and (update or not os.path.lexists(snapshot)):
        check_output(snapshot, trace_path, graph)
    trace = load_trace(trace_path)
    topology = load_dot(graph) if graph else None
    if topology:
        warn_dot(topology)
    violations = check(trace)
    for v in violations:
        echo(v.format(trace_path))
    failed = bool(violations)
    try:
        if expect_order is not None:
            assert_visit_order(trace, expect_order)
        if snapshot is not None and assert_matches_snapshot(trace, snapshot, update):
            echo_err(f"snapshot written: {snapshot}")
    except TraceAssertionError as err:
        echo_lines(str(err))
        failed = True
    differs = False
    if topology is not None and graph is not None:
        found = diff_lines(views.topology_diff(trace, topology), graph)
        for line in found:
            echo(line)
        differs = bool(found)
        failed = failed or (strict and differs)
    if not quiet:
        events = len(trace.events)
        status = (f"{len(violations)} violation(s)" if violations
                  else "valid, but its map differs from the graph" if strict and differs
                  else "valid, but not as expected" if failed else "valid")
        echo_err(f"{trace_path}: {events} events, {status}")
    return 1 if failed else 0


@click.command(name="import-log")
@click.argument("log")
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default="naive",
              show_default=True, help="Which probe produced the log.")
@click.option("-o", "--output", metavar="TRACE", help="Write the trace here (default: stdout).")
def import_log_cmd(log: str, mode: str, output: str | None) -> None:
    """Turn the seed probe's console output (LOG) into a trace with source: log."""
    from inkworm.importlog import import_log

    check_output(output, log)
    trace = import_log(log, Mode(mode))
    emit(lambda out: write_trace(trace, out), output, (log,))


@click.command()
@click.option("--nodes", type=click.IntRange(1, MAX_NODES), required=True,
              help=f"Number of nodes (at most {MAX_NODES:,}, what inkworm reads).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Random seed.")
@click.option("--extra", type=Finite(min=0, max=MAX_EDGES), default=0.5, show_default=True,
              help="Chords per node on top of the spanning tree.")
@click.option("-o", "--output", metavar="DOT", help="Write the DOT file here (default: stdout).")
def gen(nodes: int, seed: int, extra: float, output: str | None) -> None:
    """Generate a large sparse connected cluster as DOT."""
    from inkworm.gen import edge_count, sparse_cluster

    edges = edge_count(nodes, extra)
    if edges > MAX_EDGES:
        raise click.BadParameter(f"{extra:g} chords per node on {nodes:,} nodes make {edges:,} "
                                 f"edges, more than the {MAX_EDGES:,} inkworm reads",
                                 param_hint="'--extra'")
    check_output(output)
    topology = sparse_cluster(nodes, seed, extra)
    emit(lambda out: out.write(to_dot(topology)), output)


@click.command()
@click.argument("input_path", metavar="INPUT")
@click.option("-o", "--output", metavar="DOT", help="Write here (default: stdout).")
def dot(input_path: str, output: str | None) -> None:
    """Print INPUT as DOT in the seed's notation: a DOT file normalised, or the map a trace
    discovered (its result, else what its probes saw)."""
    check_output(output, input_path)
    loaded = load_input(input_path)
    topology = loaded if isinstance(loaded, Topology) else reported_topology(loaded)
    text = to_dot(topology)
    emit(lambda out: out.write(text), output, (input_path,))


@click.command()
@click.argument("input_path", metavar="INPUT")
@worm_options
@click.option("--graph", metavar="DOT",
              help="The topology of a trace INPUT, for its spurious edges (default: the DOT "
                   "file its header names, beside it; else none).")
def summary(input_path: str, spec: RunSpec, graph: str | None) -> None:
    """Summarise a trace (or a DOT file, simulated first): visit order, tree, result."""
    from inkworm.worm import simulate as run

    loaded = load_input(input_path)
    topology = loaded if isinstance(loaded, Topology) else None
    if isinstance(loaded, Topology):
        if graph is not None:
            raise click.UsageError("--graph goes with a trace INPUT (a DOT file is its own "
                                   "topology)")
        warn_dot(loaded)
        trace = run(loaded, spec)
    else:
        warn_ignored_run_options(True)
        trace = loaded
        if graph is not None:
            topology = load_dot(graph)
            warn_dot(topology)
        else:
            named = views.topology_of(trace, Path(input_path))
            topology = None if named.name == views.DERIVED else named
    for line in summary_lines(trace, topology):
        echo(line)


@click.command()
@click.argument("input_path", metavar="INPUT")
@worm_options
@click.option("--to", "target", type=click.Choice(["shiviz", "perfetto"]), required=True,
              help="shiviz: a log with vector clocks (ShiViz's space-time diagram); perfetto: "
                   "Chrome trace events JSON (ui.perfetto.dev, chrome://tracing).")
@click.option("-o", "--output", metavar="FILE", help="Write here (default: stdout).")
def export(input_path: str, spec: RunSpec, target: str, output: str | None) -> None:
    """Export a trace (or a DOT file, simulated first) for ShiViz or Perfetto."""
    import json

    from inkworm.exports import SHIVIZ_REGEX, perfetto, shiviz_lines
    from inkworm.worm import simulate as run

    check_output(output, input_path)
    loaded = load_input(input_path)
    if isinstance(loaded, Topology):
        warn_dot(loaded)
        trace = run(loaded, spec)
    else:
        warn_ignored_run_options(True)
        trace = loaded
    if target == "shiviz":
        emit(lambda out: out.writelines(line + "\n" for line in shiviz_lines(trace)), output,
             (input_path,))
        echo_err(f"ShiViz: paste the log, and as its regular expression: {SHIVIZ_REGEX}")
    else:
        emit(lambda out: json.dump(perfetto(trace), out, ensure_ascii=False), output,
             (input_path,))
