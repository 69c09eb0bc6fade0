"""Pacing: how long each step is on screen. Reading time, uniform or measured timing, and the
condensed story of a large run (groups of steps, each with a caption of the run's arc).

Timing is ``uniform`` (weights per kind: returns and skips faster than calls) or ``measured``
(proportional to ``t_us``, with a minimum so short events stay visible); ``duration`` scales
the whole run to fit.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from inkworm.render.steps import WEIGHTS, Step, StepKind, Timing

READING_MIN = 1.5
"""No caption is on screen for less than this (seconds, at the default pace)."""
READING_PER_WORD = 0.3
"""...nor for less than this per word..."""
READING_CHARS_PER_SECOND = 17.0
"""...nor for less than a second per this many characters: a caption of long names
(``api@web-01.prod.example.com``) has few words but much to read."""
KEY_HOLD = 1.5
"""Key moments (a connection the measurement makes, a failure, the final map) hold this much
longer than their reading time."""
IDLE_MAX = 2.0
"""Measured timing: the most a step may last beyond its reading time (idle gaps compress)."""
KEY_KINDS = frozenset({StepKind.ETCH, StepKind.FAULT, StepKind.CRASH, StepKind.RESULT})


def reading_time(caption: str, pace: float = 1.0) -> float:
    """How long ``caption`` must stay on screen: max(1.5 s, 0.3 s a word, 1 s per 17
    characters), times ``pace``."""
    return max(READING_MIN, READING_PER_WORD * len(caption.split()),
               len(caption.strip()) / READING_CHARS_PER_SECOND) * pace


def _least(step: Step, pace: float) -> float:
    """The shortest a step may last: its caption's reading time, longer for a key moment."""
    key = step.kind in KEY_KINDS or step.emphasis
    return reading_time(step.caption, pace) * (KEY_HOLD if key else 1.0)


def summarise(steps: Sequence[Step]) -> list[Step]:
    """Consecutive skips by one node become one step: ``c skips a, b: already visited``."""
    merged: list[Step] = []
    for step in steps:
        last = merged[-1] if merged else None
        if (last is not None and step.kind is StepKind.SKIP and last.kind is StepKind.SKIP
                and last.node == step.node and not (step.parts or last.parts)):
            skipped = [*last.caption.split(" skips ", 1)[1].split(":")[0].split(", "),
                       step.peer or ""]
            merged[-1] = replace(last, seqs=last.seqs + step.seqs,
                                 caption=f"{step.node} skips {', '.join(skipped)}: "
                                         "already visited")
        else:
            merged.append(step)
    return merged


class Story(enum.Enum):
    """How much of a run is told (``--story``)."""

    FULL = "full"
    """Every step, each caption its reading time, however long the run."""
    VISITS = "visits"
    """Every step drawn, captions summarising runs of steps in :data:`LONG_RUN` seconds
    (the default past :data:`CONDENSE_ABOVE` visits)."""
    KEY = "key"
    """The key moments (the measurement's connections, failures, the map) take the screen
    time, the walk between them hurries, in :data:`KEY_RUN` seconds."""


