"""Pacing: every caption on screen for at least its reading time, in trace order, as cues.

For every trace in graphs/ and every scene, with both timings (and squeezed into a duration):
each visited node and each connection the run made is named by some cue; cues are in trace
order, never overlap, each lasts at least its reading time, and the video lasts until the last
cue ends.
"""

from __future__ import annotations

import itertools
import re

import pytest

from conftest import GRAPHS, ROOT
from inkworm import AutoConnect, Mode, load_dot, load_trace, simulate
from inkworm.costs import costs
from inkworm.render.options import RenderOptions
from inkworm.render.subtitles import caption_cues, chapter_cues, to_vtt, video_length
from inkworm.render.timeline import (
    KEY_KINDS,
    StepKind,
    Story,
    Timing,
    reading_time,
    steps_from_trace,
    summarise,
    time_steps,
)
from inkworm.run import RunSpec, Strategy
from inkworm.trace import Trace
from inkworm.views import connections, visit_order

HOLD = RenderOptions().hold


def runs() -> dict[str, Trace]:
    bowtie = load_dot(GRAPHS / "bowtie.dot")
    found = {path.name: load_trace(path) for path in sorted(GRAPHS.glob("*.jsonl"))}
    found.update({  # the scenes of scenes/bowtie.py
        "scene-naive": simulate(bowtie, RunSpec(mode=Mode.NAIVE)),
        "scene-fixed": simulate(bowtie, RunSpec(mode=Mode.FIXED)),
        "scene-never": simulate(bowtie, RunSpec(mode=Mode.NAIVE, auto_connect=AutoConnect.NEVER)),
        "ring-chords": simulate(load_dot(GRAPHS / "ring_chords.dot"), RunSpec(mode=Mode.NAIVE)),
        # the parallel worm's waves: several captions' worth in one, each still readable
        "ring-chords-parallel": simulate(load_dot(GRAPHS / "ring_chords.dot"),
                                         RunSpec(mode=Mode.NAIVE, strategy=Strategy.PARALLEL)),
        "bowtie-parallel": simulate(bowtie, RunSpec(mode=Mode.FIXED,
                                                    strategy=Strategy.PARALLEL)),
    })
    assert (ROOT / "scenes" / "bowtie.py").read_text().count("class ") == 4
    return found


RUNS = runs()
CASES = [(name, timing, duration, pace) for name in RUNS for timing in Timing
         for duration, pace in ((None, 1.0), (12.0, 1.0), (None, 0.5), (None, 2.0))]


def named(text: str, node: str) -> bool:
    return re.search(rf"(?<![\w@.-]){re.escape(node)}(?![\w@-])", text) is not None


@pytest.mark.parametrize("case", CASES, ids=[f"{n}-{t.value}-{d}-{p}" for n, t, d, p in CASES])
def test_every_caption_is_readable_and_in_order(
        case: tuple[str, Timing, float | None, float]) -> None:
    name, timing, duration, pace = case
    trace = RUNS[name]
    steps = time_steps(steps_from_trace(trace), timing, duration, pace=pace, fps=15)
    cues = caption_cues(steps, HOLD)
    texts = [c.text for c in cues]
    for node in visit_order(trace):
        assert any(named(t, node) for t in texts), node
    for a, b in connections(trace):
        assert any(named(t, a) and named(t, b) for t in texts), (a, b)
    firsts = [c.seqs[0] for c in cues]
    assert firsts == sorted(firsts)
    for a, b in itertools.pairwise(cues):
        assert a.end <= b.start + 1e-9
    for cue in cues:
        assert cue.duration >= reading_time(cue.text, pace) - 1e-9, cue
        assert abs(cue.start * 15 - round(cue.start * 15)) < 1e-6  # starts on a frame
    assert cues[-1].end == pytest.approx(video_length(steps, HOLD))
    assert cues[-1].duration >= 4.0  # the final map is held


def test_no_caption_of_the_recorded_run_is_dropped() -> None:
    """Measured timing used to drop 18 of 33 captions that came less than 0.3 s apart."""
    trace = RUNS["bowtie-naive.beam.jsonl"]
    steps = time_steps(steps_from_trace(trace), Timing.MEASURED, fps=60)
    cues = caption_cues(steps, HOLD)
    assert len(cues) == len(steps_from_trace(trace))
    asks = [c for c in cues if " asks " in c.text]
    assert len(asks) == 5
    artefact = next(c for c in cues if c.text.startswith("d sees") and "artefact" in c.text)
    assert artefact.duration >= reading_time(artefact.text) - 1e-9


