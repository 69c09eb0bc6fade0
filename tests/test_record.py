"""The real recorder on a real local :peer cluster: the simulator must tell the truth.

Every test here starts real BEAM nodes (Debian's elixir; a private epmd per run).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GRAPHS
from inkworm import AutoConnect, EdgeOrder, Mode, check, load_dot, simulate
from inkworm.record import Fault, Recording, RecordOptions, observe, record
from inkworm.trace import Crash, Error, Result, Source
from inkworm.views import neighbor_lists, result_map, topology_diff, visit_order

pytestmark = [
    pytest.mark.beam,
    pytest.mark.skipif(shutil.which("elixir") is None, reason="elixir is not installed"),
]

CASES = [
    ("bowtie", Mode.NAIVE, EdgeOrder.DOT),
    ("bowtie", Mode.FIXED, EdgeOrder.DOT),
    ("bowtie", Mode.FIXED, EdgeOrder.REVERSE),
    ("bowtie", Mode.NAIVE, EdgeOrder.REVERSE),
    ("triangle_tail", Mode.NAIVE, EdgeOrder.DOT),
    ("ring_chords", Mode.NAIVE, EdgeOrder.DOT),
    ("bridge", Mode.FIXED, EdgeOrder.REVERSE),
]


def run(name: str, mode: Mode, order: EdgeOrder, **kwargs: object) -> Recording:
    return record(load_dot(GRAPHS / f"{name}.dot"),
                  RecordOptions(mode=mode, edge_order=order, **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=[f"{n}-{m.value}-{o.value}" for n, m, o in CASES])
def test_recording_matches_the_simulator(case: tuple[str, Mode, EdgeOrder]) -> None:
    name, mode, order = case
    topology = load_dot(GRAPHS / f"{name}.dot")
    recording = run(name, mode, order)
    real, model = recording.trace, simulate(topology, mode=mode, edge_order=order)
    assert real.header.source is Source.BEAM
    assert visit_order(real.events) == visit_order(model.events)
    assert neighbor_lists(real.events) == neighbor_lists(model.events)
    assert result_map(real.events) == result_map(model.events)
    assert check(real) == []
    launch = topology.nodes[0]
    adjacent = set(topology.peers()[launch])
    expected = sorted(tuple(sorted((launch, v))) for v in topology.nodes
                      if v != launch and v not in adjacent) if mode is Mode.NAIVE else []
    assert topology_diff(real, topology).spurious == expected
    report = recording.report
    assert report["probe_loaded_after"] == []
    if mode is Mode.FIXED:
        assert report["observed_after"] == report["observed_before"]


def test_naive_never_crashes_at_d_like_the_model() -> None:
    recording = run("bowtie", Mode.NAIVE, EdgeOrder.DOT, auto_connect=AutoConnect.NEVER)
    real = recording.trace
    model = simulate(load_dot(GRAPHS / "bowtie.dot"), mode=Mode.NAIVE,
                     auto_connect=AutoConnect.NEVER)
    assert isinstance(real.events[-1], Crash)
    errors = [(e.node, e.to, e.reason) for e in real.events if isinstance(e, Error)]
    assert errors == [(e.node, e.to, e.reason) for e in model.events if isinstance(e, Error)]
    assert real.events[-1].reason == model.events[-1].reason  # type: ignore[attr-defined]
    assert check(real) == []


def test_kill_the_running_node_crashes_the_worm() -> None:
    recording = run("bowtie", Mode.FIXED, EdgeOrder.DOT, fault=Fault("d", "d"),
                    delays_ms={"d": 400})
    trace = recording.trace
    assert isinstance(trace.events[-1], Crash)
    assert trace.events[-1].reason == "{:exception, {:erpc, :noconnection}}"
    assert any(e.kind.value == "kill" and e.node == "d" for e in trace.events)
    assert check(trace) == []


def test_kill_an_unreached_node_gives_a_silently_partial_map() -> None:
    recording = run("bowtie", Mode.FIXED, EdgeOrder.DOT, fault=Fault("f", "b"),
                    delays_ms={"b": 400})
    trace = recording.trace
    result = trace.outcome
    assert isinstance(result, Result)
    assert sorted(result.map) == ["a", "b", "c", "d", "e"]
    assert result.map["e"] == ("d",)
    assert check(trace) == []
    assert topology_diff(trace, load_dot(GRAPHS / "bowtie.dot")).unreached == ["f"]


def test_cluster_command_prints_the_observed_topology() -> None:
    observed = observe(load_dot(GRAPHS / "bowtie.dot"))
    assert observed == {n: list(p) for n, p in load_dot(GRAPHS / "bowtie.dot").peers().items()}
    proc = subprocess.run([sys.executable, "-m", "inkworm", "cluster",
                           str(GRAPHS / "triangle_tail.dot")],
                          capture_output=True, text=True, check=True)
    assert proc.stdout == "graph G {\n  a -- b;\n  a -- c;\n  b -- c;\n  c -- d;\n}\n"


def test_record_cli_writes_a_checked_trace(tmp_path: Path) -> None:
    out = tmp_path / "bowtie.jsonl"
    proc = subprocess.run([sys.executable, "-m", "inkworm", "record", str(GRAPHS / "bowtie.dot"),
                           "--mode", "naive", "-o", str(out)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "recorded 52 events on 6 real nodes" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "inkworm", "check", str(out), "--graph",
                           str(GRAPHS / "bowtie.dot")], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == ["spurious edge: a -- d", "spurious edge: a -- e",
                                        "spurious edge: a -- f"]


def test_no_beam_or_epmd_is_left_running() -> None:
    run("triangle", Mode.FIXED, EdgeOrder.DOT)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    leftovers = [line for line in ps.stdout.splitlines()
                 if "iw" in line and ("beam" in line or "erl" in line)]
    assert leftovers == []
    assert not [line for line in ps.stdout.splitlines() if line.startswith("epmd -port")]


def test_bad_names_are_refused_before_starting_anything() -> None:
    from inkworm import InputError, parse_dot

    with pytest.raises(InputError, match="cannot be a BEAM node name"):
        record(parse_dot('graph { "a b" -- c; }'), RecordOptions())
