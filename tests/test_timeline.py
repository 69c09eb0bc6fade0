"""Trace events → timed visual steps: structure first, no pixels, no manim."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from conftest import GRAPHS
from inkworm import AutoConnect, EdgeOrder, Mode, Topology, load_dot, load_trace, simulate
from inkworm.render.schedule import caption_schedule, section_groups
from inkworm.render.timeline import (
    IDLE_MAX,
    StepKind,
    Timing,
    reading_time,
    slide_groups,
    steps_from_trace,
    time_steps,
)
from inkworm.run import RunSpec, Strategy
from inkworm.trace import Neighbors, ProbeStart, Return, Trace


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


# --- a parallel run: concurrent fronts --------------------------------------------------------

def parallel_steps(graph: str, mode: Mode = Mode.FIXED, **kwargs: object) -> list:  # type: ignore[type-arg]
    trace = simulate(load_dot(GRAPHS / graph), RunSpec(mode=mode, strategy=Strategy.PARALLEL,
                                                       **kwargs))  # type: ignore[arg-type]
    return steps_from_trace(trace)


def test_a_fan_out_is_one_step_whose_targets_start_together() -> None:
    """r0's multicall to r1, r7 and r4 is one step (its parts drawn at once), and so is the
    next depth: r1, r7 and r4 fanning out at the same moment, not one after another."""
    steps = time_steps(parallel_steps("ring_chords.dot"))
    calls = [s for s in steps if s.kind is StepKind.CALL]
    first = calls[0]
    assert [(p.node, p.peer) for p in first.parts] == [("r0", "r1"), ("r0", "r7"), ("r0", "r4")]
    assert first.visits == ("r1", "r7", "r4")
    assert first.caption == "r0 asks r1, r7 and r4 at once: who can you see?"
    second = calls[1]
    assert [(p.node, p.peer) for p in second.parts] == [
        ("r1", "r2"), ("r7", "r6"), ("r4", "r3"), ("r4", "r5")]
    asks = next(s for s in steps if s.kind is StepKind.ASK and s.start > first.start)
    assert {p.node for p in asks.parts} == {"r1", "r7", "r4"}  # each new probe asks at once
    assert len(steps) < 25  # 135 events: far fewer steps than a step an event


def test_a_duplicate_probe_is_flagged_and_says_so() -> None:
    """On the diamond, b and c reach d at once: c's probe is the second on d."""
    diamond = Topology.from_edges([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
                                  ["a", "b", "c", "d"])
    trace = simulate(diamond, RunSpec(mode=Mode.FIXED, strategy=Strategy.PARALLEL))
    steps = steps_from_trace(trace)
    both = next(s for s in steps if s.kind is StepKind.CALL and s.peer == "d")
    assert [(p.node, p.peer, p.duplicate) for p in both.parts] == [
        ("b", "d", False), ("c", "d", True)]
    assert both.duplicate and both.visits == ("d",)
    assert both.caption.endswith("d is probed a second time, from c: duplicate work")
    ring = parallel_steps("ring_chords.dot")
    flagged = [p for s in ring for p in s.parts or (s,) if p.duplicate]
    assert len(flagged) == 10  # as many as `summary` counts
    assert ring[-1].caption == "r0 has the map of 8 nodes after 18 probes (10 duplicate)"


CAUSAL = [*(f"{graph} {mode.value}" for graph in ("bowtie.dot", "ring_chords.dot", "ring12.dot")
            for mode in (Mode.FIXED, Mode.NAIVE)), "ring_chords.dot timeless",
          "ring_chords-parallel.beam.jsonl"]


@pytest.mark.parametrize("run", CAUSAL)
def test_waves_keep_each_probe_in_causal_order(run: str) -> None:
    """A probe's events are drawn in order, its start before anything it does, and an answer
    after everything the answering probe drew. A recording's branches drift apart, and a
    trace without times (every t_us 0) has every span overlap: there, only what each step
    waits for keeps the order. And no duplicate ink is drawn before the first: on the
    recording, r2's probe starts on r3 13 us before r4's, but r4's call is drawn first."""
    graph, _, how = run.partition(" ")
    if graph.endswith(".jsonl"):
        trace = load_trace(GRAPHS / graph)
    else:
        mode = Mode.FIXED if how == "timeless" else Mode(how)
        trace = simulate(load_dot(GRAPHS / graph), RunSpec(mode=mode,
                                                           strategy=Strategy.PARALLEL))
        if how == "timeless":
            trace = Trace(trace.header, [replace(e, t_us=0) for e in trace.events])
    steps = steps_from_trace(trace)
    drawn = {seq: k for k, s in enumerate(steps) for seq in s.seqs}
    by_probe: dict[str, list[int]] = {}
    for e in trace.events:
        if e.probe is not None and e.seq in drawn:
            by_probe.setdefault(e.probe, []).append(drawn[e.seq])
    for path, order in by_probe.items():
        assert order == sorted(order), path
    for e in trace.events:
        if isinstance(e, Return) and e.child in by_probe:
            assert drawn[e.seq] > max(by_probe[e.child]), (e.seq, e.child)
        if isinstance(e, Neighbors):
            start = next(x for x in trace.events if isinstance(x, ProbeStart)
                         and x.probe == e.probe)
            assert drawn[e.seq] > drawn[start.seq]
    firsts = [s.seqs[0] for s in steps]
    assert firsts == sorted(firsts)
    inked: set[str] = set()  # the first probe drawn reaching a well inks it; later: duplicates
    for part in (p for s in steps for p in s.parts or (s,)):
        reached = part.peer if part.kind is StepKind.CALL and part.ok else \
            part.node if part.kind is StepKind.INJECT else None
        if reached is not None:
            assert part.duplicate is (reached in inked), part.caption
            assert (part.visit == reached) is not part.duplicate, part.caption
            inked.add(reached)


def test_measured_timing_times_the_waves_by_their_virtual_time() -> None:
    """Each wave starts at its first event's t_us: the fan-out's flight (load, call, start:
    1,600 us) is a long gap, the skips after nodes() a short one; stretched (``unit``), the
    measured flight outlasts its reading time while the skips keep theirs."""
    steps = parallel_steps("ring_chords.dot")
    fan_out = next(k for k, s in enumerate(steps) if s.kind is StepKind.CALL)
    assert steps[fan_out + 1].t_us - steps[fan_out].t_us >= 1600
    assert [s.t_us for s in steps] == sorted(s.t_us for s in steps)
    timed = time_steps(steps, Timing.MEASURED, unit=5.0)
    flight, skip = timed[fan_out], next(s for s in timed if s.kind is StepKind.SKIP)
    assert flight.duration > reading_time(flight.caption) + 1.0
    assert skip.duration == pytest.approx(reading_time(skip.caption))
    uniform = time_steps(steps, Timing.UNIFORM, unit=5.0)
    assert [s.duration for s in timed] != [s.duration for s in uniform]


def test_a_sequential_run_is_told_as_before() -> None:
    steps = bowtie_steps(Mode.NAIVE)
    assert not any(s.parts or s.duplicate for s in steps)
    assert [s.visits for s in steps if s.visits] == [(n,) for n in "abcdef"]


def test_a_parallel_runs_slides_end_on_what_each_wave_of_probes_sees() -> None:
    """A slide a depth: each ends when the nodes a wave of calls probed (the second time
    too) answer nodes(); the answers and the map are the last."""
    groups = slide_groups(parallel_steps("ring_chords.dot"))
    assert [g[-1].kind for g in groups[:-1]] == [StepKind.ASK] * 5
    assert [g[-2].duplicate for g in groups[2:5]] == [False, True, True]
    assert groups[-1][-1].kind is StepKind.RESULT


@pytest.mark.parametrize("nodes", [60, 300])
def test_condensed_captions_carry_the_runs_arc(nodes: int) -> None:
    """Who launched, how far the walk is, how many connections the measurement has made so
    far; in more than one phrasing (all 14 of a 60-node run read 'nX prints through n00's
    group leader ... (and 4 more like it)')."""
    import re

    from inkworm.gen import sparse_cluster
    from inkworm.render.subtitles import caption_cues

    trace = simulate(sparse_cluster(nodes, seed=3), RunSpec(mode=Mode.NAIVE))
    cues = caption_cues(time_steps(steps_from_trace(trace), fps=15), 4.0)
    texts = [c.text for c in cues]
    assert texts[0].startswith(f"{trace.header.launch} launches the worm")
    progress = [int(m.group(1)) for t in texts[:-1]
                for m in [re.search(rf"visited (\d+) of {nodes}\b", t)] if m]
    assert len(progress) == len(texts) - 1 and progress == sorted(progress)
    assert progress[-1] >= 0.9 * nodes
    made = [int(m.group(1)) for t in texts for m in
            [re.search(r"(\d+) (?:in all|channels to|connections the cluster)", t)] if m]
    assert made == sorted(made) and len(made) >= 3
    shapes = {re.sub(r"n\d+|\d+", "#", t) for t in texts}
    assert len(shapes) >= min(4, len(texts) - 1)  # not one template


@pytest.mark.parametrize("duration", [None, 10.0])
def test_the_key_story_tells_every_connection_the_measurement_makes(
        duration: float | None) -> None:
    """--story key --duration 10 dropped the e-a and f-a moments, the ones the talk is about."""
    from inkworm.render.subtitles import caption_cues
    from inkworm.render.timeline import Story, reading_time

    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=Mode.NAIVE))
    steps = time_steps(steps_from_trace(trace), duration=duration, fps=15, story=Story.KEY)
    cues = caption_cues(steps, 4.0)
    said = "\n".join(c.text for c in cues)
    for node in "def":
        assert f"{node}\u2013a" in said or f"{node} prints through" in said or \
            f"; {node} already prints" in said, node
    assert all(c.duration >= reading_time(c.text) - 1e-6 for c in cues)
    assert not any("map of" in c.text and "\u2013a" in c.text for c in cues)