def test_a_duration_too_short_summarises_and_stays_readable() -> None:
    steps = steps_from_trace(RUNS["scene-naive"])
    full = time_steps(steps)
    short = time_steps(steps, duration=5.0)
    assert len(short) < len(steps)  # skips were summarised
    assert short[-1].end > 5.0  # the shortest readable video, not a cut one
    assert short[-1].end < full[-1].end
    merged = [s.caption for s in summarise(steps) if s.kind is StepKind.SKIP]
    assert "c skips a: already visited" in merged or any(", " in m for m in merged)
    longer = time_steps(steps, duration=full[-1].end * 2)
    assert longer[-1].end == pytest.approx(full[-1].end * 2)


def test_chapters_one_per_visit_and_the_result() -> None:
    steps = time_steps(steps_from_trace(RUNS["scene-fixed"]), fps=15)
    chapters = chapter_cues(steps, HOLD)
    assert [c.text for c in chapters] == [f"visit {n}" for n in "abcdef"] + ["result"]
    assert chapters[-1].end == pytest.approx(video_length(steps, HOLD))
    vtt = to_vtt(chapters)
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.000 --> ")
    assert vtt.count(" --> ") == 7
    parallel = chapter_cues(time_steps(steps_from_trace(RUNS["ring-chords-parallel"])), HOLD)
    assert [c.text for c in parallel] == ["visit r0", "visit r1 r7 r4", "visit r2 r6 r3 r5",
                                          "result"]


@pytest.mark.parametrize(("nodes", "duration", "expect"), [(300, None, 60.0), (1000, 20.0, 20.0)])
def test_a_large_run_is_told_condensed_and_readable(nodes: int, duration: float | None,
                                                    expect: float) -> None:
    """Past 40 visits every step is still drawn, but captions summarise runs of steps: the
    video lasts a minute by default (or the duration asked), and every cue its reading time."""
    from inkworm.gen import sparse_cluster

    trace = simulate(sparse_cluster(nodes, 3, 0.5), RunSpec(mode=Mode.NAIVE))
    steps = time_steps(steps_from_trace(trace), duration=duration, fps=15)
    assert len(steps) == len(steps_from_trace(trace))  # nothing left undrawn
    assert steps[-1].end == pytest.approx(expect, abs=1 / 15)
    cues = caption_cues(steps, HOLD)
    assert len(cues) < len(steps) / 5
    for a, b in itertools.pairwise(cues):
        assert a.end <= b.start + 1e-9
    for cue in cues[:-1]:
        assert cue.duration >= reading_time(cue.text) - 1e-9, cue
    assert any("new channel" in c.text or "wires" in c.text for c in cues)  # the point
    assert cues[-1].text.startswith(f"{trace.header.launch} has the map of {nodes} nodes")


def test_a_large_parallel_run_is_told_condensed_with_its_duplicate_work() -> None:
    """60 nodes, a few chords: 218 probes, 158 of them duplicates. Told in a minute, every
    cue its reading time, the duplicate work counted as it happens and in the last word."""
    from inkworm.gen import sparse_cluster

    trace = simulate(sparse_cluster(60, 3, 0.05), RunSpec(mode=Mode.FIXED,
                                                          strategy=Strategy.PARALLEL))
    steps = time_steps(steps_from_trace(trace), fps=15)
    assert steps[-1].end == pytest.approx(60.0, abs=1 / 15)
    cues = caption_cues(steps, HOLD)
    for cue in cues[:-1]:
        assert cue.duration >= reading_time(cue.text) - 1e-9, cue
    assert sum("duplicate" in c.text for c in cues) >= 3
    twice = costs(trace).duplicates
    assert cues[-1].text == (f"n00 has the map of 60 nodes after {costs(trace).probes} "
                             f"probes ({twice} duplicate)")


@pytest.mark.parametrize(("story", "length"), [(Story.KEY, 30.0), (Story.VISITS, 60.0)])
def test_a_story_choice_sets_what_takes_the_time(story: Story, length: float) -> None:
    """``--story key`` gives the key moments (the measurement's connections, the map) the
    screen time and hurries the walk; ``visits`` spreads it evenly. Both stay readable."""
    from inkworm.gen import sparse_cluster

    trace = simulate(sparse_cluster(300, 3, 0.5), RunSpec(mode=Mode.NAIVE))
    steps = time_steps(steps_from_trace(trace), fps=15, story=story)
    assert steps[-1].end == pytest.approx(length, abs=1 / 15)
    if story is Story.KEY:  # (at 15 fps most of 1,700 steps are a frame or none: unrounded)
        told = time_steps(steps_from_trace(trace), story=story)
        walk = sum(s.duration for s in told if s.kind not in KEY_KINDS) / told[-1].end
        even = time_steps(steps_from_trace(trace), duration=length, story=Story.VISITS)
        walk_even = sum(s.duration for s in even if s.kind not in KEY_KINDS) / even[-1].end
        assert walk < 0.5 * walk_even  # the walk between key moments hurries
    for cue in caption_cues(steps, HOLD)[:-1]:
        assert cue.duration >= reading_time(cue.text) - 1e-9, cue


