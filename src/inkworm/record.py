"""The real recorder: run the worm on a real local ``:peer`` cluster and bring back trace v1.

Python prepares and supervises; Elixir does the work (``inkworm/probe/``, package data):
``local_cluster.exs`` starts one ``:peer`` node per DOT node (``-connect_all false``, stdio
control connection, so the controller is not part of the cluster), connects the edges in
order, checks the observed topology against the DOT file, launches ``inkworm_probe.exs`` on the
launch node and writes the trace.

The cluster is private to the run (see the README's "What the recorder exposes"): each run has
its own folder (``inkworm-run-<pid>-*``, mode 0700) that is the nodes' HOME and holds a fresh
random cookie, a private ``epmd`` on a free loopback port, and peers that listen on 127.0.0.1
only, under names with random bits of their own. The spec reaches the driver as an Erlang term,
not as text. Nothing outlives the run: the driver and epmd each hold a pipe from this process
and stop when it closes (also after a SIGKILL of this process); on any exception the driver's
process group is killed; a run folder left by a killed run is swept by the next run.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, Any

import orjson

from inkworm.collect import BUILTINS
from inkworm.errors import InputError, ToolError, read_text
from inkworm.output import leftover_prefix, sweep_leftovers
from inkworm.reader import load_trace
from inkworm.run import EdgeOrder, Fault, RunSpec
from inkworm.topology import Topology, locate
from inkworm.trace import Trace

_NAME = re.compile(r"[A-Za-z0-9_-]{1,200}")
#: The largest erpc timeout the runtime accepts (milliseconds).
MAX_TIMEOUT_MS = 2**32 - 1
#: The recorder's own limit on waiting for the worm (``--deadline``), seconds.
DEFAULT_DEADLINE_S = 120.0
#: What the driver may take besides the worm (boot, mesh, orphans, residue), seconds.
_DRIVER_SLACK_S = 90.0
#: Run folders are named after the recorder's pid, so a later run can tell a dead run's.
_RUN_PREFIX = "inkworm-run-"
#: Environment variables that would change how every ``erl`` of the run starts.
ERL_ENV = ("ERL_FLAGS", "ERL_AFLAGS", "ERL_ZFLAGS", "ERL_LIBS", "ERL_CRASH_DUMP",
            "ERL_EPMD_ADDRESS", "ERL_EPMD_PORT")


class RecorderError(ToolError):
    """The real cluster could not be run (no Elixir, peers failed, topology mismatch)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "elixir")


def probe_dir() -> Path:
    """Where ``inkworm_probe.exs`` and ``local_cluster.exs`` live: the package's own ``probe``
    folder (package data), or ``INKWORM_PROBE_DIR``."""
    override = os.environ.get("INKWORM_PROBE_DIR")
    if override:
        return Path(override)
    return Path(str(resources.files("inkworm") / "probe"))


def elixir_available() -> bool:
    """True when ``elixir`` and ``epmd`` are on the PATH."""
    return shutil.which("elixir") is not None and shutil.which("epmd") is not None


@dataclass(frozen=True)
class RecordOptions(RunSpec):
    """How to run the real worm: the run itself, and what only a real cluster has."""

    timeout_ms: int | None = None
    """erpc timeout of each probe call (0 .. 2**32-1); ``None``: infinity, as the seed."""
    tolerant: bool = False
    """Record failed calls and carry on (partial map) instead of the seed's crash."""
    delays_ms: dict[str, int] = field(default_factory=dict)
    """Per-node sleep right after its probe starts (to place a fault)."""
    fault: Fault | None = None
    deadline_s: float = DEFAULT_DEADLINE_S
    """How long the recorder waits for the worm's answer: past it, the run is stopped and its
    trace written without an outcome (``meta.stopped``)."""
    collector: Path | None = None
    """A user's collectors: an Elixir file whose value is a list of ``{name, fn -> v end}``."""


@dataclass(frozen=True)
class Recording:
    """A recorded run: its trace and what the cluster looked like around it."""

    trace: Trace
    report: dict[str, Any]
    """The driver's JSON report: observed topology before/after, probe residue, timings."""


def parse_delays(items: Iterable[str]) -> dict[str, int]:
    """``NODE=MS`` items (``--delay``) as a mapping; :class:`InputError` for any other shape."""
    delays: dict[str, int] = {}
    for item in items:
        node, sep, ms = item.partition("=")
        if not sep or not re.fullmatch(r"[0-9]{1,9}", ms):
            raise InputError(f"--delay {item}: expected NODE=MS")
        delays[node] = int(ms)
    return delays


