"""The ``inkworm`` command: a thin click shell over the library.

Bad input is one line on stderr naming the file and line, exit code 2, no traceback (``--debug``
shows one); outputs are written atomically, so a failed command leaves no partial file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import functools
import gc
import math
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar, cast

import click
from click.core import ParameterSource

from inkworm import views
from inkworm.check import check
from inkworm.collect import BUILTINS, parse_names
from inkworm.dotscan import MAX_EDGES, MAX_NODES
from inkworm.errors import (
    InputError,
    Terminated,
    ToolError,
    clear_stop,
    printable,
    request_stop,
    stop_point,
    terminal_safe,
)
from inkworm.inputs import load_input
from inkworm.layout import LAYOUTS
from inkworm.output import atomic_text, check_target
from inkworm.reader import load_trace
from inkworm.record import DEFAULT_DEADLINE_S
from inkworm.report import diff_lines, observed_topology, reported_topology, summary_lines
from inkworm.run import AutoConnect, EdgeOrder, Mode, RunSpec, Strategy
from inkworm.topology import Topology, load_dot, to_dot
from inkworm.trace import Trace, write_trace

F = TypeVar("F", bound=Callable[..., Any])


def _echo_err(message: str) -> None:
    """One line on stderr; anything from input in it is escaped (:func:`printable`)."""
    click.echo(printable(message), err=True)


def _echo(line: str) -> None:
    """One line of a report on stdout, escaped: a name can neither act on the terminal nor
    fake a line of its own."""
    click.echo(printable(line))


def _echo_lines(text: str) -> None:
    """A report of several lines on stdout, each escaped."""
    click.echo("\n".join(printable(line) for line in text.split("\n")))


def _warn(topology: Topology) -> None:
    for warning in topology.warnings:
        _echo_err(f"warning: {warning}")


def _emit(text_writer: Callable[[IO[str]], object], out: str | None,
          inputs: tuple[str | None, ...] = ()) -> None:
    """Write through ``text_writer`` to ``out`` atomically (never over one of ``inputs``), or
    to stdout; a terminal sees control characters of names escaped (the data is exact only
    in a file or a pipe)."""
    if out is None or out == "-":
        text_writer(cast(IO[str], _TerminalSafe(sys.stdout)) if sys.stdout.isatty()
                    else sys.stdout)
        return
    with atomic_text(out, inputs) as stream:
        text_writer(stream)


class _TerminalSafe:
    """A text stream that escapes what a terminal would act on (newlines and tabs pass)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(terminal_safe(text))

    def flush(self) -> None:
        self.stream.flush()


def _check_output(output: str | None, *inputs: str | None) -> None:
    """Refuse a bad ``-o`` before any work (see :func:`inkworm.output.check_target`)."""
    if output not in (None, "-"):
        check_target(output, inputs)