def time_steps(steps: Sequence[Step], timing: Timing = Timing.UNIFORM,
               duration: float | None = None, unit: float = 0.7, pace: float = 1.0,
               fps: float | None = None, story: Story | None = None) -> list[Step]:
    """Give each step a start and a duration (video seconds), never shorter than the reading
    time of its caption (:func:`reading_time`, scaled by ``pace``; key moments longer).

    ``uniform``: ``unit * WEIGHTS[kind] * pace``, raised to the reading time. ``measured``:
    time is warped, not cut: each step lasts in proportion to its ``t_us`` gap to the next,
    bursts stretched to their reading time, idle gaps compressed to at most ``IDLE_MAX`` more.
    ``duration``: a longer budget stretches every step; a shorter one is met by summarising
    (:func:`summarise`), never by cutting below reading time: then the result is the shortest
    readable timing, longer than asked (the caller says so). ``fps``: durations are rounded up
    to whole frames, so that every step (and caption) starts on a frame.
    """
    if not steps:
        return []
    if story is None:
        story = Story.VISITS if sum(len(s.visits) for s in steps) > CONDENSE_ABOVE else \
            Story.FULL
    if story is Story.VISITS:
        return condensed(steps, duration or LONG_RUN, pace, fps)
    if story is Story.KEY:
        return condensed(steps, duration or KEY_RUN, pace, fps, hurry=KEY_HURRY)
    least = [_least(s, pace) for s in steps]
    if timing is Timing.UNIFORM:
        raw = [max(unit * WEIGHTS[s.kind] * pace, low) for s, low in zip(steps, least,
                                                                          strict=True)]
    else:
        gaps = [max(b.t_us - a.t_us, 0) for a, b in itertools.pairwise(steps)]
        gaps.append(sorted(gaps)[len(gaps) // 2] if gaps else 1)
        scale = unit * pace * len(steps) / (sum(gaps) or 1)
        raw = [min(max(scale * gap, low), low + IDLE_MAX * pace)
               for gap, low in zip(gaps, least, strict=True)]
    total = sum(raw)
    fits = duration is not None and total <= duration + 1e-9
    if duration is not None and not fits:
        shorter = summarise(steps)
        if len(shorter) < len(steps):
            return time_steps(shorter, timing, duration, unit, pace, fps, story)
    elif duration is not None and total > 0:
        raw = [r * duration / total for r in raw]
    if fps:
        raw = _frames(raw, least, fps, round(duration * fps) if fits and duration else None)
    timed: list[Step] = []
    clock = 0.0
    for step, length in zip(steps, raw, strict=True):
        timed.append(replace(step, start=clock, duration=length))
        clock += length
    return timed


CONDENSE_ABOVE = 40
"""Runs that visit more nodes than this are told condensed (:func:`condensed`): every step is
still drawn, but captions summarise runs of steps, so the video has a length a viewer can
sit through. Smaller runs are told in full, every caption its reading time."""
LONG_RUN = 60.0
"""Seconds a condensed run lasts unless a duration is asked for."""
KEY_RUN = 30.0
"""Seconds a run told by its key moments lasts unless a duration is asked for."""
KEY_EACH = 12
"""``--story key``: a run whose measurement makes at most this many connections tells each in
a caption of its own (past that, captions name up to :data:`NAMED_ETCHES` each)."""
KEY_HURRY = 0.15
"""``--story key``: the share of its usual time a step that is not a key moment gets."""


def condensed(steps: Sequence[Step], duration: float, pace: float = 1.0,
              fps: float | None = None, hurry: float = 1.0) -> list[Step]:
    """A large run told in ``duration`` seconds: the ink of every step, in uniform proportions,
    and captions grouped so that each stays its reading time. A group's caption is its most
    telling step's (a connection the measurement made, a failure, the map), else a count of
    what it holds ("n12 ... n40: 29 visits"). ``hurry`` < 1: steps that are not key moments
    get that share of their time (the key moments get the rest)."""
    raw = [WEIGHTS[s.kind] * (1.8 if s.emphasis else 1.0) *
           (1.0 if s.kind in KEY_KINDS or s.emphasis else hurry) for s in steps]
    scale = duration / sum(raw)
    raw = [r * scale for r in raw]
    if fps:
        raw = _frames(raw, [0.0] * len(raw), fps, round(duration * fps))
    timed: list[Step] = []
    clock = 0.0
    for step, length in zip(steps, raw, strict=True):
        timed.append(replace(step, start=clock, duration=length))
        clock += length
    arc = _Arc(total=sum(len(s.visits) for s in steps))
    groups: list[tuple[str, list[Step]]] = []
    group = _Group(arc)

    def close() -> None:
        nonlocal group
        groups.append((group.caption(), group.steps))
        arc.visited += len(group.visits)
        arc.made += group.etched
        arc.told += 1
        group = _Group(arc)

    # told by its key moments, a run that makes few connections gives each its own caption
    key = hurry < 1.0 and sum(s.kind is StepKind.ETCH for s in steps) <= KEY_EACH
    for step in timed:
        if group.steps and _apart(group, step, key):
            close()
        group.add(step)
        if group.duration >= reading_time(group.caption(), pace) or step is timed[-1]:
            close()
    return _readable(groups, pace, fps)


def duration_notice(steps: Sequence[Step], duration: float | None,
                    story: Story | None = None) -> str | None:
    """What to tell a user whose ``--duration`` the run cannot keep (every caption needs its
    reading time): one line saying what is rendered instead, and why; ``None`` when kept."""
    if duration is None or not steps:
        return None
    length = steps[-1].end
    if length <= duration * 1.02 + 0.1:
        return None
    cues = len({s.cue for s in steps}) if steps[0].cue >= 0 else len(steps)
    hint = "--pace 0.5 reads faster" if story is Story.KEY else \
        "--story key tells fewer, --pace 0.5 reads faster"
    return (f"--duration {duration:g}: the run takes {length:.1f} s (and the final map's "
            f"hold): its {cues} captions each need their reading time; {hint}")


def _apart(group: _Group, step: Step, key: bool) -> bool:
    """Whether ``step`` must open a caption of its own. Told by its key moments (``key``: a
    run of at most :data:`KEY_EACH` such connections), each connection the measurement makes
    has its own caption, and the final map or a
    failure never swallows one (told by its visits, a group names up to
    :data:`NAMED_ETCHES` of them and counts the rest)."""
    if not key or not group.etched:
        return False
    return step.kind in (StepKind.ETCH, StepKind.RESULT, StepKind.CRASH)


def _readable(groups: Sequence[tuple[str, list[Step]]], pace: float,
              fps: float | None) -> list[Step]:
    """The groups on one clock, each caption (``cue``) at least its reading time: a group cut
    short (a caption of its own, the run's end) is stretched, in whole frames; the run then
    lasts longer than asked, and the caller says so."""
    out: list[Step] = []
    clock = 0.0
    for cue, (caption, members) in enumerate(groups):
        length = sum(s.duration for s in members)
        need = reading_time(caption, pace)
        if length >= need or cue == len(groups) - 1:  # (the last: the final hold reads it)
            lengths = [s.duration for s in members]  # in whole frames already, when fps
        else:  # stretched to its reading time, on frame boundaries
            total = math.ceil(need * fps - 1e-6) / fps if fps else need
            ends = list(itertools.accumulate(
                s.duration / length * total if length > 0 else 0.0 for s in members))
            ends[-1] = total
            if fps:
                ends = [round(e * fps) / fps for e in ends[:-1]] + [total]
            lengths = [b - a for a, b in zip([0.0, *ends[:-1]], ends, strict=True)]
        for member, duration in zip(members, lengths, strict=True):
            out.append(replace(member, caption=caption, cue=cue, start=clock,
                               duration=duration))
            clock += duration
    return out


@dataclass
class _Arc:
    """How far a condensed run has gone before the group being captioned: each caption
    carries it (visited k of N, the connections the measurement made so far), so that the
    story moves on from caption to caption even where they tell the same kind of step."""

    total: int
    visited: int = 0
    made: int = 0
    told: int = 0
    """Groups captioned so far (the phrasing turns with it)."""

    def caption(self, group: _Group) -> str:
        """``group``'s caption, with the run's progress."""
        visited, made = self.visited + len(group.visits), self.made + group.etched
        walked = f"visited {visited} of {self.total}"
        launch = next((s for s in group.steps if s.kind is StepKind.INJECT), None)
        if launch is not None:
            head = f"{launch.node} launches the worm"
            if group.etched:
                who = (_listed(group.etched_nodes) if group.etched <= NAMED_ETCHES else
                       f"{group.etched} nodes")
                verb = "prints" if group.etched == 1 else "print"
                return f"{head}; {who} already {verb} through its group leader ({walked})"
            return f"{head} ({walked})"
        if group.etched:
            last, count = group.telling[StepKind.ETCH]
            hub = last.peer or "the launcher"
            if count == 1:
                return f"{last.caption} ({walked})"
            if count <= NAMED_ETCHES:
                return (f"{_listed(group.etched_nodes)} print through {hub}'s group leader: "
                        f"{made} channels to {hub} so far ({walked})")
            turns = (
                f"{last.node}{_others(count)} print through {hub}'s group leader: {made} "
                f"channels to {hub} so far ({walked})",
                f"the walk goes on ({walked}) and the measurement wires {count} more "
                f"nodes to {hub}: {made} in all",
                f"{hub} now has {made} connections the cluster does not have; the last, "
                f"{last.node}\u2013{hub} ({walked})",
            )
            return turns[self.told % len(turns)]
        if group.visits:  # (a group with a failure or the map is told by caption())
            span = group.visits[0] if len(group.visits) == 1 else \
                f"{group.visits[0]} \u2026 {group.visits[-1]}"
            again = f", {group.duplicates} duplicate probes" if group.duplicates > 1 else \
                (", 1 duplicate probe" if group.duplicates else "")
            return f"the worm walks on to {span} ({walked}{again})"
        return f"{group.told()} ({walked})"


NAMED_ETCHES = 6
"""A condensed caption names every node the measurement wired to the launcher in it, up to
this many (past that: the last one and a count)."""


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _others(count: int) -> str:
    return "" if count < 2 else f" and {count - 1} other{'s' if count > 2 else ''}"


class _Group:
    """Steps condensed under one caption, built a step at a time: what the caption needs is
    kept as the steps come (a group of thousands of steps costs as much as its steps)."""

    def __init__(self, arc: _Arc) -> None:
        self.arc = arc
        self.etched = 0
        """Connections the measurement made in this group."""
        self.etched_nodes: list[str] = []
        """The nodes they wired to the launcher, in order."""
        self.steps: list[Step] = []
        self.duration = 0.0
        self.telling: dict[StepKind, tuple[Step, int]] = {}
        """The last step of each telling kind, and how many of that kind."""
        self.visits: list[str] = []
        self.duplicates = 0
        """Probes that landed on a node already visited (a parallel run)."""

    def add(self, step: Step) -> None:
        self.steps.append(step)
        self.duration += step.duration
        if step.kind in _TELLING:
            self.telling[step.kind] = (step, self.telling.get(step.kind, (step, 0))[1] + 1)
        self.visits += step.visits
        if step.kind is StepKind.ETCH:
            self.etched += 1
            self.etched_nodes.append(step.node)
        self.duplicates += sum(p.duplicate for p in step.parts or (step,))

    def caption(self) -> str:
        final = {StepKind.RESULT, StepKind.CRASH, StepKind.FAULT} & set(self.telling)
        if final:
            return self.told()  # a failure, or the end: what the run came to
        return self.arc.caption(self)

    def told(self) -> str:
        """The caption of the group's most telling step (or a count of its visits)."""
        if len(self.steps) == 1:
            return self.steps[0].caption
        for kind in _TELLING:
            if kind in self.telling:
                last, count = self.telling[kind]
                return last.caption + (f" (and {count - 1} more like it)" if count > 1 else "")
        visits, twice = self.visits, self.duplicates
        again = f"{twice} duplicate probe{'s' if twice > 1 else ''}" if twice else ""
        if visits:
            span = visits[0] if len(visits) == 1 else f"{visits[0]} \u2026 {visits[-1]}"
            plural = "s" if len(visits) > 1 else ""
            return (f"the worm walks on: {span} ({len(visits)} visit{plural}"
                    f"{', ' + again if again else ''})")
        if again:
            return f"{again} land on wells already inked: duplicate work"
        return f"{self.steps[-1].node}: {len(self.steps)} skips and answers"


_TELLING = (StepKind.CRASH, StepKind.RESULT, StepKind.FAULT, StepKind.ETCH)


def _frames(raw: Sequence[float], least: Sequence[float], fps: float,
            target: int | None) -> list[float]:
    """Durations in whole frames: each at least its reading time (rounded up), and together
    exactly ``target`` frames when given (frames taken back where rounding added most)."""
    mins = [math.ceil(low * fps - 1e-6) for low in least]
    frames = [max(m, math.ceil(r * fps - 1e-6)) for r, m in zip(raw, mins, strict=True)]
    if target is not None:
        gained = sorted(range(len(frames)), key=lambda i: raw[i] * fps - frames[i])
        excess = sum(frames) - target
        for i in gained:
            if excess <= 0:
                break
            if frames[i] > mins[i]:
                frames[i] -= 1
                excess -= 1
    return [f / fps for f in frames]
