"""The ``inkworm`` command: a thin click shell over the library.

Bad input is one line on stderr naming the file and line, exit code 2, no traceback (``--debug``
shows one); outputs are written atomically, so a failed command leaves no partial file.
"""

from __future__ import annotations

import contextlib
import gc
import signal
import sys
from collections.abc import Iterator
from typing import Any

import click

from inkworm.cli import inspect, live, pictures, runs
from inkworm.cli.common import echo_err
from inkworm.errors import (
    InputError,
    Terminated,
    ToolError,
    clear_stop,
    printable,
    request_stop,
    stop_point,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks for bad input.")
@click.version_option(package_name="inkworm")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """inkworm: an Erlang cluster traversal (the worm) as ink in a microfluidic chip."""
    ctx.obj = {"debug": debug}


for command in (runs.simulate, runs.record, runs.cluster, live.map_, pictures.render,
                pictures.slides,
                pictures.view,
                inspect.check_cmd, inspect.import_log_cmd, inspect.gen, inspect.dot,
                inspect.summary, inspect.export):
    cli.add_command(command)


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
        echo_err(f"inkworm: terminated by {signal.Signals(err.signum).name}")
        code = 128 + err.signum
    except click.exceptions.Exit as err:
        code = err.exit_code
    except click.exceptions.Abort:
        echo_err("inkworm: aborted")
        code = 130
    except click.ClickException as err:
        if debug:
            raise
        echo_err(f"inkworm: {err.format_message()}")
        code = InputError.exit_code  # a usage error is bad input too
    except (InputError, ToolError) as err:  # each says its exit code
        if debug:
            raise
        echo_err(f"inkworm: {err}")
        code = err.exit_code
    except BrokenPipeError:
        code = 0
    except Exception as err:  # a bug in inkworm: say so, in one line
        if debug:
            raise
        echo_err(f"inkworm: internal error ({type(err).__name__}: {printable(str(err))[:200]}); "
                  "this is a bug in inkworm: --debug shows the traceback")
        code = INTERNAL_ERROR
    if argv is None:  # the process ends here (not a caller's): its objects need no search
        gc.freeze()  # for cycles on the way out (0.25 s of a 1,000-node render's exit)
    sys.exit(code if isinstance(code, int) else 0)


INTERNAL_ERROR = 70
"""Exit code of an internal failure (EX_SOFTWARE): input errors exit 2, tool errors 3."""