def check_names(topology: Topology) -> None:
    """Every DOT node must be usable as a BEAM node name."""
    for name in topology.nodes:
        if not _NAME.fullmatch(name):
            raise InputError(f"node name {name!r} cannot be a BEAM node name (1 to 200 letters, "
                             "digits, _ and -) for a recorded run", *locate(topology, name))


def spec_term(topology: Topology, options: RecordOptions, out: Path,
              observe_only: bool = False) -> dict[str, Any]:
    """What ``local_cluster.exs`` reads (as an Erlang term): edges in connection order."""
    launch = options.launch or topology.nodes[0]
    edges = topology.edges if options.edge_order is EdgeOrder.DOT else topology.edges[::-1]
    header = [["edge_order", options.edge_order.value]]
    if topology.source:
        header.append(["graph", topology.source])
    return {
        "nodes": list(topology.nodes),
        "edges": [list(e) for e in edges],
        "launch": launch,
        "mode": options.mode.value,
        "auto_connect": options.auto_connect.value,
        "timeout_ms": options.timeout_ms,
        "tolerant": options.tolerant,
        "strategy": options.strategy.value,
        "collect": list(options.collect),
        "collector": _collector(options.collector),
        "deadline_ms": max(1, round(options.deadline_s * 1000)),
        "observe_only": observe_only,
        "header": header,
        "out": str(out),
        "delays": [[node, ms] for node, ms in sorted(options.delays_ms.items())],
        "kills": [[options.fault.victim, options.fault.after]] if options.fault else [],
    }


def _collector(path: Path | None) -> list[str] | None:
    if path is None:
        return None
    return [str(path), read_text(path, "collector")]


def validate(topology: Topology, options: RecordOptions) -> None:
    """Refuse anything the run cannot use, before a single process is started."""
    check_names(topology)
    launch = options.launch or topology.nodes[0]
    named = [launch, *options.delays_ms]
    if options.fault:
        named += [options.fault.victim, options.fault.after]
        if options.fault.victim == launch:
            raise InputError(f"--kill {launch}: the launch node cannot be killed (it writes "
                             "the trace)")
    for node in named:
        if node not in topology.nodes:
            raise InputError(f"node {node!r} is not in the graph",
                             topology.path or topology.source)
    for node, ms in options.delays_ms.items():
        if not 0 <= ms <= 3_600_000:
            raise InputError(f"delay {node}={ms}: expected 0 to 3600000 ms")
    check_run_options(options.timeout_ms, options.collect, options.collector,
                      options.deadline_s)


def check_run_options(timeout_ms: int | None, collect: Iterable[str], collector: Path | None,
                      deadline_s: float) -> None:
    """What a real run (on a cluster inkworm starts, or attached to one) refuses alike,
    before a process starts; and Elixir must be there."""
    if timeout_ms is not None and not 0 <= timeout_ms <= MAX_TIMEOUT_MS:
        raise InputError(f"timeout {timeout_ms} ms: expected 0 to {MAX_TIMEOUT_MS}")
    for name in collect:
        if name not in BUILTINS:
            raise InputError(f"--collect {name}: expected one of {', '.join(BUILTINS)}")
    if collector is not None:
        read_text(collector, "collector")  # a missing or unreadable file: one line, exit 2
    if not 0 < deadline_s <= MAX_TIMEOUT_MS / 1000:
        raise InputError(f"deadline {deadline_s} s: expected a positive number")
    if not elixir_available():
        raise RecorderError("elixir/epmd not found: install Debian's 'elixir' package "
                            "(make setup does)")


def sweep_run_dirs(tmp: Path | None = None) -> list[Path]:
    """Remove run folders of ours whose recorder is gone (a run killed with SIGKILL)."""
    return sweep_leftovers(Path(tmp or tempfile.gettempdir()), _RUN_PREFIX)


@contextmanager
def run_dir() -> Iterator[Path]:
    """The run's private folder (0700): HOME of every node, with a fresh random cookie."""
    with private_home(_RUN_PREFIX, secrets.token_hex(32)) as path:
        yield path


@contextmanager
def private_home(prefix: str, cookie: str) -> Iterator[Path]:
    """A private folder (0700) named ``prefix<pid>-*`` whose ``home`` holds ``cookie`` in
    ``.erlang.cookie`` (0400): the HOME of the nodes a run starts. Removed afterwards; one
    left by a killed run is swept first."""
    sweep_leftovers(Path(tempfile.gettempdir()), prefix)
    path = Path(tempfile.mkdtemp(prefix=leftover_prefix(prefix)))
    try:
        home = path / "home"
        home.mkdir(mode=0o700)
        fd = os.open(home / ".erlang.cookie", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        with os.fdopen(fd, "w") as f:
            f.write(cookie)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_group(proc: subprocess.Popen[bytes], lifeline: IO[bytes] | None) -> None:
    """Close the lifeline, give the process group a moment, then kill what is left of it."""
    if lifeline is not None:
        with suppress(OSError):
            lifeline.close()
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=2)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