def test_the_full_story_tells_every_step_of_a_large_run() -> None:
    from inkworm.gen import sparse_cluster

    trace = simulate(sparse_cluster(60, 3, 0.5), RunSpec(mode=Mode.NAIVE))
    told = steps_from_trace(trace)
    steps = time_steps(told, fps=15, story=Story.FULL)
    assert [c.text for c in caption_cues(steps, HOLD)] == [s.caption for s in told]
    assert steps[-1].end > 60  # every caption its reading time: longer than a minute


def readable_for(text: str) -> float:
    """Issue 22's rule, written out apart from the code: max(1.5 s, 0.3 s a word, 1 s per 17
    characters)."""
    return max(1.5, 0.3 * len(text.split()), len(text.strip()) / 17)


def test_reading_time_counts_characters_too() -> None:
    long = "api@web-01.prod.example.com prints through db@db-01.prod.example.com's group leader"
    assert reading_time(long) == pytest.approx(len(long) / 17)  # few words, much to read
    assert reading_time(long, 2.0) == pytest.approx(2 * len(long) / 17)
    assert reading_time("a b") == 1.5
    assert reading_time(" ".join(["word"] * 20)) == pytest.approx(6.0)


def test_captions_of_real_names_stay_their_reading_time() -> None:
    """A name@host cluster: captions of few words and many characters (1.5 s for 125
    characters before)."""
    from inkworm.topology import parse_dot

    names = [f"svc{i}@web-{i:02d}.prod.example.com" for i in range(10)]
    edges = [(0, 1), (1, 2), (0, 2), (1, 3), (3, 4), (4, 5), (5, 3), (5, 6), (6, 7), (7, 8),
             (8, 9)]
    text = "graph G {\n" + "".join(f'  "{names[a]}" -- "{names[b]}";\n' for a, b in edges) + "}\n"
    trace = simulate(parse_dot(text, "hosts.dot"), RunSpec(mode=Mode.NAIVE))
    for pace in (1.0, 0.5):
        steps = time_steps(steps_from_trace(trace), Timing.UNIFORM, pace=pace, fps=15)
        cues = caption_cues(steps, HOLD)
        assert max(len(c.text) for c in cues) > 100
        for cue in cues:
            assert cue.duration >= readable_for(cue.text) * pace - 1e-9, cue


@pytest.mark.parametrize("case", ["compare", "hosts", "gen-60", "gen-300"])
def test_every_cue_meets_the_reading_rule(case: str) -> None:
    """Issue 22's done-when: the naive | fixed comparison, a 10-node name@host graph, and
    60- and 300-node clusters: every cue at least max(1.5 s, 0.3 s a word, 1 s per 17
    characters), the last one too (the final hold included)."""
    from inkworm.gen import sparse_cluster
    from inkworm.render.compare import PairBoard
    from inkworm.render.pair import label_runs
    from inkworm.runs import load_run

    if case == "compare":
        bowtie = load_dot(GRAPHS / "bowtie.dot")
        a, b = label_runs((bowtie, simulate(bowtie, RunSpec(mode=Mode.NAIVE))),
                          (bowtie, simulate(bowtie, RunSpec(mode=Mode.FIXED))))
        options = RenderOptions()
        board = PairBoard(a, b, time_steps(steps_from_trace(a.trace), fps=15),
                          time_steps(steps_from_trace(b.trace), fps=15), options, 854, 480)
        cues = board.cues()
        # a comparison's cue holds both sides' lines: each line is on screen (in one cue or
        # in consecutive ones, as the other side's line changes) its reading time
        lines = {line for cue in cues for line in cue.text.splitlines()}
        for line in lines:
            shown = sum(c.duration for c in cues if line in c.text.splitlines())
            assert shown >= readable_for(line.partition(": ")[2]) - 1e-6, line
        assert cues[-1].duration >= readable_for(cues[-1].text) - 1e-6
        return
    else:
        if case == "hosts":
            topology, trace = load_run(str(GRAPHS / "prod_hosts.dot"), RunSpec(mode=Mode.NAIVE))
        else:
            topology = sparse_cluster(int(case.split("-")[1]), seed=3)
            trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
        cues = caption_cues(time_steps(steps_from_trace(trace), fps=15), HOLD)
    for cue in cues:
        assert cue.duration >= readable_for(cue.text) - 1e-6, cue
