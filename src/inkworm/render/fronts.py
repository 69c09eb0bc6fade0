"""A parallel run as concurrent fronts: its events grouped into waves of steps drawn together
(no manim here: tested on its own).

The sequential worm does one thing at a time, and its steps follow the trace event by event
(:func:`~inkworm.render.timeline.steps_from_trace`). A parallel probe sends the probe to every
target at once, and the probes it starts run at the same time; drawn an event at a time, the
run would read as a sequential walk in an odd order. So the events first become *atoms*, each
with the span of virtual time (``t_us``) it takes:

* a **fan-out**: one probe's multicall, every target's ``load_binary``, ``call`` and the
  ``probe_start`` it causes, from the first load to the last start (one part a target);
* a ``nodes()`` call (from its probe's start), a skip (from its probe's ``nodes()``: the
  probe's fold over its neighbours), an answer (from the callee's ``probe_end``: the reply
  in flight);
* the runtime's observations, failures and the outcome, each on its own and in order (they
  are never grouped, and nothing drawn after them is drawn before them).

Atoms of one kind whose spans share a moment are one *wave*: a step whose parts are drawn at
once (:attr:`Step.parts <inkworm.render.timeline.Step.parts>`) under one caption. So the
probes of one depth, which a simulated run keeps in lock step, advance together; a recording's
branches, which drift apart, group where they overlap. An atom joins no wave before, nor the
wave of, what it waits for (its probe's previous steps of another kind; for an answer, also
the answering probe's last step): the ink flows in causal order, one hop a wave.
``--timing measured`` times the waves by their first ``t_us``.

A probe that reaches a well another probe's ink already reached is **duplicate work**: its
part is marked :attr:`~inkworm.render.timeline.Step.duplicate` (the painter blooms a second ink
in the well, from the side the call comes in), and the caption says so. "Already" is in the
order the waves are drawn: two probes that reach a node at nearly the same moment on a real
cluster may be drawn in the other order than they started (causality decides the drawing),
and the first ink drawn is the visit; the counts (the panel, the map's caption) are the
trace's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from inkworm.render.steps import Step, StepKind, step_at
from inkworm.trace import (
    Call,
    Error,
    Event,
    LoadBinary,
    Neighbors,
    ProbeEnd,
    ProbeStart,
    Return,
    Skip,
    Trace,
)
from inkworm.views import RunState

GROUPED = frozenset({StepKind.CALL, StepKind.ASK, StepKind.SKIP, StepKind.RETURN})
"""Kinds whose concurrent steps form waves; the others are told one at a time."""
LOOKBACK = 64
"""The most recent waves an atom may join (a bound on the work per atom)."""
LISTED = 4
"""A wave's caption names at most this many of its parts, then counts the rest."""


@dataclass
class _Wave:
    """Atoms drawn together: their parts, and the moment their spans share."""

    kind: StepKind
    orphan: bool
    lo: int
    hi: int
    parts: list[Step] = field(default_factory=list)

    def takes(self, kind: StepKind, orphan: bool, lo: int, hi: int) -> bool:
        """Whether an atom of ``kind`` spanning ``lo``..``hi`` is concurrent with this wave:
        the spans share more than an end (an answer sent as another arrives is the next hop,
        not the same one), or a moment when one of them is an instant."""
        if kind is not self.kind or orphan is not self.orphan or kind not in GROUPED:
            return False
        if lo < hi and self.lo < self.hi:
            return lo < self.hi and hi > self.lo
        return lo <= self.hi and hi >= self.lo


_STARTED = StepKind.INJECT
"""Where a probe's start is recorded among its steps (the call that starts it is its
caller's)."""


