"""The sequential worm's checker: ordering invariants of a trace, in one pass over its events.

The rules are those of a sequential depth-first worm (the seed's probe): contiguous ``seq``;
each probe's ``neighbors`` before its fold; the fold follows ``nodes()`` in order, skipping
exactly the nodes in the probe's visited set; ``load_binary X`` then ``call X`` then
``probe_start`` on X; a caller records nothing between its ``call`` and the matching ``return``
(runtime observations — ``connect``, ``disconnect``, ``kill`` — are not the caller's doing);
no node is probed twice; returned keys equal the callee's ``probe_end`` keys; the ``result``
equals what the probes reported. A call that ends in ``error`` needs no return (and, since the
callee's events are lost with it, no ``probe_start`` either; if they did come home, the
callee's probe needs no end, and no place in the result; nor do the probes of a branch whose
caller was killed: an orphan walks on, and may still connect to a crashed launcher). Traces
imported from console logs (``source: log``) have no calls, so a probe start there needs none.
"""

from __future__ import annotations

from inkworm.check.base import Base
from inkworm.check.rules import RUNTIME, Probe, Violation
from inkworm.trace import (
    EVENT_CLASSES,
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
    Trace,
)
from inkworm.views import RunState, event_nodes


class Checker(Base):
    """The rules of a sequential depth-first worm (the seed's), in one pass over the events;
    a strategy's checker builds on it (:mod:`~inkworm.check.parallel`)."""

    def __init__(self, trace: Trace) -> None:
        super().__init__(trace)
        self.probes: dict[str, Probe] = {}
        self.awaiting: dict[str, Call] = {}
        self.state = RunState()
        """The run so far, from the one fold (:meth:`RunState.advance`)."""
        self.links: set[tuple[str, str]] = set()
        self.failed_calls: set[str] = set()
    def run(self) -> list[Violation]:
        expected_seq, last_t = 0, None
        handlers = {cls: getattr(self, "on_" + kind.value) for kind, cls in EVENT_CLASSES.items()}
        for e in self.trace.events:
            if e.seq != expected_seq:
                self.flag(
                    e,
                    "seq",
                    f"seq {e.seq} where {expected_seq} was expected (seq must count "
                    "0, 1, 2, ... without gaps)",
                )
            expected_seq = e.seq + 1
            if last_t is not None and e.t_us < last_t:
                self.flag(e, "time", f"t_us goes back in time ({e.t_us} after {last_t})")
            last_t = e.t_us
            self.common(e)
            if self.cluster is not None:
                self.members(e)
            handlers[type(e)](e)
            self.state.advance(e)
        self.finish()
        return self.violations

    def common(self, e: Event) -> None:
        if isinstance(self.outcome, Result):
            self.flag(
                e, "order", f"{e.kind.value} on {e.node} after the result (result must be last)"
            )
        elif (isinstance(self.outcome, Crash) and e.node == self.launch
              and not isinstance(e, RUNTIME)):  # an orphaned branch may still connect to it
            self.flag(e, "order", f"launcher {e.node} records {e.kind.value} after its crash")
        if e.node in self.state.killed:
            self.flag(e, "order", f"{e.node} records {e.kind.value} after it was killed")
        self.nested(e)

    def nested(self, e: Event) -> None:
        """A caller records nothing between its call and the matching answer."""
        probe = self.probes.get(e.node)
        if probe and probe.pending and not isinstance(e, RUNTIME):
            callee = probe.pending.to
            answers = isinstance(e, Return) and e.callee == callee
            answers |= isinstance(e, Error) and e.to == callee
            if not answers:
                self.flag(
                    e,
                    "nesting",
                    f"{e.node} records {e.kind.value} between its call to {callee} "
                    f"(seq {probe.pending.seq}) and the matching return",
                )

    def members(self, e: Event) -> None:
        """Flag the first mention of each node the run did not start (an intruder)."""
        assert self.cluster is not None
        for name in event_nodes(e):
            if name not in self.cluster and name not in self.foreign:
                self.foreign.add(name)
                self.flag(e, "foreign", f"{name} is not part of the run (not one of the "
                          f"{len(self.cluster)} nodes it started)")

    def probing(self, e: Event, doing: str) -> Probe | None:
        probe = self.probes.get(e.node)
        if probe is None:
            self.flag(e, "order", f"{e.node} {doing} but no probe started there")
        elif probe.end_keys is not None:
            self.flag(e, "order", f"{e.node} {doing} after its probe ended")
            return None
        return probe

    # --- one handler per kind ---------------------------------------------------------------

    def on_probe_start(self, e: ProbeStart) -> None:
        if e.node in self.probes:
            self.flag(
                e,
                "probed-twice",
                f"{e.node} probed twice (first at seq {self.probes[e.node].start_seq})",
            )
            return
        call = self.awaiting.pop(e.node, None)
        if e.node == self.launch:
            if self.probes:
                self.flag(e, "order", f"launcher {e.node} starts its probe after other probes")
        elif call is None and not self.from_log:
            self.flag(
                e,
                "call-start",
                f"probe starts on {e.node} but no call to {e.node} precedes it",
            )
        elif call is not None and set(call.visited) != set(e.visited):
            self.flag(
                e,
                "visited",
                f"{e.node} received visited {sorted(e.visited)} but {call.node} sent "
                f"{sorted(call.visited)} (seq {call.seq})",
            )
        if e.node in e.visited:
            self.flag(e, "visited", f"{e.node} is already in the visited set it received")
        self.probes[e.node] = Probe(e.seq, e.visited, caller=call.node if call else None)

    def on_neighbors(self, e: Neighbors) -> None:
        probe = self.probing(e, "calls nodes()")
        if probe is None:
            return
        if probe.neighbors is not None:
            self.flag(e, "fold", f"{e.node} calls nodes() twice in one probe")
        probe.neighbors = e.nodes

    def fold_step(self, e: Event, target: str, doing: str) -> Probe | None:
        """Common rules for a step of the fold (skip or load_binary) on ``target``."""
        probe = self.probing(e, doing)
        if probe is None:
            return None
        if probe.neighbors is None:
            self.flag(
                e, "fold", f"{e.node} {doing} before its nodes() call (the fold must follow it)"
            )
            return probe
        if probe.fold < len(probe.neighbors) and probe.neighbors[probe.fold] == target:
            probe.fold += 1
        elif target in probe.neighbors[probe.fold :]:
            nxt = probe.neighbors[probe.fold]
            self.flag(
                e, "fold", f"{e.node} {doing} out of order: nodes() lists {nxt} before {target}"
            )
            probe.fold = probe.neighbors.index(target, probe.fold) + 1
        else:
            self.flag(
                e,
                "fold",
                f"{e.node} {doing} but {target} is not (or no longer) ahead in its "
                f"nodes() list {list(probe.neighbors)}",
            )
        return probe

    def on_skip(self, e: Skip) -> None:
        probe = self.fold_step(e, e.neighbor, f"skips {e.neighbor}")
        if probe is not None and not probe.knows(e.node, e.neighbor):
            self.flag(e, "skip", f"{e.node} skips {e.neighbor}, which is not in its visited set")

    def on_load_binary(self, e: LoadBinary) -> None:
        probe = self.fold_step(e, e.to, f"loads the probe on {e.to}")
        if probe is None:
            return
        if probe.knows(e.node, e.to):
            self.flag(
                e, "probed-twice", f"{e.node} visits {e.to}, which is already in its visited set"
            )
        probe.loaded = e.to

    def on_call(self, e: Call) -> None:
        probe = self.probing(e, f"calls {e.to}")
        if probe is None:
            return
        if probe.loaded != e.to:
            self.flag(
                e,
                "load-before-call",
                f"call to {e.to} not preceded by load_binary to {e.to} from {e.node}",
            )
        probe.loaded = None
        if set(e.visited) != probe.visited(e.node):
            self.flag(
                e,
                "visited",
                f"{e.node} sends visited {sorted(e.visited)} but its visited set is "
                f"{sorted(probe.visited(e.node))}",
            )
        probe.pending = e
        self.awaiting[e.to] = e

    def on_return(self, e: Return) -> None:
        probe = self.probes.get(e.node)
        if probe is None or probe.pending is None or probe.pending.to != e.callee:
            self.flag(e, "nesting", f"return from {e.callee} to {e.node} without a matching call")
            return
        probe.pending = None
        callee = self.probes.get(e.callee)
        if callee is None:
            self.flag(e, "nesting", f"return from {e.callee}, whose probe never started")
        elif callee.end_keys is None:
            self.flag(e, "nesting", f"return from {e.callee} before its probe ended")
        elif set(callee.end_keys) != set(e.keys):
            self.flag(
                e,
                "keys",
                f"return from {e.callee} carries keys {sorted(e.keys)} but its probe "
                f"ended with {sorted(callee.end_keys)}",
            )
        probe.added.update(e.keys)

    def on_probe_end(self, e: ProbeEnd) -> None:
        probe = self.probing(e, "ends its probe")
        if probe is None:
            return
        if probe.neighbors is None and not self.from_log:
            self.flag(e, "fold", f"{e.node} ends its probe without calling nodes()")
        elif probe.neighbors is not None and probe.fold < len(probe.neighbors) and not probe.failed:
            left = list(probe.neighbors[probe.fold :])
            self.flag(e, "fold", f"{e.node} ends its probe before folding over {left}")
        expected = probe.added | {e.node}
        if set(e.keys) != expected:
            self.flag(
                e,
                "keys",
                f"{e.node} returns keys {sorted(e.keys)}, expected {sorted(expected)} "
                "(itself and what its calls returned)",
            )
        probe.end_keys = e.keys

    def on_error(self, e: Error) -> None:
        probe = self.probes.get(e.node)
        self.failed_calls.add(e.to)
        if probe is not None and probe.pending is not None and probe.pending.to == e.to:
            probe.pending = None
            self.awaiting.pop(e.to, None)
        elif probe is not None and probe.loaded == e.to:
            probe.loaded = None
        else:
            self.flag(e, "nesting", f"error on a call from {e.node} to {e.to} that was never made")
            return
        probe.failed = True

    def on_connect(self, e: Connect) -> None:
        if (e.node, e.peer) in self.links:
            self.flag(e, "connect", f"{e.node} reports a connection to {e.peer} it already has")
        self.links.add((e.node, e.peer))

    def on_disconnect(self, e: Disconnect) -> None:
        self.links.discard((e.node, e.peer))

    def on_kill(self, e: Kill) -> None:
        pass  # the fold (self.state) records the kill, after this event's own checks

    def on_collect(self, e: Collect) -> None:
        """The collectors' values (``--collect``): once per probe, right after ``nodes()``."""
        probe = self.probing(e, "reports its collectors")
        if probe is None:
            return
        if probe.neighbors is None or probe.fold > 0 or probe.collected:
            self.flag(e, "collect", f"{e.node} reports its collectors other than once, right "
                      "after its nodes() call")
        probe.collected = True

    def on_result(self, e: Result) -> None:
        self.outcome_event(e)
        probe = self.probes.get(self.launch)
        if probe is not None and probe.end_keys is None and not self.from_log:
            self.flag(e, "result", "result before the launcher's probe ended")
        # a probe cut off from the launcher (its call failed, or a caller was killed) is lost
        probed = {n for n in self.probes if n in e.map or not self.cut_off(n)}
        # a console log only shows the greetings that reached the launcher's console (a fixed
        # probe prints on each node's own), so there the probed nodes need only be in the map
        if self.from_log and probed <= set(e.map):
            pass
        elif set(e.map) != probed:
            extra, lost = sorted(set(e.map) - probed), sorted(probed - set(e.map))
            self.flag(
                e,
                "result",
                f"result keys differ from the probed nodes (in result only: {extra}; "
                f"probed but missing: {lost})",
            )
        for node, probe in self.probes.items():
            if (
                node in e.map
                and probe.neighbors is not None
                and tuple(e.map[node]) != self.trace.header.mode.reported(
                    node, probe.neighbors, self.launch)
            ):
                self.flag(
                    e,
                    "result",
                    f"result says {node}: {list(e.map[node])} but its probe reported "
                    f"{list(probe.neighbors)}",
                )

    def cut_off(self, node: str) -> bool:
        """Whether ``node``'s answer cannot reach the launcher: its call failed, or one of its
        callers was killed (an orphaned branch walks on, unheard)."""
        seen: set[str] = set()
        while node not in seen:
            seen.add(node)
            probe = self.probes.get(node)
            if node in self.failed_calls or probe is None or probe.caller is None:
                return node in self.failed_calls
            if probe.caller in self.state.killed:
                return True
            node = probe.caller
        return False

    def finish(self) -> None:
        if not self.ended():
            return
        for callee, call in self.awaiting.items():
            self.flag(
                call,
                "call-start",
                f"call to {callee} is never followed by a probe start on {callee}",
            )
        for node, probe in self.probes.items():
            if probe.pending is not None and node not in self.state.killed:
                self.flag(
                    probe.pending, "nesting", f"{node}'s call to {probe.pending.to} never returned"
                )
            elif probe.end_keys is None and not self.from_log and not self.cut_off(node):
                self.flag(None, "nesting", f"{node}'s probe never ended")
