"""What every checker shares: the trace it reads, its violations, the run's one outcome."""

from __future__ import annotations

from inkworm.check.rules import Violation
from inkworm.trace import Crash, Event, Result, Source, Trace


class Base:
    """A checker's common part: the trace, the launcher, the violations flagged so far, the
    cluster the header names (``foreign``: nodes outside it), and the run's outcome."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.launch = trace.header.launch
        self.from_log = trace.header.source is Source.LOG
        self.violations: list[Violation] = []
        self.outcome: Event | None = None
        cluster = trace.header.extra.get("cluster")
        self.cluster: frozenset[str] | None = None
        self.foreign: set[str] = set()
        if cluster is not None:
            if isinstance(cluster, list) and all(isinstance(n, str) for n in cluster):
                self.cluster = frozenset(cluster)
            else:
                self.flag(None, "foreign", "header field 'cluster' must be a list of names")

    def flag(self, e: Event | None, rule: str, message: str) -> None:
        self.violations.append(
            Violation(
                e.seq if e else None, e.line if e else None, e.node if e else None, message, rule
            )
        )

    def on_crash(self, e: Crash) -> None:
        self.outcome_event(e)

    def outcome_event(self, e: Event) -> None:
        if e.node != self.launch:
            self.flag(
                e, "outcome", f"{e.kind.value} on {e.node}, not on the launch node {self.launch}"
            )
        if self.outcome is not None:
            self.flag(
                e,
                "outcome",
                f"second outcome: {e.kind.value} after {self.outcome.kind.value} at "
                f"seq {self.outcome.seq}",
            )
            return
        self.outcome = e

    def ended(self) -> bool:
        """Flag a trace without an outcome; whether it ended in a result (and so the checks
        of a finished walk apply). Shared with the parallel checker."""
        if self.outcome is None:
            self.flag(None, "outcome", "truncated: the trace has neither a result nor a crash")
        return isinstance(self.outcome, Result)