class _Waves:
    """Waves as atoms come (in trace order): an atom joins the latest wave it is concurrent
    with that comes after what it waits for, else opens a wave."""

    def __init__(self) -> None:
        self.waves: list[_Wave] = []
        self.last: dict[str, dict[StepKind, int]] = {}
        """Each probe's latest wave, by the kind of its step there."""
        self.barrier = -1
        """The latest wave told on its own: nothing after it is drawn before it."""

    def after(self, probe: str, but: StepKind | None = None) -> int:
        """``probe``'s latest wave (among its steps not of kind ``but``)."""
        return max((w for k, w in self.last.get(probe, {}).items() if k is not but),
                   default=-1)

    def place(self, atom: list[Step], orphan: bool, span: tuple[int, int], e: Event,
              started: Sequence[str]) -> None:
        """Put ``atom`` (opened by event ``e``; ``started``: the probes it starts) in a wave.

        It waits for its probe's steps of other kinds (a probe's skips, or a multicall's
        answers, do not wait for each other), and an answer for the answering probe's last
        step, whatever its kind."""
        kind, (lo, hi) = atom[0].kind, span
        floor = self.barrier
        if e.probe is not None:
            floor = max(floor, self.after(e.probe, but=kind))
        if isinstance(e, Return) and e.child:
            floor = max(floor, self.after(e.child))
        waves = self.waves
        low = max(floor + 1, len(waves) - LOOKBACK)
        at = next((k for k in range(len(waves) - 1, low - 1, -1)
                   if waves[k].takes(kind, orphan, lo, hi)), None)
        if at is None:
            waves.append(_Wave(kind, orphan, lo, hi))
            at = len(waves) - 1
            if kind not in GROUPED:
                self.barrier = at
        wave = waves[at]
        wave.lo, wave.hi = max(wave.lo, lo), min(wave.hi, hi)
        wave.parts += atom
        if e.probe is not None:
            mine = self.last.setdefault(e.probe, {})
            mine[kind] = max(mine.get(kind, -1), at)
        for child in started:
            self.last.setdefault(child, {})[_STARTED] = at


def parallel_steps(trace: Trace) -> tuple[list[Step], RunState]:
    """A parallel run's steps, concurrent events grouped into waves, and the run's state at
    its end (see the module's docstring)."""
    events = trace.events
    launch = trace.header.launch
    mine: dict[str, list[int]] = {}  # each probe's events, by index in the trace
    starts: dict[str, ProbeStart] = {}
    ended: dict[str, int] = {}  # each probe's probe_end t_us
    asked: dict[str, int] = {}  # each probe's nodes() t_us
    for i, e in enumerate(events):
        if e.probe is None:
            continue
        mine.setdefault(e.probe, []).append(i)
        if isinstance(e, ProbeStart):
            starts[e.probe] = e
        elif isinstance(e, Neighbors):
            asked[e.probe] = e.t_us
        elif isinstance(e, ProbeEnd):
            ended[e.probe] = e.t_us
    times = {e.seq: e.t_us for e in events}

    def span(e: Event, atom: list[Step]) -> tuple[int, int]:
        """The virtual time an atom takes (see the module's docstring)."""
        if isinstance(e, LoadBinary):  # to the last probe start it causes
            return e.t_us, max(times[p.seqs[-1]] for p in atom)
        if isinstance(e, Return) and e.child in ended:
            return ended[e.child], e.t_us
        if isinstance(e, Neighbors) and e.probe in starts:
            return starts[e.probe].t_us, e.t_us
        if isinstance(e, Skip) and e.probe in asked:
            return asked[e.probe], e.t_us
        return e.t_us, e.t_us

    state = RunState()
    waves = _Waves()
    shown: set[int] = set()
    for i, e in enumerate(events):
        if e.seq not in shown:
            atom = _atom(events, i, state, launch, mine, starts)
            if atom:
                orphan = e.probe is not None and state.is_orphan(e.node, e.probe)
                if orphan:
                    atom = [replace(p, orphan=True, caption=f"orphaned: {p.caption}")
                            for p in atom]
                started = _children(events, mine[e.probe]) if isinstance(e, LoadBinary) \
                    and e.probe else []
                waves.place(atom, orphan, span(e, atom), e, started)
                for part in atom:
                    shown.update(part.seqs)
        state.advance(e)
    _arrive(waves.waves)
    return [_told(w) for w in waves.waves], state