class _Finite(click.FloatRange):
    """A float in a range, and a number: ``nan`` and ``inf`` are refused."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


#: Seeds of the layouts (numpy's seeded generators take 0 to 2**32 - 1).
SEED = click.IntRange(0, 2**32 - 1)


def _usage(parse: Callable[[Any], Any], value: Any) -> Any:
    """``parse(value)``, its InputError as a usage error (the option's own words were off)."""
    try:
        return parse(value)
    except InputError as err:
        raise click.UsageError(err.message) from None


def _latency(_ctx: click.Context, _param: click.Parameter, value: str) -> Any:
    from inkworm.worm import Latency

    try:
        return Latency.parse(value)
    except InputError as err:
        raise click.BadParameter(err.message) from None


def _warn_ignored_run_options(input_is_trace: bool) -> None:
    """A trace is a run already: say so when run options were given with one."""
    if not input_is_trace:
        return
    ctx = click.get_current_context()
    given = [name for name in ("launch", "mode", "edge_order", "auto_connect", "strategy")
             if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        _echo_err(f"warning: {flags} ignored: INPUT is a trace (a run already made)")


class EnumChoice(click.Choice):  # type: ignore[type-arg]
    """A choice among an enum's values that hands the command the enum member."""

    def __init__(self, enum_type: type[enum.Enum]) -> None:
        super().__init__([member.value for member in enum_type])
        self.enum_type = enum_type

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, self.enum_type):
            return value
        return self.enum_type(super().convert(value, param, ctx))


def worm_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by every command that runs the worm (simulate, record, render, ...),
    handed to the command as one ``spec: RunSpec``."""

    @functools.wraps(func)
    def with_spec(*args: Any, launch: str | None, mode: Mode, edge_order: EdgeOrder,
                  auto_connect: AutoConnect, strategy: Strategy, collect: str,
                  **kwargs: Any) -> Any:
        spec = RunSpec(launch=launch, mode=mode, edge_order=edge_order,
                       auto_connect=auto_connect, strategy=strategy,
                       collect=_usage(parse_names, collect))
        return func(*args, spec=spec, **kwargs)

    decorators = [
        click.option("--launch", metavar="NODE", help="Launch node (default: first in file)."),
        click.option("--mode", type=EnumChoice(Mode), default=Mode.NAIVE.value,
                     show_default=True, help="naive: seed's probe; fixed: group leader reset; "
                     "ignore-launcher: naive, its map ignoring the launcher (seed's footnote)."),
        click.option("--edge-order", type=EnumChoice(EdgeOrder), default=EdgeOrder.DOT.value,
                     show_default=True, help="Order the edges are connected."),
        click.option("--auto-connect", type=EnumChoice(AutoConnect),
                     default=AutoConnect.ALWAYS.value, show_default=True,
                     help="-kernel dist_auto_connect."),
        click.option("--strategy", type=EnumChoice(Strategy),
                     default=Strategy.SEQUENTIAL.value, show_default=True,
                     help="sequential: the seed's walk; parallel: every unvisited neighbour "
                          "at once (:erpc.multicall), duplicate probes and all."),
        click.option("--collect", metavar="NAME[,NAME...]", default="",
                     help="The worm that works: run these collectors on every probed node ("
                          + ", ".join(BUILTINS) + ")."),
    ]
    command: Callable[..., Any] = with_spec
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for bad input.")
@click.version_option(package_name="inkworm")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """inkworm: an Erlang cluster traversal (the worm) as ink in a microfluidic chip."""
    ctx.obj = {"debug": debug}


@cli.command()
@click.argument("graph")
@worm_options
@click.option("--latency", default="", metavar="NAME=US,...", callback=_latency,
              help="Latency model, e.g. call=400,load=1200 (see inkworm.worm.Latency).")
@click.option("--kill", metavar="NODE", help="Stop NODE during the run (fault injection)...")
@click.option("--after", metavar="OTHER", help="...right after OTHER's probe starts.")
@click.option("--tolerant", is_flag=True,
              help="Record failed calls and keep going (partial map) instead of crashing.")
@click.option("--timeout", "timeout_ms", type=click.IntRange(min=1, max=2**32 - 1),
              help="erpc timeout per call, in ms (default: infinity, as the seed).")
@click.option("--hang", metavar="NODE", help="NODE's probe stalls for good once started "
              "(with --timeout).")
@click.option("-o", "--output", metavar="TRACE", help="Write the trace here (default: stdout).")
def simulate(graph: str, spec: RunSpec, latency: Any, kill: str | None, after: str | None,
             tolerant: bool, timeout_ms: int | None, hang: str | None,
             output: str | None) -> None:
    """Simulate the worm on a DOT GRAPH and write its trace (JSON Lines); --kill, --after,
    --tolerant and --timeout as for record."""
    from inkworm.record import Fault
    from inkworm.run import Faults
    from inkworm.worm import simulate as run

    if (kill is None) != (after is None):
        raise click.UsageError("--kill and --after go together")
    if hang is not None and timeout_ms is None:
        raise click.UsageError("--hang goes with --timeout (else the worm waits for ever)")
    faults = (Faults(kill=Fault(kill, after) if kill and after else None, tolerant=tolerant,
                     timeout_ms=timeout_ms, hang=hang)
              if kill or tolerant or timeout_ms or hang else None)
    _check_output(output, graph)
    topology = load_dot(graph)
    _warn(topology)
    trace = run(topology, spec, latency, faults)
    _emit(lambda out: write_trace(trace, out), output, (graph,))


@cli.command()
@click.argument("graph")
@worm_options
@click.option("--kill", metavar="NODE", help="Stop NODE during the run (fault injection)...")
@click.option("--after", metavar="OTHER", help="...right after OTHER's probe starts.")
@click.option("--delay", "delays", multiple=True, metavar="NODE=MS",
              help="Sleep MS after NODE's probe starts (repeatable).")
@click.option("--timeout", "timeout_ms", type=click.IntRange(min=0, max=2**32 - 1),
              help="erpc timeout per call, in ms (default: infinity, as the seed).")
@click.option("--deadline", "deadline_s", type=_Finite(min=0.001, max=(2**32 - 1) / 1000),
              default=DEFAULT_DEADLINE_S, show_default=True, metavar="SECONDS",
              help="Stop waiting for the worm after this long; the trace is written without "
                   "an outcome and says why (meta.stopped), exit code 1.")
@click.option("--tolerant", is_flag=True,
              help="Record failed calls and keep going (partial map) instead of crashing.")
@click.option("--collector", metavar="FILE.exs",
              help="Your own collectors (opt-in): an Elixir file whose value is a list of "
                   "{\"name\", fn -> value end}; each runs on every probed node.")
@click.option("-o", "--output", metavar="TRACE", help="Write the trace here (default: stdout).")
def record(graph: str, spec: RunSpec, kill: str | None, after: str | None,
           delays: tuple[str, ...], timeout_ms: int | None, deadline_s: float, tolerant: bool,
           collector: str | None, output: str | None) -> None:
    """Run the real worm on a local :peer cluster built from GRAPH; write its trace."""
    from inkworm.output import check_target
    from inkworm.record import Fault, RecordOptions, parse_delays, validate
    from inkworm.record import record as run

    if (kill is None) != (after is None):
        raise click.UsageError("--kill and --after go together")
    topology = load_dot(graph)
    _warn(topology)
    options = RecordOptions(
        **dataclasses.asdict(spec), timeout_ms=timeout_ms, tolerant=tolerant,
        delays_ms=_usage(parse_delays, delays), deadline_s=deadline_s,
        fault=Fault(kill, after) if kill and after else None,
        collector=Path(collector) if collector else None,
    )
    validate(topology, options)  # every option, and -o, before a single process starts
    if output not in (None, "-"):
        check_target(output, (graph,))
    recording = run(topology, options)
    _emit(lambda out: write_trace(recording.trace, out), output, (graph,))
    report = recording.report
    worm = report.get("worm_us")
    _echo_err(f"recorded {len(recording.trace.events)} events on {len(topology.nodes)} real "
              f"nodes (peers started in {report.get('peer_start_total_us', 0) / 1e6:.2f} s, "
              + (f"worm {worm / 1e3:.1f} ms)" if worm is not None else "worm stopped)"))
    if report.get("outcome") == "stopped":
        _echo_err(f"inkworm: the worm had not answered after {deadline_s:g} s (--deadline): "
                  "the run was stopped and its trace has no outcome")
        raise SystemExit(1)


@cli.command()
@click.argument("graph")
def cluster(graph: str) -> None:
    """Start a local cluster from GRAPH and print its observed topology as DOT."""
    from inkworm.record import observe

    text = to_dot(observed_topology(observe(load_dot(graph))))
    _emit(lambda out: out.write(text), None)  # a terminal sees names escaped


def picture_options(func: F) -> F:
    """Options shared by the commands that draw a run (render, slides)."""
    decorators: list[Callable[[Any], Any]] = [
        click.argument("input_path", metavar="INPUT"),
        worm_options,
        click.option("--graph", metavar="DOT",
                     help="The topology of a trace INPUT (default: the DOT file its header "
                          "names, beside it; else derived from the trace)."),
        click.option("-q", "--quality", type=click.Choice(["l", "m", "h", "k"]),
                     help="480p15, 720p30, 1080p60, 2160p60 (default: l for a video, h for "
                          "a still and for slides)."),
        click.option("--pace", type=_Finite(min=0.1, max=10), default=1.0, show_default=True,
                     help="Reading pace: 2 = twice as slow, 0.5 = brisk. No caption is on "
                          "screen for less than max(1.5 s, 0.3 s a word, 1 s per 17 "
                          "characters) times this."),
        click.option("--timing", type=click.Choice(["uniform", "measured"]), default="uniform",
                     show_default=True, help="Equal steps, or proportional to t_us."),
        click.option("--duration", type=_Finite(min=0.5, max=3600), metavar="SECONDS",
                     help="Fit the whole run in this many seconds (0.5 to 3600)."),
        click.option("--camera", type=click.Choice(["auto", "follow", "whole"]),
                     default="auto", show_default=True,
                     help="follow: a close view that follows the ink, with a minimap of the "
                          "chip (auto: above 40 nodes); whole: the whole chip throughout."),
        click.option("--story", type=click.Choice(["full", "visits", "key"]),
                     help="How much is told: every step (full), captions summarising the "
                          "walk (visits, 60 s), or the key moments (key, 30 s). Default: "
                          "full up to 40 visits, visits beyond."),
        click.option("--layout", "layout_name", type=click.Choice(list(LAYOUTS)),
                     default="auto", show_default=True,
                     help="auto: DOT pos, else neato (sfdp for large graphs)."),
        click.option("--seed", type=SEED, default=0, show_default=True,
                     help="Layout seed (0 to 2^32 - 1)."),
        click.option("--transparent", is_flag=True,
                     help="No background outside the chip (text on plates: legible on any "
                          "slide)."),
        click.option("--theme", type=click.Choice(["dark", "light"]), default="dark",
                     show_default=True, help="The slide around the chip: dark or light."),
        click.option("--style", type=click.Choice(["ink", "schematic"]), default="ink",
                     show_default=True,
                     help="ink: dye in a moulded chip; schematic: flat fills."),
        click.option("--captions", type=click.Choice(["burned", "none"]),
                     help="Captions drawn into the frames, or none on screen (subtitles and "
                          "chapters are still written). Default: burned; none with "
                          "--embed-subtitles (a player shows them)."),
        click.option("--title", metavar="TEXT",
                     help="A title card before the run (a video), the deck's title (slides)."),
        click.option("--compare", "compare_path", metavar="INPUT2",
                     help="Side by side with a second run (a DOT file, simulated, or a "
                          "trace): one layout, steps aligned by visit, the maps' diff at "
                          "the end."),
        click.option("--compare-mode", type=EnumChoice(Mode),
                     help="The probe mode of INPUT2 when it is a DOT file (default: --mode)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _picture(kw: dict[str, Any]) -> tuple[Topology, Trace, Any, Any]:
    """Load the run (and the one it is compared with) and build the render options from the
    shared picture options: ``(topology, trace, options, compare)``."""
    from inkworm.render.board import RenderOptions
    from inkworm.render.timeline import Story, Timing
    from inkworm.render.video import load_run

    topology, trace = load_run(kw["input_path"], kw["spec"], kw["graph"])
    _warn_ignored_run_options(trace.path is not None)  # a trace read from a file
    _warn(topology)
    options = RenderOptions(timing=Timing(kw["timing"]), duration=kw["duration"],
                            pace=kw["pace"],
                            layout=kw["layout_name"], seed=kw["seed"],
                            transparent=kw["transparent"], theme=kw["theme"],
                            style=kw["style"], camera=kw["camera"],
                            story=Story(kw["story"]) if kw["story"] else None,
                            captions=kw["captions"] != "none", title=kw["title"] or None)
    return topology, trace, options, _compared(kw, topology, trace)


def _compared(kw: dict[str, Any], topology: Topology, trace: Trace) -> Any:
    """The two runs of ``--compare``, labelled (``None`` without it)."""
    from inkworm.render.compare import label_runs
    from inkworm.render.video import load_run

    other = kw["compare_path"]
    if other is None:
        if kw["compare_mode"] is not None:
            raise click.UsageError("--compare-mode goes with --compare")
        return None
    spec = kw["spec"]
    if kw["compare_mode"] is not None:
        spec = dataclasses.replace(spec, mode=kw["compare_mode"])
    second_topology, second = load_run(other, spec)
    if second.path is not None and kw["compare_mode"] is not None:
        _echo_err("warning: --compare-mode ignored: INPUT2 is a trace (a run already made)")
    _warn(second_topology)
    return label_runs((topology, trace), (second_topology, second))


def _inputs(kw: dict[str, Any], topology: Topology) -> tuple[str | None, ...]:
    """Every file a picture command reads (an output may be none of them)."""
    return (kw["input_path"], kw["graph"], topology.path, kw["compare_path"])


@cli.command()
@picture_options
@click.option("--format", "fmt", type=click.Choice(["mp4", "webm", "mov", "gif", "png"]),
              help="Default: from -o's extension, else mp4. webm and mov keep alpha with "
                   "--transparent (VP9; ProRes 4444); png: the last frame, 1080p unless -q.")
@click.option("-o", "--output", metavar="FILE",
              help="Output file (default: renders/<input>-<mode>.<format>).")
@click.option("--subtitles", metavar="FILE.vtt",
              help="Also write every caption as a WebVTT cue, with its exact interval.")
@click.option("--chapters", metavar="FILE.vtt",
              help="Also write WebVTT chapters: one per visit, one for the result.")
@click.option("--embed-subtitles", is_flag=True,
              help="Put every caption into the MP4 as a subtitle track (players show it).")
@click.option("--at", "at", metavar="SPEC[,SPEC...]",
              help="With --format png: the frame at seq=N, at an event (connect:f:a, "
                   "probe_start:d, crash) or final; several: one PNG each, OUT-<spec>.png.")
@click.option("--sheet", is_flag=True,
              help="With --at: one contact sheet of all the moments, each labelled.")
@click.option("--cols", type=click.IntRange(1, 12), metavar="N",
              help="With --sheet: N tiles a row (default: the grid closest to 16:9).")
def render(fmt: str | None, output: str | None, subtitles: str | None, chapters: str | None,
           embed_subtitles: bool, at: str | None, sheet: bool, cols: int | None,
           **kw: Any) -> None:
    """Render INPUT (a DOT file, simulated, or a trace) as ink in a chip."""
    from inkworm.render.video import default_output, output_format, print_progress
    from inkworm.render.video import render as run

    _check_output(output, kw["input_path"], kw["graph"], kw["compare_path"])
    fmt = output_format(fmt, output, kw["transparent"])
    unburned = embed_subtitles and kw["captions"] is None
    if unburned:
        kw["captions"] = "none"
    if at is not None and fmt != "png":
        raise click.UsageError("--at goes with --format png")
    if sheet and at is None:
        raise click.UsageError("--sheet goes with --at")
    if cols is not None and not sheet:
        raise click.UsageError("--cols goes with --sheet")
    topology, trace, options, compare = _picture(kw)
    target = output or str(default_output(kw["input_path"], trace, fmt))
    if at is not None:
        from inkworm.render.stills import moments, stills

        traces = (trace,) if compare is None else (compare[0].trace, compare[1].trace)
        for path in stills(topology, trace, moments(at, *traces), target,
                           kw["quality"] or "h", options, inputs=_inputs(kw, topology),
                           compare=compare, sheet=sheet, cols=cols):
            _echo_err(f"wrote {path}")
        return
    quality = kw["quality"] or ("h" if fmt == "png" else "l")  # a still is a slide's picture
    done = run(topology, trace, target, quality, fmt, options,
               progress=print_progress, inputs=_inputs(kw, topology),
               subtitles=subtitles, chapters=chapters, embed_subtitles=embed_subtitles,
               compare=compare, notice=lambda line: _echo_err(f"note: {line}"))
    if unburned:  # said once it is done: a refused option stays one line
        _echo_err("note: --embed-subtitles: no captions drawn into the frames (the player "
                  "shows the subtitle track; --captions burned draws them as well)")
    _echo_err(f"wrote {done}")


@cli.command()
@picture_options
@click.option("-o", "--output", metavar="FILE.html",
              help="The deck (default: renders/<input>-<mode>.html).")
def slides(output: str | None, **kw: Any) -> None:
    """Turn INPUT into a self-contained reveal.js deck, one slide per visit."""
    from inkworm.render.slides import make_deck
    from inkworm.render.video import default_output, print_progress, with_stop_points

    _check_output(output, kw["input_path"], kw["graph"], kw["compare_path"])
    topology, trace, options, compare = _picture(kw)
    target = output or str(default_output(kw["input_path"], trace, "html"))
    check_target(target, _inputs(kw, topology))
    done = make_deck(topology, trace, target, kw["quality"] or "h", options,
                     progress=with_stop_points(print_progress), compare=compare,
                     notice=lambda line: _echo_err(f"note: {line}"))
    _echo_err(f"wrote {done}")


@cli.command(name="check")
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
        _check_output(snapshot, trace_path, graph)
    trace = load_trace(trace_path)
    topology = load_dot(graph) if graph else None
    if topology:
        _warn(topology)
    violations = check(trace)
    for v in violations:
        _echo(v.format(trace_path))
    failed = bool(violations)
    try:
        if expect_order is not None:
            assert_visit_order(trace, expect_order)
        if snapshot is not None and assert_matches_snapshot(trace, snapshot, update):
            _echo_err(f"snapshot written: {snapshot}")
    except TraceAssertionError as err:
        _echo_lines(str(err))
        failed = True
    differs = False
    if topology is not None and graph is not None:
        found = diff_lines(views.topology_diff(trace, topology), graph)
        for line in found:
            _echo(line)
        differs = bool(found)
        failed = failed or (strict and differs)
    if not quiet:
        events = len(trace.events)
        status = (f"{len(violations)} violation(s)" if violations
                  else "valid, but its map differs from the graph" if strict and differs
                  else "valid, but not as expected" if failed else "valid")
        _echo_err(f"{trace_path}: {events} events, {status}")
    return 1 if failed else 0


@cli.command(name="import-log")
@click.argument("log")
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default="naive",
              show_default=True, help="Which probe produced the log.")
@click.option("-o", "--output", metavar="TRACE", help="Write the trace here (default: stdout).")
def import_log_cmd(log: str, mode: str, output: str | None) -> None:
    """Turn the seed probe's console output (LOG) into a trace with source: log."""
    from inkworm.importlog import import_log

    _check_output(output, log)
    trace = import_log(log, Mode(mode))
    _emit(lambda out: write_trace(trace, out), output, (log,))


@cli.command()
@click.option("--nodes", type=click.IntRange(1, MAX_NODES), required=True,
              help=f"Number of nodes (at most {MAX_NODES:,}, what inkworm reads).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Random seed.")
@click.option("--extra", type=_Finite(min=0, max=MAX_EDGES), default=0.5, show_default=True,
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
    _check_output(output)
    topology = sparse_cluster(nodes, seed, extra)
    _emit(lambda out: out.write(to_dot(topology)), output)


@cli.command()
@click.argument("input_path", metavar="INPUT")
@click.option("-o", "--output", metavar="DOT", help="Write here (default: stdout).")
def dot(input_path: str, output: str | None) -> None:
    """Print INPUT as DOT in the seed's notation: a DOT file normalised, or the map a trace
    discovered (its result, else what its probes saw)."""
    _check_output(output, input_path)
    loaded = load_input(input_path)
    topology = loaded if isinstance(loaded, Topology) else reported_topology(loaded)
    text = to_dot(topology)
    _emit(lambda out: out.write(text), output, (input_path,))


@cli.command()
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
        _warn(loaded)
        trace = run(loaded, spec)
    else:
        _warn_ignored_run_options(True)
        trace = loaded
        if graph is not None:
            topology = load_dot(graph)
            _warn(topology)
        else:
            named = views.topology_of(trace, Path(input_path))
            topology = None if named.name == views.DERIVED else named
    for line in summary_lines(trace, topology):
        _echo(line)


def _terminate(signum: int, _frame: object) -> None:
    for sig in _TRAPPED:  # a second signal must not cut the clean-up short
        signal.signal(sig, signal.SIG_IGN)
    request_stop(signum)  # raises Terminated (see inkworm.errors.request_stop)


_TRAPPED = (signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def _trap_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` while a command runs (main thread)."""
    previous: dict[signal.Signals, Any] = {}
    clear_stop()
    try:
        for sig in _TRAPPED:
            previous[sig] = signal.signal(sig, _terminate)
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        yield
        stop_point()  # a stop whose exception Python dropped ends here, not with exit 0
    finally:
        for trapped, handler in previous.items():
            signal.signal(trapped, handler)
        clear_stop()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning bad input into one line and exit code 2."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    if argv is None:  # the process is ours: a collection every 50,000 new objects, not 700
        gc.set_threshold(50_000, 20, 20)  # (0.1-0.2 s of a 1,000-node render's 0.25 s in GC)
    try:
        with _trap_signals():
            code = cli.main(args=argv, prog_name="inkworm", standalone_mode=False)
    except Terminated as err:
        _echo_err(f"inkworm: terminated by {signal.Signals(err.signum).name}")
        code = 128 + err.signum
    except click.exceptions.Exit as err:
        code = err.exit_code
    except click.exceptions.Abort:
        _echo_err("inkworm: aborted")
        code = 130
    except click.ClickException as err:
        if debug:
            raise
        _echo_err(f"inkworm: {err.format_message()}")
        code = 2
    except InputError as err:
        if debug:
            raise
        _echo_err(f"inkworm: {err}")
        code = 2
    except ToolError as err:
        if debug:
            raise
        _echo_err(f"inkworm: {err}")
        code = ToolError.exit_code
    except BrokenPipeError:
        code = 0
    except Exception as err:  # a bug in inkworm: say so, in one line
        if debug:
            raise
        _echo_err(f"inkworm: internal error ({type(err).__name__}: {printable(str(err))[:200]}); "
                  "this is a bug in inkworm: --debug shows the traceback")
        code = INTERNAL_ERROR
    if argv is None:  # the process ends here (not a caller's): its objects need no search
        gc.freeze()  # for cycles on the way out (0.25 s of a 1,000-node render's exit)
    sys.exit(code if isinstance(code, int) else 0)


INTERNAL_ERROR = 70
"""Exit code of an internal failure (EX_SOFTWARE): input errors exit 2, tool errors 3."""
