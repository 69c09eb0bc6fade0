"""From trace events to timed visual steps (no manim here: tested on its own).

Each step is one thing a viewer sees: ink injected, a call (``load_binary`` + ``call`` +
``probe_start``) flowing down a channel, a skip probing a channel and stopping, a return dye
flowing back, a channel etched by the measurement, a fault. Timing is ``uniform`` (weights per
kind: returns and skips faster than calls) or ``measured`` (proportional to ``t_us``, with a
minimum so short events stay visible); ``duration`` scales the whole run to fit.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from inkworm.run import Mode
from inkworm.trace import (
    Call,
    Connect,
    Crash,
    Disconnect,
    Error,
    Event,
    Kill,
    LoadBinary,
    Neighbors,
    ProbeStart,
    Result,
    Return,
    Skip,
    Trace,
)
from inkworm.views import RunState, pair


class StepKind(enum.Enum):
    INJECT = "inject"
    ASK = "ask"
    CALL = "call"
    SKIP = "skip"
    RETURN = "return"
    ETCH = "etch"
    FAULT = "fault"
    CRASH = "crash"
    RESULT = "result"


WEIGHTS: dict[StepKind, float] = {
    StepKind.INJECT: 1.0, StepKind.ASK: 0.6, StepKind.CALL: 1.0, StepKind.SKIP: 0.5,
    StepKind.RETURN: 0.45, StepKind.ETCH: 1.4, StepKind.FAULT: 1.2, StepKind.CRASH: 1.2,
    StepKind.RESULT: 1.0,
}
"""Uniform timing: share of a unit step per kind."""


class Timing(enum.Enum):
    UNIFORM = "uniform"
    MEASURED = "measured"


@dataclass(frozen=True)
class Step:
    """One visual step; ``start``/``duration`` are video seconds once timed."""

    kind: StepKind
    node: str
    """Where the step happens (the caller for a call, the answering node for a return)."""
    peer: str | None
    """The other end of the channel, if any."""
    caption: str
    seqs: tuple[int, ...]
    t_us: int
    visit: str | None = None
    """The node whose probe starts with this step (a section boundary)."""
    ok: bool = True
    emphasis: bool = False
    """The step the viewer must not miss (the last channel the measurement etched)."""
    start: float = 0.0
    duration: float = 0.0
    cue: int = -1
    """Steps sharing a cue number share one caption on screen (a condensed run); -1: its own."""
    orphan: bool = False
    """The step belongs to an orphaned branch: its caller was killed, gave up (a timeout) or
    the worm already failed; it walks on, and its answer goes nowhere."""
    duplicate: bool = False
    """A call whose probe lands on a node another probe already visited (a parallel run's
    duplicate work): the well takes a second ink. A step with parts: one of them does."""
    parts: tuple[Step, ...] = ()
    """A parallel run's concurrent fronts (:mod:`inkworm.render.fronts`): steps of this kind
    drawn together, each as it would be drawn alone (``node``, ``peer``, ``visit`` are the
    first part's; the caption tells them all). Empty: the step is drawn itself."""

    @property
    def end(self) -> float:
        return self.start + self.duration

    @property
    def visits(self) -> tuple[str, ...]:
        """The nodes whose first probe starts with this step (a wave starts several)."""
        if self.parts:
            return tuple(p.visit for p in self.parts if p.visit)
        return (self.visit,) if self.visit else ()


def _names(nodes: Sequence[str]) -> str:
    return ", ".join(nodes)


def steps_from_trace(trace: Trace) -> list[Step]:
    """The visual steps of a run, in trace order (untimed); a parallel run's concurrent
    events grouped into waves (:func:`inkworm.render.fronts.parallel_steps`)."""
    if trace.header.parallel:
        from inkworm.render.fronts import parallel_steps

        steps, state = parallel_steps(trace)
    else:
        steps, state = _sequential_steps(trace)
    return _told(trace, steps, state)


def _sequential_steps(trace: Trace) -> tuple[list[Step], RunState]:
    """A sequential run's steps, event by event, and the run's state at its end."""
    launch = trace.header.launch
    state = RunState()  # the run's fold, advanced as the steps consume events
    steps: list[Step] = []
    shown: set[int] = set()  # events a step has already drawn (a call draws its probe start)
    events = trace.events
    orphans: set[str] = set()  # nodes whose probe walks on cut off from the launcher
    i = 0
    while i < len(events):
        step, used = (None, 1) if events[i].seq in shown else step_at(events, i, state, launch)
        if step is not None:
            if step.node in orphans:
                step = replace(step, orphan=True, caption=f"orphaned: {step.caption}")
            steps.append(step)
            shown.update(step.seqs)
        for e in events[i : i + used]:
            _orphaned(e, state, orphans)
            state.advance(e)
        i += used
    return steps, state


def _told(trace: Trace, steps: list[Step], state: RunState) -> list[Step]:
    """The last touches of the story: the farthest channel the measurement etched made
    unmissable, and ignore-launcher's right map told with what it cost."""
    launch = trace.header.launch
    etched = [k for k, s in enumerate(steps) if s.kind is StepKind.ETCH]
    if etched:  # the farthest node the walk wired to the launcher: make it unmissable
        last = steps[etched[-1]]
        steps[etched[-1]] = replace(last, emphasis=True, caption=(
            f"{last.node} prints through {launch}'s group leader: channel "
            f"{last.node}\u2013{launch} wires the far end of the walk to {launch}"))
    if trace.header.mode is Mode.IGNORE_LAUNCHER and steps and steps[-1].kind is StepKind.RESULT:
        made = len(state.made)
        steps[-1] = replace(steps[-1], caption=(
            f"{launch}'s map is right: it ignores {launch} in every other node's list, yet "
            f"the measurement made {made} connection{'s' if made != 1 else ''} to {launch}"))
    return steps


def _orphaned(e: Event, state: RunState, orphans: set[str]) -> None:
    """Before ``e`` changes ``state``: the probes ``e`` cuts off from the launcher join
    ``orphans`` (a killed caller's callees, the callee of a call that gave up, every probe still
    running when the worm failed), and so does a probe an orphan starts."""
    stack = state.stack
    if isinstance(e, Kill) and e.node in stack:
        orphans.update(stack[stack.index(e.node) + 1:])
    elif isinstance(e, Error) and e.probe is None and e.to in stack:
        orphans.update(stack[stack.index(e.to):])
    elif isinstance(e, Crash):
        orphans.update(n for n in stack if n != e.node)
    elif isinstance(e, Call) and e.node in orphans:
        orphans.add(e.to)


def step_at(events: Sequence[Event], i: int, state: RunState,
            launch: str) -> tuple[Step | None, int]:
    """The step starting at event ``i`` (``state``: the run before it) and how many events it
    covers."""
    e = events[i]
    if isinstance(e, ProbeStart) and not state.visited:
        return Step(StepKind.INJECT, e.node, None, f"{e.node} launches the worm",
                    (e.seq,), e.t_us, visit=e.node), 1
    if isinstance(e, LoadBinary):
        call = events[i + 1] if i + 1 < len(events) else None
        if isinstance(call, Call) and call.node == e.node and call.to == e.to:
            start = _next_start(events, i + 2, e.to)
            seqs = (e.seq, call.seq) + ((start.seq,) if start else ())
            caption = f"{e.node} asks {e.to}: who can you see?"
            used = 3 if start is not None and start is events[i + 2] else 2
            return Step(StepKind.CALL, e.node, e.to, caption, seqs, e.t_us,
                        visit=e.to if start else None, ok=start is not None), used
        return Step(StepKind.CALL, e.node, e.to, f"{e.node} ships the probe to {e.to}",
                    (e.seq,), e.t_us, ok=False), 1
    if isinstance(e, ProbeStart):
        if e.node in state.visited:
            return None, 1
        return Step(StepKind.INJECT, e.node, None, f"a probe starts on {e.node}", (e.seq,),
                    e.t_us, visit=e.node), 1
    if isinstance(e, Neighbors):
        new = [n for n in e.nodes if pair(e.node, n) in state.made]
        caption = f"{e.node} sees [{_names(e.nodes)}]"
        if new:
            caption += f" \u2014 {_names(new)} is new: measurement artefact"
        return Step(StepKind.ASK, e.node, None, caption, (e.seq,), e.t_us), 1
    if isinstance(e, Skip):
        return Step(StepKind.SKIP, e.node, e.neighbor,
                    f"{e.node} skips {e.neighbor}: already visited", (e.seq,), e.t_us), 1
    if isinstance(e, Return):
        return Step(StepKind.RETURN, e.callee, e.node,
                    f"{e.callee} reports back to {e.node}: [{_names(sorted(e.keys))}]", (e.seq,),
                    e.t_us), 1
    if isinstance(e, Connect):
        if pair(e.node, e.peer) in state.made:
            return None, 1
        if launch in (e.node, e.peer):  # naive output reaching the launcher's group leader
            other = e.peer if e.node == launch else e.node
            caption = (f"{other} prints through {launch}'s group leader: "
                       f"new channel {other}\u2013{launch}")
            return Step(StepKind.ETCH, other, launch, caption, (e.seq,), e.t_us), 1
        caption = f"{e.node} connects to {e.peer}: new channel {e.node}\u2013{e.peer}"
        return Step(StepKind.ETCH, e.node, e.peer, caption, (e.seq,), e.t_us), 1
    if isinstance(e, Disconnect):
        return Step(StepKind.FAULT, e.node, e.peer, f"{e.node} loses {e.peer}: {e.reason}",
                    (e.seq,), e.t_us, ok=False), 1
    if isinstance(e, Error):
        return Step(StepKind.FAULT, e.node, e.to, f"{e.node}'s call to {e.to} fails: {e.reason}",
                    (e.seq,), e.t_us, ok=False), 1
    if isinstance(e, Kill):
        return Step(StepKind.FAULT, e.node, None, f"{e.node} is stopped from outside",
                    (e.seq,), e.t_us, ok=False), 1
    if isinstance(e, Crash):
        return Step(StepKind.CRASH, e.node, None,
                    f"the worm fails on {e.node}: {e.reason} — no map", (e.seq,), e.t_us,
                    ok=False), 1
    if isinstance(e, Result):
        extra = len(state.made)
        caption = f"{e.node} has the map of {len(e.map)} nodes"
        if extra:
            caption += f": {extra} edge{'s' if extra > 1 else ''} made by the measurement"
        return Step(StepKind.RESULT, e.node, None, caption, (e.seq,), e.t_us), 1
    return None, 1  # probe_end: nothing new to see


def slide_groups(steps: Sequence[Step]) -> list[list[Step]]:
    """Steps cut into slides, each visit's ending on its key event: what the visited node sees
    (``nodes()``, the measurement's artefacts named), or a failure. What follows (skips,
    answers) opens the next slide; the answers after the last visit and the map are the last.
    A parallel run's wave of calls probes several nodes, some a second time: its slide ends on
    what they see."""
    groups: list[list[Step]] = [[]]
    visiting: set[str] = set()
    for step in steps:
        groups[-1].append(step)
        parts = step.parts or (step,)
        probed = {*step.visits, *(p.peer for p in parts if p.duplicate and p.peer)}
        visiting = probed or visiting
        key = (step.kind is StepKind.ASK and any(p.node in visiting for p in parts)) or \
            step.kind in (StepKind.FAULT, StepKind.CRASH)
        if key:
            visiting = set()
            groups.append([])
    return [g for g in groups if g]


def _next_start(events: Sequence[Event], i: int, node: str) -> ProbeStart | None:
    """The probe start on ``node`` that follows a call (it may come a few events later)."""
    for e in events[i : i + 8]:
        if isinstance(e, ProbeStart) and e.node == node:
            return e
        if e.node != node and not isinstance(e, Connect):
            return None
    return None


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