def _arrive(waves: Sequence[_Wave]) -> None:
    """Which probe reaches each well first, as the waves draw them: its part is the visit,
    every later one duplicate work (on a recording, two probes that reach a node at nearly
    the same moment may be drawn in the other order than they started: the ink tells the
    story the viewer sees, the panel and the map count what the trace says)."""
    reached: Counter[str] = Counter()
    for wave in waves:
        for k, part in enumerate(wave.parts):
            if part.visit is None:
                continue
            reached[part.visit] += 1
            if reached[part.visit] > 1:
                wave.parts[k] = _again(part, reached[part.visit])


def _again(part: Step, times: int) -> Step:
    """``part``, the ``times``-th probe to reach its node: duplicate work."""
    node = part.peer if part.kind is StepKind.CALL else part.node
    caption = f"{node} is probed a {_ordinal(times)} time" + (
        f", from {part.node}" if part.kind is StepKind.CALL else "") + ": duplicate work"
    return replace(part, visit=None, duplicate=True,
                   caption=f"orphaned: {caption}" if part.orphan else caption)


def _atom(events: Sequence[Event], i: int, state: RunState, launch: str,
          mine: dict[str, list[int]], starts: dict[str, ProbeStart]) -> list[Step]:
    """The parts of the atom that event ``i`` opens (``state``: the run before it)."""
    e = events[i]
    if isinstance(e, LoadBinary) and e.probe is not None:
        return _fan_out(events, i, mine[e.probe], starts)
    if isinstance(e, LoadBinary | Call):
        return []  # a call outside a multicall: drawn with its loads, or not at all
    if isinstance(e, ProbeStart) and state.visited:  # a probe no call of the trace started
        return [Step(StepKind.INJECT, e.node, None, f"a probe starts on {e.node}", (e.seq,),
                     e.t_us, visit=e.node)]
    step, _ = step_at(events, i, state, launch)
    if step is None:
        return []
    if step.kind is StepKind.RESULT and state.duplicates:
        probes = len(state.visited) + state.duplicates
        head, _, tail = step.caption.partition(": ")
        step = replace(step, caption=f"{head} after {probes} probes ({state.duplicates} "
                                     f"duplicate){': ' + tail if tail else ''}")
    return [step]


def _fan_out(events: Sequence[Event], i: int, own: list[int],
             starts: dict[str, ProbeStart]) -> list[Step]:
    """One multicall from event ``i`` (its first ``load_binary``): a part per target, each
    with its load, its call and the probe start it causes. ``own``: the caller's events."""
    first = events[i]
    at = own.index(i)
    loads: list[LoadBinary] = []
    calls: dict[str, Call] = {}
    for k in own[at:]:
        e = events[k]
        if isinstance(e, LoadBinary) and not calls:
            loads.append(e)
        elif isinstance(e, Call):
            calls[e.to] = e
        elif not isinstance(e, Error):  # failed loads come between the loads and the calls
            break
    parts = []
    for load in loads:
        call = calls.get(load.to)
        start = starts.get(call.child) if call is not None and call.child else None
        seqs = (load.seq, *((call.seq,) if call else ()), *((start.seq,) if start else ()))
        caption = f"{first.node} asks {load.to}: who can you see?" if start is not None \
            else f"{first.node} ships the probe to {load.to}"
        parts.append(Step(StepKind.CALL, first.node, load.to, caption, seqs, load.t_us,
                          visit=load.to if start is not None else None, ok=start is not None))
    return parts


def _children(events: Sequence[Event], own: list[int]) -> list[str]:
    """The probes a probe's calls start (``own``: its events)."""
    return [c.child for k in own if isinstance(c := events[k], Call) and c.child]


def _told(wave: _Wave) -> Step:
    """A wave as one step: a lone part as it is, several under one caption."""
    parts = wave.parts
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    caption = _caption(wave.kind, parts)
    if wave.orphan:
        caption = f"orphaned: {caption}"
    return Step(wave.kind, first.node, first.peer, caption,
                tuple(sorted(s for p in parts for s in p.seqs)), first.t_us,
                visit=next((p.visit for p in parts if p.visit), None),
                ok=all(p.ok for p in parts), duplicate=any(p.duplicate for p in parts),
                orphan=wave.orphan, parts=tuple(parts))


