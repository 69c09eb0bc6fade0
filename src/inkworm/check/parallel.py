"""Stage 4a for the parallel worm: the ordering invariants of a trace whose header says
``"strategy": "parallel"`` (``docs/trace-v2.md``, "Parallel traces").

Probes run concurrently there, so nesting is checked per probe (each event names its probe's
path), not per node: a probe writes ``probe_start``, ``neighbors``, a ``skip`` for each
neighbour in the visited set it received, a ``load_binary`` for each of the others (the
targets, in ``nodes()`` order), a ``call`` to each (its ``child`` the probe's path plus the
target's 1-based place, its visited set received + the node + every target), then, once all
have answered, a ``return`` (or ``error``) for each in that order, then ``probe_end`` with
the keys of the merged map. A node may be probed more than once (duplicate work, the price of
the multicall); a ``return`` must follow its child's ``probe_end`` and carry its keys, and
the ``result`` must be the merge: ``%{node => nodes()}`` of each probe (its row as the mode
reports it), with each child's map merged over it in target order (later wins). The rules not
about nesting (``seq``, ``time``, ``outcome``, ``connect``, ``foreign``) are those of
:mod:`inkworm.check`.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from inkworm.check.sequential import Checker
from inkworm.trace import (
    Call,
    Collect,
    Crash,
    Error,
    Event,
    LoadBinary,
    Neighbors,
    ProbeEnd,
    ProbeStart,
    Result,
    Return,
    Skip,
    Trace,
)

SubMap = dict[str, tuple[str, ...]]


@dataclass
class _Run:
    """What the checker knows about one probe (one path) of a parallel run."""

    path: str
    node: str
    start: ProbeStart
    received: AbstractSet[str]
    neighbors: tuple[str, ...] | None = None
    skips: list[str] = field(default_factory=list)
    """The neighbours it must skip (in its visited set), in ``nodes()`` order."""
    targets: list[str] = field(default_factory=list)
    """The neighbours it must load and call, in ``nodes()`` order."""
    skipped: int = 0
    loaded: int = 0
    dropped: set[str] = field(default_factory=set)
    """Targets whose load failed (``error`` before the calls): not called."""
    calls: list[Call] = field(default_factory=list)
    answered: int = 0
    """How many of ``calls`` have their ``return`` or ``error``."""
    sub: SubMap = field(default_factory=dict)
    """``%{node => nodes()}`` with each returned child's map merged over it."""
    failed: bool = False
    """It recorded an ``error`` (a non-tolerant probe then ends no more)."""
    collected: bool = False
    end: ProbeEnd | None = None

    def index(self, to: str) -> int:
        """``to``'s 1-based place among the targets (0: not a target)."""
        return self.targets.index(to) + 1 if to in self.targets else 0

    def fan(self) -> set[str]:
        """The visited set its calls must carry."""
        return {*self.received, self.node, *self.targets}


def _parent(path: str) -> str | None:
    return path.rpartition(".")[0] or None


