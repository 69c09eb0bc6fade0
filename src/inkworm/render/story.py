"""The story of a run: its steps in trace order, told (from :mod:`~inkworm.render.steps`),
and cut into slides. A parallel run's concurrent events are grouped into waves
(:mod:`~inkworm.render.fronts`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from inkworm.render.fronts import parallel_steps
from inkworm.render.steps import Step, StepKind, step_at
from inkworm.run import Mode, Strategy
from inkworm.trace import Trace
from inkworm.views import RunState


def steps_from_trace(trace: Trace) -> list[Step]:
    """The visual steps of a run, in trace order (untimed); a parallel run's concurrent
    events grouped into waves (:func:`inkworm.render.fronts.parallel_steps`)."""
    steps, state = STEPS[trace.header.strategy or Strategy.SEQUENTIAL](trace)
    return _told(trace, steps, state)


def _sequential_steps(trace: Trace) -> tuple[list[Step], RunState]:
    """A sequential run's steps, event by event, and the run's state at its end."""
    launch = trace.header.launch
    state = RunState()  # the run's fold, advanced as the steps consume events
    steps: list[Step] = []
    shown: set[int] = set()  # events a step has already drawn (a call draws its probe start)
    events = trace.events
    i = 0
    while i < len(events):
        step, used = (None, 1) if events[i].seq in shown else step_at(events, i, state, launch)
        if step is not None:
            if state.is_orphan(step.node):
                step = replace(step, orphan=True, caption=f"orphaned: {step.caption}")
            steps.append(step)
            shown.update(step.seqs)
        for e in events[i : i + used]:
            state.advance(e)
        i += used
    return steps, state


STEPS: dict[Strategy, Callable[[Trace], tuple[list[Step], RunState]]] = {
    Strategy.SEQUENTIAL: _sequential_steps,
    Strategy.PARALLEL: parallel_steps,
}
"""Each strategy's steps of a run, and the run's state at its end."""


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

