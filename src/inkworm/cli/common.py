"""What the commands share: one-line output, option types, the worm's options."""

from __future__ import annotations

import enum
import functools
import math
import sys
from collections.abc import Callable
from typing import IO, Any, TypeVar, cast

import click
from click.core import ParameterSource

from inkworm.collect import BUILTINS, parse_names
from inkworm.errors import (
    InputError,
    printable,
    terminal_safe,
)
from inkworm.output import atomic_text, check_target
from inkworm.run import AutoConnect, EdgeOrder, Mode, RunSpec, Strategy
from inkworm.topology import Topology

F = TypeVar("F", bound=Callable[..., Any])


def echo_err(message: str) -> None:
    """One line on stderr; anything from input in it is escaped (:func:`printable`)."""
    click.echo(printable(message), err=True)


def echo(line: str) -> None:
    """One line of a report on stdout, escaped: a name can neither act on the terminal nor
    fake a line of its own."""
    click.echo(printable(line))


def echo_lines(text: str) -> None:
    """A report of several lines on stdout, each escaped."""
    click.echo("\n".join(printable(line) for line in text.split("\n")))


def warn_dot(topology: Topology) -> None:
    for warning in topology.warnings:
        echo_err(f"warning: {warning}")


def emit(text_writer: Callable[[IO[str]], object], out: str | None,
          inputs: tuple[str | None, ...] = ()) -> None:
    """Write through ``text_writer`` to ``out`` atomically (never over one of ``inputs``), or
    to stdout; a terminal sees control characters of names escaped (the data is exact only
    in a file or a pipe)."""
    if out is None or out == "-":
        text_writer(cast(IO[str], TerminalSafe(sys.stdout)) if sys.stdout.isatty()
                    else sys.stdout)
        return
    with atomic_text(out, inputs) as stream:
        text_writer(stream)


class TerminalSafe:
    """A text stream that escapes what a terminal would act on (newlines and tabs pass)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        return self.stream.write(terminal_safe(text))

    def flush(self) -> None:
        self.stream.flush()


def check_output(output: str | None, *inputs: str | None) -> None:
    """Refuse a bad ``-o`` before any work (see :func:`inkworm.output.check_target`)."""
    if output not in (None, "-"):
        check_target(output, inputs)


class Finite(click.FloatRange):
    """A float in a range, and a number: ``nan`` and ``inf`` are refused."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


#: Seeds of the layouts (numpy's seeded generators take 0 to 2**32 - 1).
SEED = click.IntRange(0, 2**32 - 1)


def usage(parse: Callable[[Any], Any], value: Any) -> Any:
    """``parse(value)``, its InputError as a usage error (the option's own words were off)."""
    try:
        return parse(value)
    except InputError as err:
        raise click.UsageError(err.message) from None


def parse_latency(_ctx: click.Context, _param: click.Parameter, value: str) -> Any:
    from inkworm.worm import Latency

    try:
        return Latency.parse(value)
    except InputError as err:
        raise click.BadParameter(err.message) from None


def warn_ignored_run_options(input_is_trace: bool) -> None:
    """A trace is a run already: say so when run options were given with one."""
    if not input_is_trace:
        return
    ctx = click.get_current_context()
    given = [name for name in ("launch", "mode", "edge_order", "auto_connect", "strategy")
             if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        echo_err(f"warning: {flags} ignored: INPUT is a trace (a run already made)")


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
                       collect=usage(parse_names, collect))
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


def fault_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The fault options simulate and record share (declared once: one meaning, one range),
    handed to the command as one ``faults: Faults | None`` (``None``: a run without faults)."""
    from inkworm.run import Fault, Faults

    @functools.wraps(func)
    def with_faults(*args: Any, kill: str | None, after: str | None, tolerant: bool,
                    timeout_ms: int | None, **kwargs: Any) -> Any:
        if (kill is None) != (after is None):
            raise click.UsageError("--kill and --after go together")
        faults = Faults(kill=Fault(kill, after) if kill and after else None,
                        tolerant=tolerant, timeout_ms=timeout_ms)
        return func(*args, faults=faults if faults != Faults() else None, **kwargs)

    decorators = [
        click.option("--kill", metavar="NODE",
                     help="Stop NODE during the run (fault injection)..."),
        click.option("--after", metavar="OTHER", help="...right after OTHER's probe starts."),
        click.option("--tolerant", is_flag=True,
                     help="Record failed calls and keep going (partial map) instead of "
                          "crashing."),
        click.option("--timeout", "timeout_ms", type=click.IntRange(min=1, max=2**32 - 1),
                     help="erpc timeout per call, in ms (default: infinity, as the seed)."),
    ]
    command: Callable[..., Any] = with_faults
    for decorator in reversed(decorators):
        command = decorator(command)
    return command