def _caption(kind: StepKind, parts: Sequence[Step]) -> str:
    """What a wave of several parts says (a node's probes counted, not repeated)."""
    by_node: dict[str, list[str]] = {}
    for p in parts:
        by_node.setdefault(p.node, []).append(p.peer or "")
    if kind is StepKind.CALL:
        return _fan_out_caption(parts, by_node)
    if kind is StepKind.ASK:
        if len(by_node) <= 3:
            return "; ".join(counted([_bare(p.caption) for p in parts], " (\u00d7{})"))
        artefact = next((p.caption.partition(" \u2014 ")[2] for p in parts
                         if "measurement" in p.caption), "")
        return (f"{len(parts)} probes ask nodes() at once: "
                f"{_listed(counted([p.node for p in parts]))}"
                + (f" \u2014 {artefact}" if artefact else ""))
    if kind is StepKind.SKIP:
        if len(by_node) <= 3:
            return "; ".join(f"{node} skips {_listed(list(dict.fromkeys(peers)))}"
                             for node, peers in by_node.items()) + ": already visited"
        return (f"{len(by_node)} nodes skip {len(parts)} visited neighbours at once: "
                f"{_listed(list(by_node))}")
    if kind is StepKind.RETURN:
        callers = _listed(counted([p.peer or "" for p in parts]))
        return f"{len(parts)} answers flow back at once, to {callers}"
    return "; ".join(_bare(p.caption) for p in parts)


def _fan_out_caption(parts: Sequence[Step], by_node: dict[str, list[str]]) -> str:
    """``b asks c and d at once: who can you see?``, or several probes fanning out (their
    targets named while they are few), then the duplicate work: ``d is probed a second
    time, from c: duplicate work``, or how many probes landed on inked wells, and where."""
    fans = [(node, list(dict.fromkeys(targets)), max(Counter(targets).values()))
            for node, targets in by_node.items()]
    probes = sum(k for *_, k in fans)
    if len(fans) == 1:
        node, targets, k = fans[0]
        who = f"{node}'s {k} probes ask" if k > 1 else f"{node} asks"
        head = f"{who} {_and(targets)} at once: who can you see?"
    elif len(parts) <= LISTED:
        each = [node + (f" (\u00d7{k})" if k > 1 else "") + f" to {_and(t)}"
                for node, t, k in fans]
        head = f"{probes} probes fan out at once: " + "; ".join(each)
    else:
        callers = counted([p.node for p in parts if p.peer == by_node[p.node][0]])
        head = f"{probes} probes fan out at once, from {_listed(callers)}"
    twice = [p for p in parts if p.duplicate]
    if len(twice) == 1:
        return f"{head} \u2014 {twice[0].caption}"
    if 1 < len(twice) <= 3:
        again = _and([f"{p.peer} from {p.node}" for p in twice])
        return f"{head} \u2014 {again} are probed again: duplicate work"
    if len(twice) == len(parts) and len(parts) <= LISTED:  # the head named them
        return f"{head} \u2014 all {len(twice)} land on wells already inked: duplicate work"
    if twice:
        wells = _listed(counted([p.peer or "" for p in twice]))
        every = "all " if len(twice) == len(parts) else ""
        return (f"{head} \u2014 {every}{len(twice)} land on wells already inked ({wells}): "
                "duplicate work")
    failed = [p.peer or "" for p in parts if not p.ok]
    return head + (f" \u2014 {_and(failed)} never start" if failed else "")


def _bare(caption: str) -> str:
    return caption.removeprefix("orphaned: ")


def _listed(items: Sequence[str]) -> str:
    """At most :data:`LISTED` items, then how many more."""
    shown = ", ".join(items[:LISTED])
    return shown + (f" (+{len(items) - LISTED} more)" if len(items) > LISTED else "")


def counted(items: Sequence[str], mark: str = " \u00d7{}") -> list[str]:
    """``items`` once each, in order, those repeated marked with their count."""
    counts = Counter(items)
    return [item + (mark.format(counts[item]) if counts[item] > 1 else "")
            for item in dict.fromkeys(items)]


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _ordinal(n: int) -> str:
    return {2: "second", 3: "third", 4: "fourth", 5: "fifth"}.get(n, f"{n}th")

