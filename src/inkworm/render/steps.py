"""Visual steps: what a viewer sees, one thing at a time, and how each event kind becomes one.

Each step is one thing a viewer sees: ink injected, a call (``load_binary`` + ``call`` +
``probe_start``) flowing down a channel, a skip probing a channel and stopping, a return dye
flowing back, a channel etched by the measurement, a fault. :data:`STEPPERS` holds one
stepper per event kind; a kind without one is an error, not a step silently dropped.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from inkworm.trace import (
    Call,
    Collect,
    Connect,
    Crash,
    Disconnect,
    Error,
    Event,
    Kill,
    LoadBinary,
    Neighbors,
    ProbeEnd,
    ProbeStart,
    Result,
    Return,
    Skip,
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



Stepper = Callable[[Sequence[Event], int, RunState, str], tuple["Step | None", int]]
"""How one event kind becomes a step: (events, index, state before it, launch) → the step
starting there (or none: nothing new to see) and how many events it covers."""


def step_at(events: Sequence[Event], i: int, state: RunState,
            launch: str) -> tuple[Step | None, int]:
    """The step starting at event ``i`` (``state``: the run before it) and how many events it
    covers, by :data:`STEPPERS` (an event kind without a stepper is an error, not silence)."""
    kind = type(events[i])
    stepper = STEPPERS.get(kind)
    if stepper is None:
        raise TypeError(f"no step for a {kind.__name__} event (render.steps.STEPPERS)")
    return stepper(events, i, state, launch)


def _probe_start(events: Sequence[Event], i: int, state: RunState,
                 launch: str) -> tuple[Step | None, int]:
    e = events[i]
    assert isinstance(e, ProbeStart)
    if not state.visited:
        return Step(StepKind.INJECT, e.node, None, f"{e.node} launches the worm",
                    (e.seq,), e.t_us, visit=e.node), 1
    if e.node in state.visited:
        return None, 1
    return Step(StepKind.INJECT, e.node, None, f"a probe starts on {e.node}", (e.seq,),
                e.t_us, visit=e.node), 1


def _load_binary(events: Sequence[Event], i: int, state: RunState,
                 launch: str) -> tuple[Step | None, int]:
    """A load, its call and the probe start they lead to: one step down the channel."""
    e = events[i]
    assert isinstance(e, LoadBinary)
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


def _neighbors(events: Sequence[Event], i: int, state: RunState,
               launch: str) -> tuple[Step | None, int]:
    e = events[i]
    assert isinstance(e, Neighbors)
    new = [n for n in e.nodes if pair(e.node, n) in state.made]
    caption = f"{e.node} sees [{_names(e.nodes)}]"
    if new:
        caption += f" \u2014 {_names(new)} is new: measurement artefact"
    return Step(StepKind.ASK, e.node, None, caption, (e.seq,), e.t_us), 1


def _connect(events: Sequence[Event], i: int, state: RunState,
             launch: str) -> tuple[Step | None, int]:
    e = events[i]
    assert isinstance(e, Connect)
    if pair(e.node, e.peer) in state.made:
        return None, 1
    if launch in (e.node, e.peer):  # naive output reaching the launcher's group leader
        other = e.peer if e.node == launch else e.node
        caption = (f"{other} prints through {launch}'s group leader: "
                   f"new channel {other}\u2013{launch}")
        return Step(StepKind.ETCH, other, launch, caption, (e.seq,), e.t_us), 1
    caption = f"{e.node} connects to {e.peer}: new channel {e.node}\u2013{e.peer}"
    return Step(StepKind.ETCH, e.node, e.peer, caption, (e.seq,), e.t_us), 1


def _result(events: Sequence[Event], i: int, state: RunState,
            launch: str) -> tuple[Step | None, int]:
    e = events[i]
    assert isinstance(e, Result)
    extra = len(state.made)
    caption = f"{e.node} has the map of {len(e.map)} nodes"
    if extra:
        caption += f": {extra} edge{'s' if extra > 1 else ''} made by the measurement"
    return Step(StepKind.RESULT, e.node, None, caption, (e.seq,), e.t_us), 1


def _one(make: Callable[[Any], tuple[StepKind, str, str | None, str, bool]]) -> Stepper:
    """A stepper of one event: ``make(event)`` gives (kind, node, peer, caption, ok)."""
    def stepper(events: Sequence[Event], i: int, state: RunState,
                launch: str) -> tuple[Step | None, int]:
        e = events[i]
        kind, node, peer, caption, ok = make(e)
        return Step(kind, node, peer, caption, (e.seq,), e.t_us, ok=ok), 1
    return stepper


def _nothing(events: Sequence[Event], i: int, state: RunState,
             launch: str) -> tuple[Step | None, int]:
    """An event with nothing new to see (a probe's end; a call its load already drew)."""
    return None, 1


STEPPERS: dict[type[Event], Stepper] = {
    ProbeStart: _probe_start,
    LoadBinary: _load_binary,
    Call: _nothing,
    Neighbors: _neighbors,
    Skip: _one(lambda e: (StepKind.SKIP, e.node, e.neighbor,
                          f"{e.node} skips {e.neighbor}: already visited", True)),
    Return: _one(lambda e: (StepKind.RETURN, e.callee, e.node,
                            f"{e.callee} reports back to {e.node}: [{_names(sorted(e.keys))}]",
                            True)),
    Connect: _connect,
    Disconnect: _one(lambda e: (StepKind.FAULT, e.node, e.peer,
                                f"{e.node} loses {e.peer}: {e.reason}", False)),
    Error: _one(lambda e: (StepKind.FAULT, e.node, e.to,
                           f"{e.node}'s call to {e.to} fails: {e.reason}", False)),
    Kill: _one(lambda e: (StepKind.FAULT, e.node, None, f"{e.node} is stopped from outside",
                          False)),
    Crash: _one(lambda e: (StepKind.CRASH, e.node, None,
                           f"the worm fails on {e.node}: {e.reason} \u2014 no map", False)),
    Result: _result,
    ProbeEnd: _nothing,
    Collect: _nothing,
}
"""The stepper of each event kind: every kind of the trace format has one."""


def _next_start(events: Sequence[Event], i: int, node: str) -> ProbeStart | None:
    """The probe start on ``node`` that follows a call (it may come a few events later)."""
    for e in events[i : i + 8]:
        if isinstance(e, ProbeStart) and e.node == node:
            return e
        if e.node != node and not isinstance(e, Connect):
            return None
    return None

