"""The real recorder: run the worm on a real local ``:peer`` cluster and bring back trace v1.

Python prepares and supervises; Elixir does the work (``probe/``): ``local_cluster.exs``
starts one ``:peer`` node per DOT node (``-connect_all false``, stdio control connection, so the
controller is not part of the cluster), connects the edges in order, checks the observed
topology against the DOT file, launches ``inkworm_probe.exs`` on the launch node and writes
the trace. Each run gets a private ``epmd`` on a free loopback port (``ERL_EPMD_PORT``), which
this module starts and stops by PID, so no daemon outlives the run and parallel runs never
share node names. The Elixir process runs in its own session and is killed as a group on
Ctrl-C or timeout; its peers die with their stdio connection.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inkworm.errors import InputError
from inkworm.reader import load_trace
from inkworm.topology import EdgeOrder, Topology, locate
from inkworm.trace import Trace
from inkworm.worm import RunSpec

_NAME = re.compile(r"[A-Za-z0-9_-]+")
#: Exit code of ``local_cluster.exs`` when the started cluster does not match the DOT file.
TOPOLOGY_MISMATCH = 3


class RecorderError(InputError):
    """The real cluster could not be run (no Elixir, peers failed, topology mismatch)."""


def probe_dir() -> Path:
    """Where ``inkworm_probe.exs`` and ``local_cluster.exs`` live (``INKWORM_PROBE_DIR``)."""
    override = os.environ.get("INKWORM_PROBE_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "probe"


def elixir_available() -> bool:
    """True when ``elixir`` and ``epmd`` are on the PATH."""
    return shutil.which("elixir") is not None and shutil.which("epmd") is not None


@dataclass(frozen=True)
class Fault:
    """Fault injection: stop ``victim`` right after ``after``'s probe starts."""

    victim: str
    after: str


@dataclass(frozen=True)
class RecordOptions(RunSpec):
    """How to run the real worm: the run itself, and what only a real cluster has."""

    timeout_ms: int = 10_000
    """erpc timeout of each probe call."""
    tolerant: bool = False
    """Record failed calls and carry on (partial map) instead of the seed's crash."""
    delays_ms: dict[str, int] = field(default_factory=dict)
    """Per-node sleep right after its probe starts (to place a fault)."""
    fault: Fault | None = None
    deadline_s: float = 300.0
    """Wall-clock limit for the whole Elixir run."""


@dataclass(frozen=True)
class Recording:
    """A recorded run: its trace and what the cluster looked like around it."""

    trace: Trace
    report: dict[str, Any]
    """The driver's JSON report: observed topology before/after, probe residue, timings."""


def check_names(topology: Topology) -> None:
    """Every DOT node must be usable as a BEAM short node name."""
    for name in topology.nodes:
        if not _NAME.fullmatch(name):
            raise InputError(f"node name {name!r} cannot be a BEAM node name (letters, digits, "
                             "_ and - only) for a recorded run", *locate(topology, name))


def spec_text(topology: Topology, options: RecordOptions, out: Path,
              observe_only: bool = False) -> str:
    """The line format ``local_cluster.exs`` reads (edges already in connection order)."""
    launch = options.launch or topology.nodes[0]
    edges = topology.edges if options.edge_order is EdgeOrder.DOT else topology.edges[::-1]
    lines = [f"node {n}" for n in topology.nodes]
    lines += [f"edge {u} {v}" for u, v in edges]
    lines += [
        f"launch {launch}",
        f"mode {options.mode.value}",
        f"auto_connect {options.auto_connect.value}",
        f"timeout_ms {options.timeout_ms}",
        f"tolerant {'true' if options.tolerant else 'false'}",
        f"observe_only {'true' if observe_only else 'false'}",
        f"header edge_order {options.edge_order.value}",
        f"out {out}",
    ]
    if topology.source:
        lines.append(f"header graph {topology.source}")
    lines += [f"delay {node} {ms}" for node, ms in sorted(options.delays_ms.items())]
    if options.fault:
        lines.append(f"kill {options.fault.victim} after {options.fault.after}")
    return "\n".join(lines) + "\n"


def _validate(topology: Topology, options: RecordOptions) -> None:
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
            raise InputError(f"node '{node}' is not in the graph",
                             topology.path or topology.source)
    if not elixir_available():
        raise RecorderError("elixir/epmd not found: install Debian's 'elixir' package "
                            "(make setup does)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def private_epmd() -> Iterator[int]:
    """An ``epmd`` of our own on a free loopback port, stopped by PID afterwards."""
    port = _free_port()
    proc = subprocess.Popen(["epmd", "-port", str(port), "-address", "127.0.0.1"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
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
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_driver(spec: str, deadline_s: float) -> dict[str, Any]:
    """Run ``local_cluster.exs`` on ``spec``; return its JSON report."""
    driver = probe_dir() / "local_cluster.exs"
    if not driver.is_file():
        raise RecorderError(f"probe driver not found at {driver} (set INKWORM_PROBE_DIR)")
    with tempfile.TemporaryDirectory(prefix="inkworm-spec-") as tmp, private_epmd() as port:
        spec_path = Path(tmp) / "cluster.spec"
        spec_path.write_text(spec, encoding="utf-8")
        env = {**os.environ, "ERL_EPMD_PORT": str(port)}
        proc = subprocess.Popen(["elixir", str(driver), str(spec_path)], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=deadline_s)
        except BaseException:  # timeout or Ctrl-C: stop the driver and its peers as a group
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
    if proc.returncode != 0:
        lines = [line for line in err.splitlines() if line.strip()]
        message = lines[-1] if lines else f"exit code {proc.returncode}"
        raise RecorderError(f"real cluster run failed: {message}")
    try:
        report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise RecorderError(f"driver printed no report (stdout: {out[-200:]!r})") from None
    return report


def record(topology: Topology, options: RecordOptions) -> Recording:
    """Run the worm on a real cluster built from ``topology``; return its validated trace."""
    _validate(topology, options)
    with tempfile.TemporaryDirectory(prefix="inkworm-rec-") as tmp:
        trace_path = Path(tmp) / "trace.jsonl"
        report = run_driver(spec_text(topology, options, trace_path), options.deadline_s)
        trace = load_trace(trace_path)
    trace.path = None
    return Recording(trace, report)


def observe(topology: Topology) -> dict[str, list[str]]:
    """Start the cluster, return each node's ``nodes()`` (short names), stop it."""
    options = RecordOptions()
    _validate(topology, options)
    with tempfile.TemporaryDirectory(prefix="inkworm-obs-") as tmp:
        report = run_driver(spec_text(topology, options, Path(tmp) / "none.jsonl",
                                      observe_only=True), options.deadline_s)
    observed: dict[str, list[str]] = report["observed_before"]
    return observed
