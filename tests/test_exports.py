"""``inkworm export``: a run as ShiViz's log (every line parsed by the regex it names, the
vector clocks ordering each call before the probe it starts and each answer after the probe
that sent it) and as Chrome trace events for Perfetto (checked against the documented format:
named tracks, spans that end after they start, flows paired)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from conftest import GRAPHS, inkworm_main
from inkworm import Mode, load_dot, load_trace, simulate
from inkworm.exports import SHIVIZ_REGEX, perfetto, shiviz_host, shiviz_lines
from inkworm.run import Fault, Faults, RunSpec, Strategy
from inkworm.topology import parse_dot
from inkworm.trace import Call, ProbeEnd, ProbeStart, Return, Trace

BOWTIE = load_dot(GRAPHS / "bowtie.dot")
LINE = re.compile(SHIVIZ_REGEX.replace("(?<", "(?P<") + "$")  # JavaScript's named groups


def runs() -> dict[str, Trace]:
    return {
        "naive": simulate(BOWTIE, RunSpec(mode=Mode.NAIVE)),
        "recorded": load_trace(GRAPHS / "bowtie-naive.beam.jsonl"),
        "parallel": load_trace(GRAPHS / "ring_chords-parallel.beam.jsonl"),
        "parallel-sim": simulate(load_dot(GRAPHS / "ring_chords.dot"),
                                 RunSpec(mode=Mode.NAIVE, strategy=Strategy.PARALLEL)),
        "kill": simulate(BOWTIE, RunSpec(mode=Mode.FIXED),
                         faults=Faults(kill=Fault("b", "d"), tolerant=True)),
        "odd names": simulate(parse_dot('graph { "a b" -- "c\\"d"; "c\\"d" -- "e%f" }'),
                              RunSpec(mode=Mode.NAIVE)),
    }


RUNS = runs()


def _leq(one: dict[str, int], two: dict[str, int]) -> bool:
    return all(two.get(host, 0) >= count for host, count in one.items())


@pytest.mark.parametrize("name", list(RUNS))
def test_every_shiviz_line_parses_and_the_clocks_respect_happens_before(name: str) -> None:
    trace = RUNS[name]
    lines = list(shiviz_lines(trace))
    assert len(lines) == len(trace.events)
    last: dict[str, dict[str, int]] = {}
    clocks = []
    for e, line in zip(trace.events, lines, strict=True):
        match = LINE.match(line)
        assert match is not None, line
        host, clock = match["host"], json.loads(match["clock"])
        assert host == shiviz_host(e.node) and " " not in host and '"' not in host
        before = last.get(host, {})
        assert clock[host] == before.get(host, 0) + 1  # one tick an event of its own
        assert _leq(before, clock)  # a host's clock never goes back
        last[host] = clock
        clocks.append(clock)
    # each call happens before the probe it starts, each probe end before its answer
    at = {e.seq: clock for e, clock in zip(trace.events, clocks, strict=True)}
    calls: dict[str, int] = {}  # the last call to each probe, the last end of each probe
    ends: dict[str, int] = {}
    pairs = 0
    for e in trace.events:
        if isinstance(e, Call):
            calls[e.child or e.to] = e.seq
        elif isinstance(e, ProbeStart) and (e.probe or e.node) in calls:
            call = calls.pop(e.probe or e.node)
            assert _leq(at[call], at[e.seq]) and at[call] != at[e.seq]
            pairs += 1
        elif isinstance(e, ProbeEnd):
            ends[e.probe or e.node] = e.seq
        elif isinstance(e, Return) and (e.child or e.callee) in ends:
            assert _leq(at[ends.pop(e.child or e.callee)], at[e.seq])
            pairs += 1
    assert pairs >= 2


def test_shiviz_marks_the_measurements_connections() -> None:
    marked = [line for line in shiviz_lines(RUNS["naive"]) if '"MEASUREMENT ' in line]
    assert len(marked) == 6  # a-d, a-e, a-f, each reported by both sides
    assert not [line for line in shiviz_lines(simulate(BOWTIE, RunSpec(mode=Mode.FIXED)))
                if "MEASUREMENT" in line]


@pytest.mark.parametrize("name", list(RUNS))
def test_the_perfetto_json_is_chrome_trace_events(name: str) -> None:
    trace = RUNS[name]
    data = json.loads(json.dumps(perfetto(trace)))  # what a file holds
    events = data["traceEvents"]
    assert isinstance(events, list) and data["displayTimeUnit"] == "ms"
    named = {e["tid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert set(named.values()) == {e.node for e in trace.events}
    flows: dict[int, list[dict[str, object]]] = {}
    for e in events:
        assert e["ph"] in {"M", "X", "i", "s", "f"} and isinstance(e["pid"], int)
        if e["ph"] == "M":
            continue
        assert e["tid"] in named and isinstance(e["ts"], int) and e["ts"] >= 0
        if e["ph"] == "X":
            assert isinstance(e["dur"], int) and e["dur"] >= 0
        if e["ph"] in "sf":
            flows.setdefault(int(e["id"]), []).append(e)
    for parts in flows.values():  # each flow starts once; one that arrives, after it left
        assert [p["ph"] for p in parts].count("s") == 1
        assert [p["ph"] for p in parts].count("f") <= 1
        if len(parts) == 2:
            start, end = sorted(parts, key=lambda p: p["ph"] != "s")
            assert end["ts"] >= start["ts"] and end["bp"] == "e"
    spans = [e for e in events if e["ph"] == "X"]
    assert len(spans) == sum(isinstance(e, ProbeStart) for e in trace.events)
    assert sum(e["ph"] == "f" for e in events) >= 1


def test_perfetto_marks_the_measurements_connections_and_links_every_call() -> None:
    events = perfetto(RUNS["naive"])["traceEvents"]
    kinds = Counter((e["ph"], e.get("cat")) for e in events)
    assert kinds[("i", "measurement")] == 6
    calls = sum(isinstance(e, Call) for e in RUNS["naive"].events)
    assert kinds[("s", "call")] == kinds[("f", "call")] == calls == 5


def test_the_export_command_writes_the_file_and_names_the_regex(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "run.shiviz"
    code, _, err = inkworm_main(capsys, "export", str(GRAPHS / "bowtie.dot"), "--mode", "naive",
                                "--to", "shiviz", "-o", str(out))
    assert code == 0 and SHIVIZ_REGEX in err
    assert out.read_text(encoding="utf-8").splitlines() == list(shiviz_lines(RUNS["naive"]))
    code, _, err = inkworm_main(capsys, "export", str(GRAPHS / "bowtie.dot"), "--to", "svg")
    assert code == 2 and "'svg' is not one of" in err
