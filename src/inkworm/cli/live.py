"""Commands on a live cluster inkworm did not start: ``map NODE`` and ``record --attach NODE``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from inkworm.cli.common import Finite, check_output, echo_err, emit
from inkworm.record import DEFAULT_DEADLINE_S
from inkworm.run import Faults, Mode, RunSpec, Strategy
from inkworm.tracefile import write_trace

if TYPE_CHECKING:
    from inkworm.attach import Attached, AttachOptions

ATTACH_ONLY = ("cookie_file", "name_kind", "yes_disturb")
"""``record``'s options that only an attached run takes."""
OWNED_ONLY = {"launch": "--launch", "edge_order": "--edge-order",
              "auto_connect": "--auto-connect", "kill": "--kill", "after": "--after",
              "delays": "--delay"}
"""``record``'s options for a cluster inkworm starts, that a live cluster cannot honour."""


def reach_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """How to reach a live cluster (``map`` and ``record --attach``)."""
    decorators = [
        click.option("--cookie-file", type=click.Path(dir_okay=False, path_type=Path),
                     help="The cluster's cookie (mode 0400 or 0600; default: "
                          "~/.erlang.cookie). Never taken on the command line."),
        click.option("--name-kind", type=click.Choice(["short", "long"]),
                     help="-sname or -name (default: long when NODE's host has a dot, as "
                          "a@host.domain and a@10.0.0.5 do)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


@click.command(name="map")
@click.argument("node")
@reach_options
@click.option("--strategy", type=click.Choice([s.value for s in Strategy]),
              default=Strategy.SEQUENTIAL.value, show_default=True,
              help="The walk: the seed's, or every unvisited neighbour at once.")
@click.option("--tolerant", is_flag=True, help="Map what answers; name what did not.")
@click.option("--timeout", "timeout_ms", type=click.IntRange(min=1, max=2**32 - 1),
              help="erpc timeout per call, in ms (default: infinity, as the seed).")
@click.option("--deadline", "deadline_s", type=Finite(min=0.001, max=(2**32 - 1) / 1000),
              default=DEFAULT_DEADLINE_S, show_default=True, metavar="SECONDS",
              help="Stop waiting for the worm after this long.")
@click.option("-o", "--output", metavar="FILE.dot", help="Write here (default: stdout).")
def map_(node: str, cookie_file: Path | None, name_kind: str | None, strategy: str,
         tolerant: bool, timeout_ms: int | None, deadline_s: float,
         output: str | None) -> None:
    """Print the topology of the live cluster NODE belongs to, as DOT: the fixed worm's map,
    launched from NODE, inkworm joining as a hidden node that leaves nothing behind."""
    from inkworm.attach import AttachOptions, attach, missing
    from inkworm.report import reported_topology
    from inkworm.topology import to_dot

    check_output(output)
    options = AttachOptions(node, Mode.FIXED, Strategy(strategy), timeout_ms=timeout_ms,
                            tolerant=tolerant, deadline_s=deadline_s, cookie_file=cookie_file,
                            name_kind=name_kind)
    done = attach(options)
    _end_if_crashed(done, "no map")
    text = to_dot(reported_topology(done.trace))
    emit(lambda out: out.write(text), output)
    _say(done)
    lost = missing(done.trace, done.report)
    if lost:
        echo_err("partial map: not reached: " + ", ".join(lost))


def attached_record(graph: str | None, spec: RunSpec, faults: Faults | None,
                    collector: str | None, deadline_s: float, output: str | None,
                    attach_node: str, kw: dict[str, Any]) -> None:
    """``record --attach NODE``: the worm on the live cluster; its trace."""
    from inkworm.attach import attach

    if graph is not None:
        raise click.UsageError(f"--attach records the live cluster: no GRAPH ({graph})")
    ctx = click.get_current_context()
    for name, flag in OWNED_ONLY.items():
        if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE:
            raise click.UsageError(f"{flag} is for a cluster inkworm starts, not a live one "
                                   "(--attach: NODE launches, the cluster is as it is)")
    options = _options(spec, faults, collector, deadline_s, attach_node, kw)
    check_output(output)
    done = attach(options)
    emit(lambda out: write_trace(done.trace, out), output)
    echo_err(f"recorded {len(done.trace.events)} events on {len(done.report['reached'])} live "
              f"nodes from {attach_node}")
    _say(done)
    _end_if_crashed(done, "the trace ends in it")


def _end_if_crashed(done: Attached, consequence: str) -> None:
    """A crashed worm (not ``--tolerant``): why, in one line, and exit code 3."""
    from inkworm.attach import crash_line
    from inkworm.trace import Crash

    if isinstance(done.trace.outcome, Crash):
        echo_err(f"inkworm: {crash_line(done.trace, done.report)}: {consequence} "
                  "(--tolerant maps what answers)")
        raise SystemExit(3)


def _options(spec: RunSpec, faults: Faults | None, collector: str | None,
             deadline_s: float, node: str, kw: dict[str, Any]) -> AttachOptions:
    from inkworm.attach import AttachOptions

    ctx = click.get_current_context()
    mode = spec.mode if ctx.get_parameter_source("mode") is ParameterSource.COMMANDLINE \
        else Mode.FIXED
    if mode is Mode.FIXED and kw["yes_disturb"]:
        echo_err("warning: --yes-disturb ignored: --mode fixed makes no connection")
    if mode is not Mode.FIXED and not kw["yes_disturb"]:
        raise click.UsageError(f"--mode {mode.value} on a live cluster connects every node it "
                               f"reaches to {node}, and those connections stay: add "
                               "--yes-disturb to mean it")
    faults = faults or Faults()
    return AttachOptions(node, mode, spec.strategy, spec.collect,
                         Path(collector) if collector else None, faults.timeout_ms,
                         faults.tolerant, deadline_s, kw["cookie_file"], kw["name_kind"])


def refuse_attach_only(kw: dict[str, Any]) -> None:
    """An attach option given without ``--attach``: one line."""
    for name in ATTACH_ONLY:
        if kw.get(name):
            flag = "--" + name.replace("_", "-")
            raise click.UsageError(f"{flag} goes with --attach NODE")


def _say(done: Attached) -> None:
    """The measurement's footprint, in one line (``summary`` tells it in full)."""
    a = done.trace.header.meta["attach"]
    i = a["interference"]
    made, stayed = i["connections_made"], i["connections_stayed"]
    echo_err(f"attached as hidden {a['inkworm_node']} (cookie: {a['cookie']}): "
              f"{len(made)} connections "
              f"made, {len(stayed)} stayed; probe left on "
              + (", ".join(i["probe_left_on"]) or "no node")
              + f"; {i['code_bytes_shipped'] / 1024:.1f} KiB of code to "
              f"{i['nodes_reached']} nodes in {i['wall_ms'] / 1000:.2f} s")
