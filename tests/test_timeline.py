"""Trace events → timed visual steps: structure first, no pixels, no manim."""

from __future__ import annotations

import itertools

import pytest

from conftest import GRAPHS
from inkworm import AutoConnect, EdgeOrder, Mode, load_dot, simulate
from inkworm.render.board import caption_schedule, section_groups
from inkworm.render.timeline import (
    IDLE_MAX,
    StepKind,
    Timing,
    reading_time,
    steps_from_trace,
    time_steps,
)
from inkworm.run import RunSpec


def bowtie_steps(mode: Mode, **kwargs: object) -> list:  # type: ignore[type-arg]
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=mode, **kwargs))  # type: ignore[arg-type]
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


def test_uniform_timing_gives_each_step_its_reading_time() -> None:
    steps = time_steps(bowtie_steps(Mode.NAIVE))
    for step in steps:
        assert step.duration >= reading_time(step.caption) - 1e-9
    etch = next(s for s in steps if s.kind is StepKind.ETCH)
    assert etch.duration >= 1.5 * reading_time(etch.caption) - 1e-9  # a key moment holds
    assert all(b.start == pytest.approx(a.end) for a, b in itertools.pairwise(steps))


@pytest.mark.parametrize("timing", list(Timing))
def test_a_longer_duration_stretches_the_whole_run(timing: Timing) -> None:
    natural = time_steps(bowtie_steps(Mode.NAIVE), timing)[-1].end
    steps = time_steps(bowtie_steps(Mode.NAIVE), timing, duration=natural * 1.5)
    assert steps[-1].end == pytest.approx(natural * 1.5)


def test_measured_timing_follows_t_us_and_compresses_idle_gaps() -> None:
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=Mode.NAIVE))
    steps = time_steps(steps_from_trace(trace), Timing.MEASURED)
    calls = [s for s in steps if s.kind is StepKind.CALL]
    skips = [s for s in steps if s.kind is StepKind.SKIP]
    assert min(c.duration for c in calls) > max(s.duration for s in skips)
    assert all(c.duration <= reading_time(c.caption) + IDLE_MAX + 1e-9 for c in calls)


def test_one_section_per_visit_and_captions_held() -> None:
    steps = time_steps(bowtie_steps(Mode.FIXED, edge_order=EdgeOrder.REVERSE))
    groups = section_groups(steps, min_section=0.5)
    assert [g[0].visit for g in groups] == list("acbdfe")
    naive = time_steps(bowtie_steps(Mode.NAIVE))
    schedule = caption_schedule(naive)
    assert [s for _, s in schedule] == naive  # every caption, none dropped
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(schedule)]
    assert min(gaps) >= 1.5 - 1e-9
