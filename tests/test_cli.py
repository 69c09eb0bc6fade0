"""The CLI as users run it: exit codes, one-line errors, atomic outputs, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CORPUS, GRAPHS
from conftest import inkworm_main as inkworm
from inkworm import parse_dot, simulate
from inkworm.views import visit_order


def test_simulate_naive_prints_the_spurious_edges(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    code, out, _ = inkworm(capsys, "simulate", str(GRAPHS / "bowtie.dot"), "--mode", "naive")
    assert code == 0
    last = json.loads(out.splitlines()[-1])
    assert last["kind"] == "result" and last["map"]["f"] == ["e", "d", "a"]
    trace = tmp_path / "naive.jsonl"
    trace.write_text(out, encoding="utf-8")
    code, out, err = inkworm(capsys, "check", str(trace), "--graph", str(GRAPHS / "bowtie.dot"))
    assert out.splitlines() == ["spurious edge: a -- d", "spurious edge: a -- e",
                                "spurious edge: a -- f"]
    assert code == 0, "spurious edges are a finding about the cluster, not a trace violation"
    assert "52 events, valid" in err
    code, out, err = inkworm(capsys, "check", str(trace), "--graph", str(GRAPHS / "bowtie.dot"),
                             "--strict")
    assert code == 1, "--strict: a map that differs from the graph fails"
    assert len(out.splitlines()) == 3 and "valid, but its map differs from the graph" in err
    fixed = tmp_path / "fixed.jsonl"
    assert inkworm(capsys, "simulate", str(GRAPHS / "bowtie.dot"), "--mode", "fixed", "-o",
                   str(fixed))[0] == 0
    code, out, err = inkworm(capsys, "check", str(fixed), "--graph", str(GRAPHS / "bowtie.dot"),
                             "--strict")
    assert (code, out) == (0, "") and err.endswith("valid\n")


def test_q_is_quality_alone(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """-q means quality wherever there is video, and nothing elsewhere (check's is --quiet)."""
    trace = tmp_path / "run.jsonl"
    assert inkworm(capsys, "simulate", str(GRAPHS / "bowtie.dot"), "-o", str(trace))[0] == 0
    assert inkworm(capsys, "check", str(trace), "-q")[0] == 2
    code, out, err = inkworm(capsys, "check", str(trace), "--quiet")
    assert (code, out, err) == (0, "", "")


def test_summary_of_a_trace_takes_its_graph(capsys: pytest.CaptureFixture[str],
                                            tmp_path: Path) -> None:
    trace = tmp_path / "elsewhere" / "run.jsonl"
    trace.parent.mkdir()
    assert inkworm(capsys, "simulate", str(GRAPHS / "bowtie.dot"), "-o", str(trace))[0] == 0
    code, out, _ = inkworm(capsys, "summary", str(trace))
    assert code == 0 and "spurious edges" not in out  # no DOT file beside it: no claim
    code, out, _ = inkworm(capsys, "summary", str(trace), "--graph", str(GRAPHS / "bowtie.dot"))
    assert code == 0 and "spurious edges: a--d, a--e, a--f" in out
    code, _, err = inkworm(capsys, "summary", str(GRAPHS / "bowtie.dot"), "--graph",
                           str(GRAPHS / "bowtie.dot"))
    assert code == 2 and "--graph goes with a trace INPUT" in err


def test_every_enumerated_option_lists_its_choices(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = inkworm(capsys, "render", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for listed in ("[auto|neato|sfdp|spring|circular]", "[mp4|webm|mov|gif|png|html]",
                   "[full|visits|key]", "[l|m|h|k]"):
        assert listed in flat, listed


def test_simulate_writes_atomically_and_identically(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    out1, out2 = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for out in (out1, out2):
        code, _, _ = inkworm(capsys, "simulate", str(GRAPHS / "sparse_50.dot"), "--mode",
                             "fixed", "--launch", "n07", "-o", str(out))
        assert code == 0
    assert out1.read_bytes() == out2.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl", "b.jsonl"]


def test_check_reports_violations_with_line_and_exit_1(capsys: pytest.CaptureFixture[str],
                                                       tmp_path: Path) -> None:
    code, out, _ = inkworm(capsys, "simulate", str(GRAPHS / "triangle.dot"))
    lines = out.splitlines(keepends=True)
    lines[4], lines[5] = lines[5], lines[4]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(lines), encoding="utf-8")
    code, out, err = inkworm(capsys, "check", str(bad))
    assert code == 1
    assert out.splitlines()[0].startswith(f"{bad}:5: seq 4: seq 4 where 3 was expected")
    assert "violation(s)" in err


@pytest.mark.parametrize(("args", "needle"), [
    (["simulate", str(GRAPHS / "bowtie.dot"), "--launch", "zz"], "launch node 'zz' is not"),
    (["simulate", str(GRAPHS / "bowtie.dot"), "--mode", "weird"], "Invalid value for '--mode'"),
    (["simulate", str(GRAPHS / "nope.dot")], "nope.dot: cannot read DOT file"),
    (["simulate", str(GRAPHS)], "is a directory"),
    (["check", str(CORPUS / "trace/bad/unknown_kind.jsonl")], "unknown_kind.jsonl:2: unknown"),
    (["check", str(CORPUS / "trace/bad/empty.jsonl")], "empty trace"),
    (["import-log", str(GRAPHS / "bowtie.dot")], "no 'Launching from NODE' line"),
    (["simulate", str(GRAPHS / "bowtie.dot"), "--latency", "warp=9"], "bad latency 'warp=9'"),
    (["gen", "--nodes", "0"], "Invalid value for '--nodes'"),
])
def test_bad_input_is_one_line_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      args: list[str], needle: str) -> None:
    target = tmp_path / "out.jsonl"
    code, _, err = inkworm(capsys, *args, *(["-o", str(target)] if args[0] != "check" else []))
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err and "Traceback" not in err
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "inkworm", "--debug", "simulate", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "Traceback" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "inkworm", "simulate", str(tmp_path)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_gen_is_deterministic_and_connected(capsys: pytest.CaptureFixture[str]) -> None:
    _, one, _ = inkworm(capsys, "gen", "--nodes", "300", "--seed", "4")
    _, two, _ = inkworm(capsys, "gen", "--nodes", "300", "--seed", "4")
    _, other, _ = inkworm(capsys, "gen", "--nodes", "300", "--seed", "5")
    assert one == two != other
    topology = parse_dot(one)
    assert len(topology.nodes) == 300 and len(topology.edges) == 299 + 150
    assert len(visit_order(simulate(topology).events)) == 300


def test_import_log_and_dot_export(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text("Launching from a@m\nHello from b@m\n%{a@m: [:b@m], b@m: [:a@m]}\n",
                   encoding="utf-8")
    trace = tmp_path / "run.jsonl"
    assert inkworm(capsys, "import-log", str(log), "-o", str(trace))[0] == 0
    assert inkworm(capsys, "check", str(trace))[0] == 0
    code, out, _ = inkworm(capsys, "dot", str(trace))
    assert code == 0 and out == 'graph G {\n  "a@m" -- "b@m";\n}\n'
    code, out, _ = inkworm(capsys, "dot", str(GRAPHS / "triangle_tail.dot"))
    assert out == "graph G {\n  a -- b;\n  b -- c;\n  a -- c;\n  d -- c;\n}\n"


def test_summary_of_the_bowtie(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = inkworm(capsys, "summary", str(GRAPHS / "bowtie.dot"), "--mode", "naive")
    assert code == 0
    assert "visit order: a b c d e f" in out
    assert "spurious edges: a--d, a--e, a--f" in out