#: epmd under a watchdog shell: epmd stops when the shell's stdin (a pipe from the recorder)
#: closes, also when the recorder was killed with SIGKILL and could not stop it.
_EPMD = 'epmd -port "$1" -address 127.0.0.1 & e=$!; trap \'kill $e\' EXIT HUP TERM; read _ || :'


@contextmanager
def private_epmd() -> Iterator[int]:
    """An ``epmd`` of our own on a free loopback port, stopped with this process."""
    port = _free_port()
    proc = subprocess.Popen(["sh", "-c", _EPMD, "sh", str(port)], stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        import socket

        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RecorderError(f"epmd did not start on port {port}") from None
                time.sleep(0.02)
        yield port
    finally:
        stop_group(proc, proc.stdin)


def _driver_env(home: Path, port: int, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ERL_ENV}
    env.update(HOME=str(home), ERL_EPMD_PORT=str(port),
               ERL_CRASH_DUMP=str(folder / "erl_crash.dump"))
    return env


def run_driver(spec: dict[str, Any], folder: Path, deadline_s: float) -> dict[str, Any]:
    """Run ``local_cluster.exs`` on ``spec`` inside the run ``folder``; return its report."""
    from inkworm.etf import encode

    driver = probe_dir() / "local_cluster.exs"
    if not driver.is_file():
        raise RecorderError(f"probe driver not found at {driver} (set INKWORM_PROBE_DIR)")
    spec_path = folder / "spec.etf"
    spec_path.write_bytes(encode(spec))
    with private_epmd() as port:
        code, stdout, stderr = drive(["elixir", str(driver), str(spec_path)],
                                     _driver_env(folder / "home", port, folder), folder,
                                     deadline_s, f"the real cluster run took longer than "
                                     f"{deadline_s:g} s: stopped")
    if code != 0:
        lines = [line for line in stderr.splitlines() if line.strip()]
        message = lines[-1] if lines else f"exit code {code}"
        raise RecorderError(f"real cluster run failed: {message}")
    return last_report(stdout, "driver")


def drive(command: list[str], env: dict[str, str], folder: Path, timeout_s: float,
          too_long: str) -> tuple[int, str, str]:
    """Run an Elixir driver in ``folder``, its standard input its lifeline (it stops when
    that closes), its output kept in files there: ``(exit code, stdout, stderr)``. Past
    ``timeout_s``, or on Ctrl-C or SIGTERM, its whole process group is stopped (the
    first: :class:`RecorderError` ``too_long``)."""
    out_path, err_path = folder / "driver.out", folder / "driver.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(command, env=env, cwd=folder, stdin=subprocess.PIPE,
                                stdout=out, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            stop_group(proc, proc.stdin)
            raise RecorderError(too_long) from None
        except BaseException:  # Ctrl-C, SIGTERM: stop the driver (and its peers) as a group
            stop_group(proc, proc.stdin)
            raise
        stop_group(proc, proc.stdin)
    return (proc.returncode, out_path.read_text(encoding="utf-8", errors="replace"),
            err_path.read_text(encoding="utf-8", errors="replace"))


def last_report(stdout: str, what: str) -> dict[str, Any]:
    """A driver's report: the JSON object on its last line of output."""
    try:
        report: dict[str, Any] = orjson.loads(stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RecorderError(f"{what} printed no report (stdout: {stdout[-200:]!r})") from None
    return report


def record(topology: Topology, options: RecordOptions) -> Recording:
    """Run the worm on a real cluster built from ``topology``; return its validated trace."""
    validate(topology, options)
    with run_dir() as folder:
        trace_path = folder / "trace.jsonl"
        report = run_driver(spec_term(topology, options, trace_path), folder,
                            options.deadline_s + _DRIVER_SLACK_S)
        trace = load_trace(trace_path)
    trace.path = None
    return Recording(trace, report)


def observe(topology: Topology) -> dict[str, list[str]]:
    """Start the cluster, return each node's ``nodes()`` (short names), stop it."""
    options = RecordOptions()
    validate(topology, options)
    with run_dir() as folder:
        report = run_driver(spec_term(topology, options, folder / "none.jsonl",
                                      observe_only=True), folder, _DRIVER_SLACK_S)
    observed: dict[str, list[str]] = report["observed_before"]
    return observed
