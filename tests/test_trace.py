"""The trace reader and writer (v2 written, v1 and v2 read): round trips, validation errors,
truncation, sets by reference."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPUS, GRAPHS, assert_corpus_error
from inkworm import (
    EdgeOrder,
    InputError,
    Mode,
    check,
    load_dot,
    load_trace,
    save_trace,
    simulate,
)
from inkworm.reader import parse_trace
from inkworm.run import RunSpec
from inkworm.trace import Kind, ProbeStart, Source
from inkworm.tracefile import event_to_json, write_trace
from inkworm.views import transcript

BAD = sorted((CORPUS / "trace" / "bad").glob("*.jsonl"))


def dump(trace: object) -> str:
    out = io.StringIO()
    write_trace(trace, out)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize("mode", list(Mode))
def test_round_trip_is_byte_identical(tmp_path: Path, mode: Mode) -> None:
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=mode))
    path = tmp_path / "t.jsonl"
    save_trace(trace, path)
    again = load_trace(path)
    assert transcript(again.events) == transcript(trace.events)
    assert dump(again) == path.read_text(encoding="utf-8")
    assert again.header == trace.header
    assert [e.line for e in again.events] == list(range(2, len(trace.events) + 2))


def test_header_keeps_unknown_fields_and_meta() -> None:
    header = {"inkworm_trace": 1, "launch": "a", "mode": "fixed", "source": "beam",
              "meta": {"otp": "25"}, "colour": "blue"}
    lines = [json.dumps(header) + "\n",
             '{"seq": 0, "t_us": 0, "node": "a", "kind": "crash", "reason": "x"}\n']
    trace = parse_trace(lines)
    assert trace.header.source is Source.BEAM
    assert trace.header.extra == {"colour": "blue"}
    assert trace.header.version == 1
    assert json.loads(dump(trace).splitlines()[0]) == {**header, "inkworm_trace": 2}


def test_every_line_is_json_with_the_spec_fields() -> None:
    text = dump(simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=Mode.NAIVE)))
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["inkworm_trace"] == 2
    kinds = {k.value for k in Kind}
    for i, obj in enumerate(lines[1:]):
        assert list(obj)[:4] == ["seq", "t_us", "node", "kind"]
        assert obj["seq"] == i and obj["kind"] in kinds
    assert lines[-1]["kind"] == "result"


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_unreadable_traces(path: Path) -> None:
    assert_corpus_error(path, load_trace)


def test_truncated_trace_is_readable_but_says_so() -> None:
    text = dump(simulate(load_dot(GRAPHS / "bowtie.dot"))).splitlines(keepends=True)
    cut = parse_trace(text[:20])
    assert cut.truncated and cut.outcome is None
    assert any("truncated" in v.message for v in check(cut))
    assert not parse_trace(text).truncated


def test_decreasing_time_is_read_and_flagged() -> None:
    lines = dump(simulate(load_dot(GRAPHS / "triangle.dot"))).splitlines(keepends=True)
    obj = json.loads(lines[3])
    obj["t_us"] = -5
    lines[3] = json.dumps(obj) + "\n"
    trace = parse_trace(lines)
    assert any("back in time" in v.message and v.line == 4 for v in check(trace))


def test_clocks_are_64_bit_integers(tmp_path: Path) -> None:
    """seq and t_us are 64-bit, as orjson (the fast path) and every recorder write them; a
    larger one (which only the standard library reads) is refused on its line: measured
    timing could not even turn it into a float."""
    header = '{"inkworm_trace": 1, "launch": "a", "mode": "naive", "source": "beam"}\n'
    path = tmp_path / "big.jsonl"
    for t_us, readable in ((2**63 - 1, True), (2**63, False), (10**400, False)):
        event = f'{{"seq": 0, "t_us": {t_us}, "node": "a", "kind": "kill"}}\n'
        path.write_bytes(b"\xef\xbb\xbf" + (header + event).encode())
        if readable:
            assert load_trace(path).events[0].t_us == t_us
            continue
        with pytest.raises(InputError, match=r"big.jsonl:2: kill event: field 't_us' is out of "
                                             r"range \(a 64-bit integer\)"):
            load_trace(path)


# --- trace v2: sets by reference, linear in the run -------------------------------------------


def test_v2_writes_the_sequential_sets_by_reference() -> None:
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=Mode.NAIVE))
    lines = [json.loads(line) for line in dump(trace).splitlines()]
    sets = [obj.get("visited", obj.get("keys")) for obj in lines[1:]
            if "visited" in obj or "keys" in obj]
    assert sets and all(isinstance(v, dict) for v in sets)
    starts = [obj["visited"] for obj in lines[1:] if obj["kind"] == "probe_start"]
    assert starts == [{"prefix": n} for n in range(6)]
    ends = {obj["node"]: obj["keys"] for obj in lines[1:] if obj["kind"] == "probe_end"}
    assert ends["b"] == {"slice": [1, 6]} and ends["a"] == {"prefix": 6}


@pytest.mark.parametrize("name", ["bowtie-naive.beam.jsonl", "bowtie-fixed.beam.jsonl"])
def test_v1_reads_and_rewrites_as_the_same_run(name: str) -> None:
    """Real v1 recordings stay readable, and their v2 rewrite is the same run."""
    v1 = load_trace(GRAPHS / name)
    assert v1.header.version == 1
    v2 = parse_trace(dump(v1).splitlines(keepends=True))
    assert v2.header.version == 2
    assert v2.header == v1.header
    assert [event_to_json(e) for e in v2.events] == [event_to_json(e) for e in v1.events]


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 60), st.integers(0, 10_000), st.sampled_from(list(Mode)),
       st.booleans())
def test_v2_round_trips_any_simulated_run(nodes: int, seed: int, mode: Mode,
                                          reverse: bool) -> None:
    from inkworm.gen import sparse_cluster

    order = EdgeOrder.REVERSE if reverse else EdgeOrder.DOT
    trace = simulate(sparse_cluster(nodes, seed, 1.0), RunSpec(mode=mode, edge_order=order))
    back = parse_trace(dump(trace).splitlines(keepends=True))
    assert [event_to_json(e) for e in back.events] == [event_to_json(e) for e in trace.events]
    assert check(back) == []


def test_v2_sets_that_are_no_prefix_or_slice_are_written_out() -> None:
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=Mode.NAIVE))
    start = next(e for e in trace.events if isinstance(e, ProbeStart) and e.node == "d")
    odd = dataclasses.replace(start, visited=frozenset({"a", "c"}))
    trace.events[trace.events.index(start)] = odd
    obj = json.loads(dump(trace).splitlines()[odd.seq + 1])
    assert obj["visited"] == ["a", "c"]


@pytest.mark.parametrize("field, message", [
    ('{"prefix": 7}', "refers to visit-order positions up to 7, but only 0 nodes"),
    ('{"slice": [2, 1]}', "must be a list of node names, or a reference"),
    ('{"prefix": -1}', "must be a list of node names, or a reference"),
    ('{"prefix": 1, "slice": [0, 1]}', "must be a list of node names, or a reference"),
])
def test_v2_bad_references_name_the_line(field: str, message: str) -> None:
    lines = ['{"inkworm_trace": 2, "launch": "a", "mode": "naive", "source": "simulated"}\n',
             f'{{"seq": 0, "t_us": 0, "node": "a", "kind": "probe_start", "visited": {field}}}\n']
    with pytest.raises(InputError, match=message) as info:
        parse_trace(lines, "x.jsonl")
    assert info.value.line == 2


def test_a_reference_in_a_v1_trace_is_refused() -> None:
    lines = ['{"inkworm_trace": 1, "launch": "a", "mode": "naive", "source": "simulated"}\n',
             '{"seq": 0, "t_us": 0, "node": "a", "kind": "probe_start", '
             '"visited": {"prefix": 0}}\n']
    with pytest.raises(InputError, match="references are trace v2"):
        parse_trace(lines, "x.jsonl")


@pytest.mark.parametrize("nodes, most", [(200, 300_000), (2_000, 4 * 10**6), (20_000, 40 * 10**6)])
def test_v2_is_linear_in_the_run(nodes: int, most: int) -> None:
    """A simulated 2,000-node run was 57 MB in v1: v2 stays under 4 MB, 20,000 under 40."""
    from inkworm.gen import sparse_cluster

    size = len(dump(simulate(sparse_cluster(nodes, 1, 0.5), RunSpec(mode=Mode.NAIVE))).encode())
    assert size <= most, size


def test_the_probe_declares_the_same_schema() -> None:
    """The Elixir probe writes the trace itself: its field list must be the schema's."""
    import re

    from inkworm.record import probe_dir
    from inkworm.trace import SCHEMA

    text = (probe_dir() / "inkworm_probe.exs").read_text(encoding="utf-8")
    block = re.search(r"@fields %\{(.*?)\n  \}", text, re.S)
    assert block is not None
    declared = {kind: re.findall(r":(\w+)", fields) for kind, fields in
                re.findall(r"(\w+): \[([^\]]*)\]", block[1])}
    # the probe names the answering node :from (Elixir), the model callee (Python)
    assert declared == {kind.value: [f.json for f in specs] for kind, specs in SCHEMA.items()}
