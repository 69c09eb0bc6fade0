"""Trace events → timed visual steps: structure first, no pixels, no manim."""

from __future__ import annotations

import itertools

import pytest

from conftest import GRAPHS
from inkworm import AutoConnect, EdgeOrder, Mode, load_dot, simulate
from inkworm.render.board import caption_schedule, section_groups
from inkworm.render.timeline import StepKind, Timing, steps_from_trace, time_steps


def bowtie_steps(mode: Mode, **kwargs: object) -> list:  # type: ignore[type-arg]
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), mode=mode, **kwargs)  # type: ignore[arg-type]
    return steps_from_trace(trace)


def test_bowtie_naive_steps() -> None:
    steps = bowtie_steps(Mode.NAIVE)
    calls = [(s.node, s.peer) for s in steps if s.kind is StepKind.CALL]
    assert calls == [("a", "b"), ("b", "c"), ("b", "d"), ("d", "e"), ("e", "f")]
    etched = [(s.node, s.peer, s.emphasis) for s in steps if s.kind is StepKind.ETCH]
    assert etched == [("d", "a", False), ("e", "a", False), ("f", "a", True)]
    assert [s.visit for s in steps if s.visit] == list("abcdef")
    assert steps[0].kind is StepKind.INJECT and steps[-1].kind is StepKind.RESULT
    skips = [(s.node, s.peer) for s in steps if s.kind is StepKind.SKIP]
    assert ("a", "c") in skips and ("f", "a") in skips
    returns = [(s.node, s.peer) for s in steps if s.kind is StepKind.RETURN]
    assert returns == [("c", "b"), ("f", "e"), ("e", "d"), ("d", "b"), ("b", "a")]
    asks = [s.caption for s in steps if s.kind is StepKind.ASK]
    assert "d sees [b, e, f, a] \u2014 a is new: measurement artefact" in asks
    assert "b asks d: who can you see?" in [s.caption for s in steps]


def test_bowtie_fixed_has_nothing_etched() -> None:
    steps = bowtie_steps(Mode.FIXED)
    assert not [s for s in steps if s.kind is StepKind.ETCH]
    assert steps[-1].caption == "a has the map of 6 nodes"


def test_faults_become_fault_steps() -> None:
    steps = bowtie_steps(Mode.NAIVE, auto_connect=AutoConnect.NEVER)
    faults = [(s.kind, s.node, s.peer) for s in steps if not s.ok]
    assert faults == [(StepKind.FAULT, "b", "d"), (StepKind.FAULT, "a", "b"),
                      (StepKind.CRASH, "a", None)]


def test_uniform_timing_returns_faster_than_calls() -> None:
    steps = time_steps(bowtie_steps(Mode.NAIVE))
    by_kind = {s.kind: s.duration for s in steps if not s.emphasis}
    assert by_kind[StepKind.RETURN] < by_kind[StepKind.CALL]
    assert by_kind[StepKind.SKIP] < by_kind[StepKind.CALL]
    assert all(b.start == pytest.approx(a.end) for a, b in itertools.pairwise(steps))


@pytest.mark.parametrize("timing", list(Timing))
def test_duration_fits_the_whole_run(timing: Timing) -> None:
    steps = time_steps(bowtie_steps(Mode.NAIVE), timing, duration=12.0)
    assert steps[-1].end == pytest.approx(12.0)
    if timing is Timing.MEASURED:
        assert min(s.duration for s in steps) >= 0.12 - 1e-9


def test_measured_timing_follows_t_us() -> None:
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), mode=Mode.NAIVE)
    steps = time_steps(steps_from_trace(trace), Timing.MEASURED, duration=30.0)
    calls = [s for s in steps if s.kind is StepKind.CALL]
    skips = [s for s in steps if s.kind is StepKind.SKIP]
    assert min(c.duration for c in calls) > 3 * max(s.duration for s in skips)


def test_one_section_per_visit_and_captions_held() -> None:
    steps = time_steps(bowtie_steps(Mode.FIXED, edge_order=EdgeOrder.REVERSE))
    groups = section_groups(steps, min_section=0.5)
    assert [g[0].visit for g in groups] == list("acbdfe")
    squeezed = time_steps(bowtie_steps(Mode.NAIVE), duration=3.0)
    assert len(section_groups(squeezed, 0.5)) < 6
    schedule = caption_schedule(squeezed, 0.3)
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(schedule)]
    assert min(gaps) >= 0.3 - 1e-9
    assert any(s.kind is StepKind.ETCH for _, s in schedule)
