"""pytest plugin (entry point ``pytest11``): fixtures for worm traces, snapshot updating, and
a PNG of the chip at the moment an assertion failed.

Fixtures (each returns a function):

* ``inkworm_trace(path)`` - load a trace file (recorded, simulated or imported);
* ``inkworm_topology(path)`` - load a DOT file;
* ``inkworm_simulate(dot, mode="naive", ...)`` - run the worm model on a DOT file;
* ``inkworm_record(dot, mode="naive", ...)`` - run the real worm on a local :peer cluster
  (skipped, with the reason, when Elixir is not installed);
* ``inkworm_snapshot(trace, name="")`` - compare with
  ``__inkworm_snapshots__/<module>.<test>[-name].json`` beside the test file (a missing one
  fails the test, as syrupy does, so that a CI run never passes on a snapshot it just wrote;
  ``--inkworm-update-snapshots`` writes or rewrites them).

Options: ``--inkworm-update-snapshots``; ``--inkworm-render-failures`` renders the chip at the
first offending event of a failed trace assertion to a PNG and prints its path.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("inkworm.testing")

from inkworm.reader import load_trace  # noqa: E402
from inkworm.run import AutoConnect, EdgeOrder, Mode, RunSpec  # noqa: E402
from inkworm.testing import TraceAssertionError, assert_matches_snapshot  # noqa: E402
from inkworm.topology import Topology, load_dot  # noqa: E402
from inkworm.trace import Trace  # noqa: E402
from inkworm.views import transcript  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("inkworm")
    group.addoption("--inkworm-update-snapshots", action="store_true",
                    help="Rewrite inkworm ordering snapshots instead of comparing.")
    group.addoption("--inkworm-render-failures", action="store_true",
                    help="Render the chip at a failed trace assertion to a PNG.")
    group.addoption("--inkworm-failures-dir", default=".inkworm-failures",
                    help="Where --inkworm-render-failures writes (default: .inkworm-failures).")


def _path(request: pytest.FixtureRequest, path: str | Path) -> Path:
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    beside = Path(request.path).parent / p
    return beside if beside.exists() else p


@pytest.fixture
def inkworm_trace(request: pytest.FixtureRequest) -> Callable[[str | Path], Trace]:
    return lambda path: load_trace(_path(request, path))


@pytest.fixture
def inkworm_topology(request: pytest.FixtureRequest) -> Callable[[str | Path], Topology]:
    return lambda path: load_dot(_path(request, path))


@pytest.fixture
def inkworm_simulate(request: pytest.FixtureRequest) -> Callable[..., Trace]:
    from inkworm.worm import simulate

    def run(dot: str | Path, mode: str = "naive", launch: str | None = None,
            edge_order: str = "dot", auto_connect: str = "always") -> Trace:
        spec = RunSpec(launch=launch, mode=Mode(mode), edge_order=EdgeOrder(edge_order),
                       auto_connect=AutoConnect(auto_connect))
        return simulate(load_dot(_path(request, dot)), spec)

    return run


@pytest.fixture
def inkworm_record(request: pytest.FixtureRequest) -> Callable[..., Trace]:
    from inkworm.record import RecordOptions, elixir_available, record

    if not elixir_available():
        pytest.skip("inkworm_record needs a real BEAM: elixir/epmd are not installed")

    def run(dot: str | Path, mode: str = "naive", launch: str | None = None,
            edge_order: str = "dot", auto_connect: str = "always", timeout_ms: int = 10_000,
            tolerant: bool = False) -> Trace:
        opts = RecordOptions(launch=launch, mode=Mode(mode), edge_order=EdgeOrder(edge_order),
                             auto_connect=AutoConnect(auto_connect), timeout_ms=timeout_ms,
                             tolerant=tolerant)
        return record(load_dot(_path(request, dot)), opts).trace

    return run


@pytest.fixture
def inkworm_snapshot(request: pytest.FixtureRequest) -> Callable[..., None]:
    update = bool(request.config.getoption("--inkworm-update-snapshots"))
    folder = Path(request.path).parent / "__inkworm_snapshots__"
    test = _file_name(request.node)

    def compare(trace: Trace, name: str = "") -> None:
        __tracebackhide__ = True
        target = folder / (f"{test}-{name}.json" if name else f"{test}.json")
        if not update and not os.path.lexists(target):
            pytest.fail(f"no inkworm snapshot at {target}: run pytest with "
                        "--inkworm-update-snapshots to write it", pytrace=False)
        if assert_matches_snapshot(trace, target, update=update):
            request.node.add_report_section("call", "inkworm", f"snapshot written: {target}")

    return compare


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    error = call.excinfo.value if call.excinfo else None
    if report.when != "call" or not isinstance(error, TraceAssertionError):
        return
    if not item.config.getoption("--inkworm-render-failures"):
        return
    folder = Path(item.config.getoption("--inkworm-failures-dir"))
    try:
        png = render_failure(error, folder / f"{_file_name(item)}.png")
        note = f"inkworm: the chip at seq {error.seq} is rendered at {png}"
    except ImportError as err:
        note = f"inkworm: cannot render the failure ({err}); install inkworm[render]"
    except Exception as err:  # a failure picture must never break the test run
        note = f"inkworm: cannot render the failure: {err}"
    report.sections.append(("inkworm", note))


def _file_name(item: pytest.Item) -> str:
    """``<module>.<test>``, unique across modules; a short hash of the test's id is added
    when its parameters had to be rewritten to make a file name (``[a b]`` and ``[a/b]``)."""
    name = f"{Path(str(item.path)).stem}.{item.name}"
    readable = re.sub(r"[^\w.-]+", "_", name)[:100]
    if readable == name:
        return readable
    return f"{readable}-{hashlib.sha1(item.nodeid.encode()).hexdigest()[:8]}"


def render_failure(error: TraceAssertionError, target: Path) -> Path:
    """A PNG of the chip when the offending event happened, that step highlighted."""
    from PIL import Image

    from inkworm.render.board import Board
    from inkworm.render.options import RenderOptions
    from inkworm.render.timeline import steps_from_trace, time_steps
    from inkworm.runs import renderable
    from inkworm.views import renamed, topology_of

    trace = error.trace
    topology = topology_of(trace, Path(trace.path) if trace.path else None)
    trace = renamed(trace, topology)
    renderable(trace, topology, trace.path or "<trace>")
    steps = time_steps(steps_from_trace(trace))
    board = Board(trace, topology, steps, RenderOptions(), 854, 480)
    seq = error.seq if error.seq is not None else trace.events[-1].seq if trace.events else 0
    step = next((s for s in board.steps if seq in s.seqs or s.seqs[-1] >= seq), None)
    if step is None:
        board.finish()
    else:
        board.advance(step.end)
        board.highlight(step)
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(board.screen.frame[..., :3]).save(target)
    return target


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: object,
                              right: object) -> list[str] | None:
    """``assert trace_a == trace_b``: the first differing event, not a dataclass dump."""
    if op != "==" or not isinstance(left, Trace) or not isinstance(right, Trace):
        return None
    a, b = transcript(left.events), transcript(right.events)
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            seq = left.events[i].seq
            return ["traces differ", f"first difference at event {i} (seq {seq}):",
                    f"  left:  {x}", f"  right: {y}"]
    if len(a) != len(b):
        return ["traces differ", f"left has {len(a)} events, right has {len(b)}"]
    return ["traces differ in their headers", f"  left:  {left.header}",
            f"  right: {right.header}"]


