"""Trace v1 reader and writer: round trips, validation errors, truncation."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from conftest import CORPUS, GRAPHS, assert_corpus_error
from inkworm import InputError, Mode, check, load_dot, load_trace, save_trace, simulate
from inkworm.reader import parse_trace
from inkworm.trace import Kind, Source, write_trace
from inkworm.views import transcript

BAD = sorted((CORPUS / "trace" / "bad").glob("*.jsonl"))


def dump(trace: object) -> str:
    out = io.StringIO()
    write_trace(trace, out)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize("mode", list(Mode))
def test_round_trip_is_byte_identical(tmp_path: Path, mode: Mode) -> None:
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), mode=mode)
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
    assert json.loads(dump(trace).splitlines()[0]) == header


def test_every_line_is_json_with_the_spec_fields() -> None:
    text = dump(simulate(load_dot(GRAPHS / "bowtie.dot"), mode=Mode.NAIVE))
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["inkworm_trace"] == 1
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
