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
from collections.abc import Sequence
from dataclasses import dataclass, replace

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

    @property
    def end(self) -> float:
        return self.start + self.duration


def _names(nodes: Sequence[str]) -> str:
    return ", ".join(nodes)


def steps_from_trace(trace: Trace) -> list[Step]:
    """The visual steps of a run, in trace order (untimed)."""
    launch = trace.header.launch
    state = RunState()  # the run's fold, advanced as the steps consume events
    steps: list[Step] = []
    shown: set[int] = set()  # events a step has already drawn (a call draws its probe start)
    events = trace.events
    i = 0
    while i < len(events):
        step, used = (None, 1) if events[i].seq in shown else _step_at(events, i, state, launch)
        if step is not None:
            steps.append(step)
            shown.update(step.seqs)
        for e in events[i : i + used]:
            state.advance(e)
        i += used
    etched = [k for k, s in enumerate(steps) if s.kind is StepKind.ETCH]
    if etched:  # the farthest node the walk wired to the launcher: make it unmissable
        last = steps[etched[-1]]
        steps[etched[-1]] = replace(last, emphasis=True, caption=(
            f"{last.node} prints through {launch}'s group leader: channel "
            f"{last.node}\u2013{launch} wires the far end of the walk to {launch}"))
    return steps


def _step_at(events: Sequence[Event], i: int, state: RunState,
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


def _next_start(events: Sequence[Event], i: int, node: str) -> ProbeStart | None:
    """The probe start on ``node`` that follows a call (it may come a few events later)."""
    for e in events[i : i + 8]:
        if isinstance(e, ProbeStart) and e.node == node:
            return e
        if e.node != node and not isinstance(e, Connect):
            return None
    return None


def time_steps(steps: Sequence[Step], timing: Timing = Timing.UNIFORM,
               duration: float | None = None, unit: float = 0.7,
               min_step: float = 0.12) -> list[Step]:
    """Give each step a start and a duration (video seconds).

    ``uniform``: ``unit * WEIGHTS[kind]``. ``measured``: proportional to the ``t_us`` gap to
    the next step, at least ``min_step``. ``duration`` rescales the total to that many seconds.
    """
    if not steps:
        return []
    if timing is Timing.UNIFORM:
        raw = [unit * WEIGHTS[s.kind] * (1.8 if s.emphasis else 1.0) for s in steps]
    else:
        gaps = [max(b.t_us - a.t_us, 0) for a, b in itertools.pairwise(steps)]
        gaps.append(sorted(gaps)[len(gaps) // 2] if gaps else 1)
        total_us = sum(gaps) or 1
        budget = duration if duration else unit * len(steps)
        raw = [budget * g / total_us for g in gaps]
    if duration:
        scale = duration / sum(raw)
        raw = [r * scale for r in raw]
    floor = min_step if timing is Timing.MEASURED else 0.0
    raw = [max(r, floor) for r in raw]
    if duration and floor:
        spare = sum(r for r in raw if r > floor)
        fixed = sum(r for r in raw if r <= floor)
        if spare > 0 and duration > fixed:
            factor = (duration - fixed) / spare
            raw = [r * factor if r > floor else r for r in raw]
    timed: list[Step] = []
    clock = 0.0
    for step, length in zip(steps, raw, strict=True):
        timed.append(replace(step, start=clock, duration=length))
        clock += length
    return timed
