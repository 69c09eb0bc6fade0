"""The assertion API: each assertion passes on a good run and fails, readably, on a bad one."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from conftest import GRAPHS
from inkworm import AutoConnect, EdgeOrder, Mode, Topology, Trace, load_dot, simulate
from inkworm.run import RunSpec
from inkworm.testing import (
    TraceAssertionError,
    assert_all_reached,
    assert_calls_nested,
    assert_happens_before,
    assert_load_before_call,
    assert_matches_snapshot,
    assert_no_node_probed_twice,
    assert_result_equals,
    assert_rules,
    assert_valid,
    assert_valid_dfs,
    assert_visit_order,
)
from inkworm.trace import LoadBinary

BOWTIE = load_dot(GRAPHS / "bowtie.dot")


def run(mode: Mode = Mode.FIXED, **kwargs: object) -> Trace:
    return simulate(BOWTIE, RunSpec(mode=mode, **kwargs))  # type: ignore[arg-type]


def test_valid_dfs_any_and_connection_order() -> None:
    reverse = run(edge_order=EdgeOrder.REVERSE)
    assert_valid_dfs(reverse, BOWTIE)  # a c b d f e is a DFS of the bowtie
    assert_valid_dfs(reverse, BOWTIE, neighbor_order="connection")  # with reversed edges
    claims_dot = Trace(dataclasses.replace(reverse.header, edge_order=EdgeOrder.DOT),
                       reverse.events)
    with pytest.raises(TraceAssertionError, match="expected b, but the worm went to c"):
        assert_valid_dfs(claims_dot, BOWTIE, neighbor_order="connection")
    # a BFS-like order is not a DFS: make the trace visit c right after a, then d
    shuffled = [e for e in run().events if e.kind.value == "probe_start"]
    order = [dataclasses.replace(e, node=n) for e, n in zip(shuffled, "abcedf", strict=True)]
    bad = Trace(run().header, order)
    with pytest.raises(TraceAssertionError, match="not a depth-first order: e is visited"):
        assert_valid_dfs(bad, BOWTIE)


def test_visit_order_too_short_and_too_long() -> None:
    crashed = run(Mode.NAIVE, auto_connect=AutoConnect.NEVER)
    with pytest.raises(TraceAssertionError, match="stopped after 4 visits; never visited e f"):
        assert_visit_order(crashed, "a b c d e f")
    with pytest.raises(TraceAssertionError, match="1 more node"):
        assert_visit_order(run(), ["a", "b", "c", "d", "e"])


def test_happens_before_both_ways() -> None:
    trace = run()
    assert_happens_before(trace, {"kind": "return", "from": "c"},
                          {"kind": "probe_start", "node": "d"})
    with pytest.raises(TraceAssertionError, match="no event matches skip on z"):
        assert_happens_before(trace, {"kind": "skip", "node": "z"}, {"kind": "result"})


def test_result_and_reach() -> None:
    assert_result_equals(run())
    with pytest.raises(TraceAssertionError, match="spurious edges: a\u2013d, a\u2013e, a\u2013f"):
        assert_result_equals(run(Mode.NAIVE), BOWTIE)
    with pytest.raises(TraceAssertionError, match="no result"):
        assert_result_equals(run(Mode.NAIVE, auto_connect=AutoConnect.NEVER), BOWTIE)
    split = Topology.from_edges([("a", "b"), ("c", "d")])
    with pytest.raises(TraceAssertionError, match="2 node\\(s\\) never reached: c d"):
        assert_all_reached(simulate(split), split)


def test_rule_assertions() -> None:
    trace = run()
    assert_valid(trace)
    assert_no_node_probed_twice(trace)
    assert_calls_nested(trace)
    events = [e for e in trace.events if not isinstance(e, LoadBinary) or e.to != "d"]
    broken = Trace(trace.header, [dataclasses.replace(e, seq=i) for i, e in enumerate(events)])
    with pytest.raises(TraceAssertionError, match="call to d not preceded by load_binary"):
        assert_load_before_call(broken)
    assert_no_node_probed_twice(broken)
    with pytest.raises(ValueError, match="unknown rule"):
        assert_rules(trace, "teleport")


def test_snapshot_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    assert assert_matches_snapshot(run(), path) is True
    assert assert_matches_snapshot(run(), path) is False
    with pytest.raises(TraceAssertionError, match="result: edges gone none; new a\u2013d"):
        assert_matches_snapshot(run(Mode.NAIVE), path)


def test_full_node_names_match_short_ones() -> None:
    """A recorder may write a@host; callers write a (the trace spec's matching rule)."""
    base = run(Mode.NAIVE)
    renamed = [dataclasses.replace(e, node=f"{e.node}@h") for e in base.events]
    trace = Trace(dataclasses.replace(base.header, launch="a@h"), renamed)
    assert_visit_order(trace, "a b c d e f")
    assert_happens_before(trace, {"kind": "probe_start", "node": "c"},
                          {"kind": "probe_start", "node": "d"})
    assert_valid_dfs(trace, BOWTIE, neighbor_order="connection")


def test_valid_dfs_refuses_revisits_wrong_starts_and_unknown_modes() -> None:
    starts = [e for e in run().events if e.kind.value == "probe_start"]
    revisit = Trace(run().header, [dataclasses.replace(e, node=n)
                                   for e, n in zip(starts, "abacde", strict=True)])
    with pytest.raises(TraceAssertionError, match="a is visited twice"):
        assert_valid_dfs(revisit, BOWTIE)
    elsewhere = Trace(run().header, [dataclasses.replace(e, node=n)
                                     for e, n in zip(starts, "defbac", strict=True)])
    with pytest.raises(TraceAssertionError, match="starts on d, not on the launch node a"):
        assert_valid_dfs(elsewhere, BOWTIE)
    with pytest.raises(ValueError, match="neighbor_order"):
        assert_valid_dfs(run(), BOWTIE, neighbor_order="bogus")


def test_one_event_cannot_happen_before_itself() -> None:
    with pytest.raises(TraceAssertionError, match="matches both"):
        assert_happens_before(run(), {"kind": "probe_start"}, {"node": "a"})


def test_traces_read_from_two_files_are_equal(tmp_path: Path) -> None:
    from inkworm import load_trace, save_trace

    for name in ("one.jsonl", "two.jsonl"):
        save_trace(run(), tmp_path / name)
    assert load_trace(tmp_path / "one.jsonl") == load_trace(tmp_path / "two.jsonl")
