"""The worm that works (--collect, a user's collectors) and the seed's footnote
(--mode ignore-launcher), in the model, the checker, the summary and on a real cluster."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import GRAPHS
from conftest import inkworm_run as run
from inkworm import check, load_dot, simulate
from inkworm.collect import BUILTINS, collected, lines, stand_in
from inkworm.record import RecordOptions, record
from inkworm.render.timeline import StepKind, steps_from_trace
from inkworm.report import summary_lines
from inkworm.run import Mode, RunSpec
from inkworm.trace import Collect, Connect, Neighbors, Result, Trace
from inkworm.views import neighbor_lists, result_map, topology_diff, visit_order

BOWTIE = load_dot(GRAPHS / "bowtie.dot")
beam = pytest.mark.skipif(shutil.which("elixir") is None, reason="elixir is not installed")


def test_each_probe_reports_its_collectors_right_after_nodes() -> None:
    trace = simulate(BOWTIE, RunSpec(mode=Mode.FIXED, collect=("memory", "uptime")))
    assert check(trace) == []
    for i, e in enumerate(trace.events):
        if isinstance(e, Neighbors):
            after = trace.events[i + 1]
            assert isinstance(after, Collect) and after.node == e.node
            assert after.values == {"memory": stand_in("memory", e.node, e.t_us),
                                    "uptime": stand_in("uptime", e.node, e.t_us)}
    assert [e.seq for e in trace.events] == list(range(len(trace.events)))
    assert list(collected(trace.events)) == ["a", "b", "c", "d", "e", "f"]
    # the same inputs, the same values: stand-ins are a function of the node and the time
    again = simulate(BOWTIE, RunSpec(mode=Mode.FIXED, collect=("memory", "uptime")))
    assert again.events == trace.events
    assert trace.header.meta["collect"] == ["memory", "uptime"]


def test_the_checker_wants_collectors_once_right_after_nodes() -> None:
    trace = simulate(BOWTIE, RunSpec(mode=Mode.FIXED, collect=("memory",)))
    events = list(trace.events)
    i = next(k for k, e in enumerate(events) if isinstance(e, Collect) and e.node == "b")
    # b's collect moved before its nodes() call
    events[i - 1], events[i] = (replace(events[i], seq=i - 1), replace(events[i - 1], seq=i))
    rules = {v.rule for v in check(Trace(trace.header, events))}
    assert "collect" in rules
    twice = [*trace.events[: i + 1], replace(trace.events[i], seq=i + 1),
             *(replace(e, seq=e.seq + 1) for e in trace.events[i + 1:])]
    assert [v.rule for v in check(Trace(trace.header, twice))] == ["collect"]


def test_summary_and_panel_lines_show_what_was_collected() -> None:
    trace = simulate(BOWTIE, RunSpec(mode=Mode.FIXED, collect=("memory", "otp_release")))
    summary = summary_lines(trace)
    at = summary.index("collected:")
    a = collected(trace.events)["a"]["memory"]
    assert summary[at + 1] == f"  a: memory {a / 1e6:.1f} MB · otp_release 25"
    assert len([s for s in summary if s.startswith("  ") and " · otp_release" in s]) == 6
    big = {f"n{i}": {"memory": 1_000_000 * (i + 1), "otp_release": "25"} for i in range(12)}
    assert lines(big) == ["memory: 1.0 MB to 12.0 MB (median 7.0 MB) on 12 nodes",
                          "otp_release: 25 on all 12 nodes"]


def test_an_unknown_collector_is_refused_in_one_line(tmp_path: Path) -> None:
    out = tmp_path / "t.jsonl"
    proc = run("simulate", str(GRAPHS / "bowtie.dot"), "--collect", "memory,cpu", "-o",
               str(out))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].endswith(
        "--collect cpu: expected one of " + ", ".join(BUILTINS))
    assert "Traceback" not in proc.stderr and not out.exists()


def test_ignore_launcher_gets_the_map_right_while_the_connections_happen() -> None:
    trace = simulate(BOWTIE, RunSpec(mode=Mode.IGNORE_LAUNCHER))
    naive = simulate(BOWTIE, RunSpec(mode=Mode.NAIVE))
    assert check(trace) == []
    assert topology_diff(trace, BOWTIE).spurious == []
    assert topology_diff(naive, BOWTIE).spurious == [("a", "d"), ("a", "e"), ("a", "f")]
    made = sorted({tuple(sorted((e.node, e.peer))) for e in trace.events
                   if isinstance(e, Connect)})
    assert made == [("a", "d"), ("a", "e"), ("a", "f")]  # as naive: the probe still prints
    assert neighbor_lists(trace.events) == neighbor_lists(naive.events)
    result = result_map(trace.events)
    assert result is not None and result["a"] == ("b", "c") and result["d"] == ("b", "e", "f")
    steps = steps_from_trace(trace)
    assert sum(s.kind is StepKind.ETCH for s in steps) == 3
    assert steps[-1].caption.startswith("a's map is right")
    # the checker holds the map to the mode: a naive map under ignore-launcher is wrong
    wrong = [*trace.events[:-1], replace(trace.events[-1], map=naive.outcome.map)]  # type: ignore[union-attr]
    assert {v.rule for v in check(Trace(trace.header, wrong))} == {"result"}


@beam
@pytest.mark.beam
def test_a_real_ignore_launcher_run_with_collectors_is_what_the_model_says(
        tmp_path: Path) -> None:
    spec = dict(mode=Mode.IGNORE_LAUNCHER, collect=("otp_release", "memory", "process_count"))
    user = tmp_path / "mine.exs"
    user.write_text('[{"answer", fn -> 6 * 7 end}, {"me", fn -> to_string(node()) end},\n'
                    ' {"pair", fn -> {1, :two} end}]\n')
    real = record(BOWTIE, RecordOptions(**spec, collector=user)).trace  # type: ignore[arg-type]
    model = simulate(BOWTIE, RunSpec(**spec))  # type: ignore[arg-type]
    assert check(real) == []
    assert visit_order(real.events) == visit_order(model.events)
    assert neighbor_lists(real.events) == neighbor_lists(model.events)
    assert result_map(real.events) == result_map(model.events)
    assert topology_diff(real, BOWTIE).spurious == []
    found = collected(real.events)
    assert list(found) == ["a", "b", "c", "d", "e", "f"]
    for node, values in found.items():
        assert list(values) == ["answer", "me", "memory", "otp_release", "pair",
                                "process_count"]
        assert values["answer"] == 42 and values["me"].startswith("iw")
        assert values["pair"] == "{1, :two}"  # what JSON cannot carry: its inspect/1
        assert values["me"].split("_", 1)[1].startswith(f"{node}@127.0.0.1")
        assert values["otp_release"].isdigit() and values["memory"] > 1_000_000
    assert isinstance(real.outcome, Result)


@beam
@pytest.mark.beam
def test_a_broken_user_collector_is_refused_in_one_line(tmp_path: Path) -> None:
    user = tmp_path / "bad.exs"
    user.write_text('[{"answer", 42}]\n')
    out = tmp_path / "t.jsonl"
    proc = run("record", str(GRAPHS / "bowtie.dot"), "--collector", str(user), "-o", str(out))
    assert proc.returncode != 0
    assert "expected a list of {\"name\", fn -> value end}" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()