class ParallelChecker(Checker):
    """:class:`~inkworm.check.sequential.Checker` with the nesting rules of a parallel worm."""

    def __init__(self, trace: Trace) -> None:
        super().__init__(trace)
        self.runs: dict[str, _Run] = {}
        self.calls: dict[str, Call] = {}
        """Each call, by the path of the probe it starts."""
        self.lost: set[str] = set()
        """Probes whose call ended in ``error``: their answer never came home."""

    def nested(self, e: Event) -> None:
        """Per-probe nesting is checked by each handler."""

    def run_of(self, e: Event, doing: str) -> _Run | None:
        """The running probe that wrote ``e`` (flagged, ``None``, when there is none)."""
        if e.probe is None:
            self.flag(e, "probe", f"{e.node} {doing} without naming its probe (a parallel "
                      "trace's events carry \"probe\")")
            return None
        run = self.runs.get(e.probe)
        if run is None:
            self.flag(e, "order", f"{e.node} {doing} in probe {e.probe}, which never started")
        elif run.node != e.node:
            self.flag(e, "order", f"{e.node} {doing} in probe {e.probe}, which runs on "
                      f"{run.node}")
            return None
        elif run.end is not None:
            self.flag(e, "order", f"{e.node} {doing} after probe {e.probe} ended")
            return None
        return run

    def folding(self, run: _Run, e: Event, doing: str) -> bool:
        """Whether ``run`` is still in its fold (``nodes()`` called, no call made)."""
        if run.neighbors is None:
            self.flag(e, "fold", f"{e.node} {doing} before its nodes() call in probe "
                      f"{run.path}")
            return False
        if run.calls:
            self.flag(e, "fold", f"{e.node} {doing} after its calls in probe {run.path}")
            return False
        return True

    # --- one handler per kind ---------------------------------------------------------------

    def on_probe_start(self, e: ProbeStart) -> None:
        if e.probe is None:
            self.flag(e, "probe", f"probe starts on {e.node} without its path (\"probe\")")
            return
        if e.probe in self.runs:
            first = self.runs[e.probe].start
            self.flag(e, "probe", f"probe {e.probe} starts twice (first at seq {first.seq})")
            return
        call = self.calls.get(e.probe)
        if e.probe == "0":
            if e.node != self.launch:
                self.flag(e, "order", f"probe 0 starts on {e.node}, not on the launch node "
                          f"{self.launch}")
            elif self.runs:
                self.flag(e, "order", f"launcher {e.node} starts its probe after other probes")
        elif call is None:
            self.flag(e, "call-start", f"probe {e.probe} starts on {e.node} but no call "
                      "starts it before")
        elif call.to != e.node:
            self.flag(e, "call-start", f"probe {e.probe} starts on {e.node} but {call.node} "
                      f"called it on {call.to} (seq {call.seq})")
        elif set(call.visited) != set(e.visited):
            self.flag(e, "visited", f"{e.node} received visited {sorted(e.visited)} but "
                      f"{call.node} sent {sorted(call.visited)} (seq {call.seq})")
        self.runs[e.probe] = _Run(e.probe, e.node, e, e.visited)

    def on_neighbors(self, e: Neighbors) -> None:
        run = self.run_of(e, "calls nodes()")
        if run is None:
            return
        if run.neighbors is not None:
            self.flag(e, "fold", f"{e.node} calls nodes() twice in probe {run.path}")
            return
        run.neighbors = e.nodes
        run.skips = [n for n in e.nodes if n in run.received]
        run.targets = [n for n in e.nodes if n not in run.received]
        run.sub = {e.node: self.trace.header.mode.reported(e.node, e.nodes, self.launch)}

    def on_collect(self, e: Collect) -> None:
        """The collectors' values (``--collect``): once per probe, right after ``nodes()``."""
        run = self.run_of(e, "reports its collectors")
        if run is None:
            return
        if run.neighbors is None or run.skipped or run.loaded or run.collected:
            self.flag(e, "collect", f"{e.node} reports its collectors other than once, right "
                      f"after its nodes() call (probe {run.path})")
        run.collected = True

    def on_skip(self, e: Skip) -> None:
        run = self.run_of(e, f"skips {e.neighbor}")
        if run is None or not self.folding(run, e, f"skips {e.neighbor}"):
            return
        if e.neighbor not in run.received:
            self.flag(e, "skip", f"{e.node} skips {e.neighbor}, which is not in the visited "
                      f"set probe {run.path} received")
        elif run.loaded:
            self.flag(e, "fold", f"{e.node} skips {e.neighbor} after loading the probe on "
                      "its targets (skips come first)")
        elif run.skipped < len(run.skips) and run.skips[run.skipped] == e.neighbor:
            run.skipped += 1
        else:
            self.flag(e, "fold", f"{e.node} skips {e.neighbor} out of nodes() order (next to "
                      f"skip: {run.skips[run.skipped:][:1] or 'none'})")

    def on_load_binary(self, e: LoadBinary) -> None:
        run = self.run_of(e, f"loads the probe on {e.to}")
        if run is None or not self.folding(run, e, f"loads the probe on {e.to}"):
            return
        if e.to in run.received:
            self.flag(e, "fold", f"{e.node} loads the probe on {e.to}, which is in its "
                      "visited set (it must skip it)")
        elif run.skipped < len(run.skips):
            self.flag(e, "fold", f"{e.node} loads the probe on {e.to} before skipping "
                      f"{run.skips[run.skipped:]}")
            run.skipped = len(run.skips)
        if run.loaded < len(run.targets) and run.targets[run.loaded] == e.to:
            run.loaded += 1
        elif e.to not in run.received:
            self.flag(e, "fold", f"{e.node} loads the probe on {e.to} out of nodes() order "
                      f"(next target: {run.targets[run.loaded:][:1] or 'none'})")

    def on_call(self, e: Call) -> None:
        run = self.run_of(e, f"calls {e.to}")
        if run is None:
            return
        if run.answered:
            self.flag(e, "nesting", f"{e.node} calls {e.to} after answers came back in probe "
                      f"{run.path}")
            return
        callees = [n for n in run.targets if n not in run.dropped]
        if run.loaded < len(run.targets):
            self.flag(e, "load-before-call", f"call to {e.to} before probe {run.path} loaded "
                      f"the probe on every target ({run.targets[run.loaded:]} left)")
        elif len(run.calls) >= len(callees) or callees[len(run.calls)] != e.to:
            nxt = callees[len(run.calls):][:1] or "none"
            self.flag(e, "fold", f"{e.node} calls {e.to} out of target order (next: {nxt})")
        if set(e.visited) != run.fan():
            self.flag(e, "visited", f"{e.node} sends visited {sorted(e.visited)} but the "
                      f"visited set at fan-out is {sorted(run.fan())}")
        expected = f"{run.path}.{run.index(e.to)}"
        if e.child is None:
            self.flag(e, "probe", f"call to {e.to} without the path of the probe it starts "
                      "(\"child\")")
        elif e.child != expected:
            self.flag(e, "probe", f"call to {e.to} names its probe {e.child}, expected "
                      f"{expected} ({e.to}'s place among the targets)")
        run.calls.append(e)
        if e.child is not None and e.child not in self.calls:
            self.calls[e.child] = e

    def answering(self, run: _Run, e: Event, to: str) -> Call | None:
        """The call that ``e`` (a return or error from ``to``) answers, next in target
        order; flags and returns ``None`` when it answers none."""
        if not run.calls:
            self.flag(e, "nesting", f"answer from {to} to {e.node} without a matching call "
                      f"in probe {run.path}")
            return None
        callees = [n for n in run.targets if n not in run.dropped]
        if len(run.calls) < len(callees):
            self.flag(e, "nesting", f"answer from {to} before probe {run.path} called every "
                      f"target ({callees[len(run.calls):]} left): the multicall returns once")
        if run.answered >= len(run.calls) or run.calls[run.answered].to != to:
            nxt = [c.to for c in run.calls[run.answered:]][:1] or "none"
            self.flag(e, "nesting", f"answer from {to} to {e.node} out of target order "
                      f"(next: {nxt})")
            return next((c for c in run.calls[run.answered:] if c.to == to), None)
        run.answered += 1
        return run.calls[run.answered - 1]

    def on_return(self, e: Return) -> None:
        run = self.run_of(e, f"gets the answer of {e.callee}")
        if run is None:
            return
        call = self.answering(run, e, e.callee)
        if call is None:
            return
        if e.child != call.child:
            self.flag(e, "probe", f"return from {e.callee} names probe {e.child}, but the "
                      f"call (seq {call.seq}) started {call.child}")
        child = self.runs.get(call.child) if call.child is not None else None
        if child is None:
            self.flag(e, "nesting", f"return from {e.callee} (probe {call.child}), whose "
                      "probe never started")
        elif child.end is None:
            self.flag(e, "nesting", f"return from {e.callee} (probe {call.child}) before its "
                      "probe ended")
        else:
            if set(child.end.keys) != set(e.keys):
                self.flag(e, "keys", f"return from {e.callee} carries keys {sorted(e.keys)} "
                          f"but probe {child.path} ended with {sorted(child.end.keys)}")
            run.sub.update(child.sub)

    def on_error(self, e: Error) -> None:
        run = self.run_of(e, f"records the failure of {e.to}")
        if run is None:
            return
        run.failed = True
        if not run.calls and run.loaded == len(run.targets) and e.to in run.targets:
            run.dropped.add(e.to)  # its load failed: it is not called
            return
        call = self.answering(run, e, e.to)
        if call is not None and call.child is not None:
            self.lost.add(call.child)

    def on_probe_end(self, e: ProbeEnd) -> None:
        run = self.run_of(e, "ends its probe")
        if run is None:
            return
        if run.neighbors is None:
            self.flag(e, "fold", f"{e.node} ends probe {run.path} without calling nodes()")
        elif run.skipped < len(run.skips) or run.loaded < len(run.targets):
            left = run.skips[run.skipped:] + run.targets[run.loaded:]
            self.flag(e, "fold", f"{e.node} ends probe {run.path} before folding over {left}")
        elif run.answered < len(run.calls) or len(run.calls) < len(run.targets) - len(
                run.dropped):
            self.flag(e, "nesting", f"{e.node} ends probe {run.path} before every target "
                      "answered")
        if run.neighbors is not None and set(e.keys) != set(run.sub):
            self.flag(e, "keys", f"{e.node} returns keys {sorted(e.keys)}, expected "
                      f"{sorted(run.sub)} (itself and what its calls returned)")
        run.end = e

    def on_result(self, e: Result) -> None:
        self.outcome_event(e)
        root = self.runs.get("0")
        if root is None or root.end is None:
            self.flag(e, "result", "result before the launcher's probe ended")
            return
        if dict(e.map) != root.sub:
            extra = sorted(set(e.map) - set(root.sub))
            lost = sorted(set(root.sub) - set(e.map))
            wrong = sorted(n for n in set(e.map) & set(root.sub)
                           if tuple(e.map[n]) != root.sub[n])
            self.flag(e, "result", "the result is not the merge of the probes' maps (in "
                      f"result only: {extra}; merged but missing: {lost}; other "
                      f"neighbours: {wrong})")

    def on_crash(self, e: Crash) -> None:
        self.outcome_event(e)

    def unheard(self, path: str | None) -> bool:
        """Whether the probe at ``path`` answers no one: its call, or an ancestor's, failed,
        or an ancestor stopped at a failure."""
        while path is not None:
            run = self.runs.get(path)
            if path in self.lost or (run is not None and run.failed and run.end is None):
                return True
            path = _parent(path)
        return False

    def finish(self) -> None:
        if not self.ended():
            return
        for path, call in self.calls.items():
            if path not in self.runs and path not in self.lost:
                self.flag(call, "call-start", f"call to {call.to} (probe {path}) is never "
                          "followed by its probe start")
        for path, run in self.runs.items():
            parent = _parent(path)
            if run.end is None and not self.unheard(path):
                self.flag(run.start, "nesting", f"probe {path} on {run.node} never ended")
            elif (run.end is not None and parent is not None and not self.unheard(parent)
                  and path not in self.lost and self.unanswered(parent, path)):
                self.flag(run.end, "nesting", f"probe {path} on {run.node} ended but its "
                          "caller never got its answer")

    def unanswered(self, parent: str, path: str) -> bool:
        caller = self.runs.get(parent)
        if caller is None:
            return False
        answered = caller.calls[:caller.answered]
        return not any(c.child == path for c in answered)

