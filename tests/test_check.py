"""The ordering checker: simulated traces pass, mutated ones fail, violations name the event."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from conftest import GRAPHS
from inkworm import AutoConnect, EdgeOrder, Mode, Trace, check, load_dot, simulate
from inkworm.gen import sparse_cluster
from inkworm.run import RunSpec
from inkworm.trace import Connect, Event, Return

RUNS = [
    ("bowtie", Mode.NAIVE, EdgeOrder.DOT, AutoConnect.ALWAYS),
    ("bowtie", Mode.FIXED, EdgeOrder.DOT, AutoConnect.ALWAYS),
    ("bowtie", Mode.FIXED, EdgeOrder.REVERSE, AutoConnect.ALWAYS),
    ("bowtie", Mode.NAIVE, EdgeOrder.DOT, AutoConnect.NEVER),
    ("triangle_tail", Mode.NAIVE, EdgeOrder.DOT, AutoConnect.ALWAYS),
    ("ring_chords", Mode.NAIVE, EdgeOrder.REVERSE, AutoConnect.ALWAYS),
]


def run(name: str, mode: Mode, order: EdgeOrder, auto: AutoConnect) -> Trace:
    return simulate(load_dot(GRAPHS / f"{name}.dot"),
                    RunSpec(mode=mode, edge_order=order, auto_connect=auto))


def renumbered(trace: Trace, events: list[Event]) -> Trace:
    return Trace(trace.header, [dataclasses.replace(e, seq=i) for i, e in enumerate(events)])


def commute(a: Event, b: Event) -> bool:
    """Runtime observations (connect) on different nodes may be reported in either order."""
    return isinstance(a, Connect) or isinstance(b, Connect)


@pytest.mark.parametrize("spec", RUNS, ids=["-".join(str(getattr(x, "value", x)) for x in r)
                                            for r in RUNS])
def test_simulated_traces_are_valid(spec: tuple[str, Mode, EdgeOrder, AutoConnect]) -> None:
    assert check(run(*spec)) == []


def test_large_generated_cluster_is_valid() -> None:
    trace = simulate(sparse_cluster(400, seed=7), RunSpec(mode=Mode.NAIVE))
    assert check(trace) == []


Mutation = Callable[[list[Event], int], list[Event] | None]


def swap(events: list[Event], i: int) -> list[Event] | None:
    if i + 1 >= len(events) or commute(events[i], events[i + 1]):
        return None
    return [*events[:i], events[i + 1], events[i], *events[i + 2 :]]


def drop(events: list[Event], i: int) -> list[Event] | None:
    if isinstance(events[i], Connect):
        return None  # a lost runtime observation: the check cannot know it happened
    return events[:i] + events[i + 1 :]


def duplicate(events: list[Event], i: int) -> list[Event] | None:
    return [*events[: i + 1], events[i], *events[i + 1 :]]


@pytest.mark.parametrize("mutate", [swap, drop, duplicate], ids=["swap", "drop", "duplicate"])
@pytest.mark.parametrize("spec", RUNS[:3] + RUNS[4:], ids=lambda r: f"{r[0]}-{r[1].value}")
def test_every_mutation_is_caught(mutate: Mutation,
                                  spec: tuple[str, Mode, EdgeOrder, AutoConnect]) -> None:
    trace = run(*spec)
    tried = 0
    for i in range(len(trace.events)):
        events = mutate(trace.events, i)
        if events is None:
            continue
        tried += 1
        violations = check(renumbered(trace, events))
        assert violations, f"{mutate.__name__} at {i} ({trace.events[i]}) went unnoticed"
    assert tried >= len(trace.events) // 2


def test_seq_gap_and_violation_format() -> None:
    trace = run(*RUNS[0])
    events = [dataclasses.replace(e, line=e.seq + 2) for e in trace.events]
    del events[5]
    violations = check(Trace(trace.header, events))
    first = violations[0]
    assert (first.seq, first.line) == (6, 8)
    assert first.format("t.jsonl") == ("t.jsonl:8: seq 6: seq 6 where 5 was expected "
                                       "(seq must count 0, 1, 2, ... without gaps)")


def test_wrong_return_keys_are_named() -> None:
    trace = run(*RUNS[1])
    events = list(trace.events)
    i = next(i for i, e in enumerate(events) if isinstance(e, Return) and e.callee == "c")
    events[i] = dataclasses.replace(events[i], keys=frozenset({"c", "z"}))
    messages = [v.message for v in check(Trace(trace.header, events))]
    assert "return from c carries keys ['c', 'z'] but its probe ended with ['c']" in messages


def test_a_failed_call_needs_no_return() -> None:
    trace = run(*RUNS[3])
    assert trace.events[-1].kind.value == "crash"
    assert check(trace) == []
