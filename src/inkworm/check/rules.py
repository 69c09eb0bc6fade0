"""The checker's vocabulary: its rules, a violation, and what it knows of each probe."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from inkworm.trace import Call, Connect, Disconnect, Kill

RULES = {
    "seq": "seq counts 0, 1, 2, ... without gaps",
    "time": "t_us never goes back",
    "order": "events happen where and when a worm can record them",
    "nesting": "calls and returns are properly nested; every call ends in a return or error",
    "probed-twice": "no node is probed twice",
    "call-start": "every call is followed by the callee's probe start, and every probe but "
    "the launcher's starts after a call to it",
    "load-before-call": "every call is preceded by load_binary from the same node",
    "visited": "visited sets are passed on as the caller holds them",
    "fold": "the fold follows nodes(), in order, after the nodes() call",
    "skip": "only visited nodes are skipped",
    "keys": "returned keys are what the callee's probe ended with",
    "result": "the result equals what the probes reported",
    "outcome": "one result or crash, on the launch node, last",
    "connect": "a connection is reported once per side",
    "foreign": "every node named is one the run started (the header's cluster, when given)",
    "collect": "a probe reports its collectors at most once, right after its nodes() call",
    "probe": "in a parallel trace, every event a probe writes names its probe, and every "
    "call and return the probe it starts or answers for, by their paths",
}
"""The ordering rules :func:`check` verifies, by name."""

RUNTIME = (Connect, Disconnect, Kill)
"""Events the runtime observes on a node, whatever its probe is doing."""


@dataclass(frozen=True)
class Violation:
    """One broken rule, at one event."""

    seq: int | None
    line: int | None
    node: str | None
    message: str
    rule: str = "order"
    """Which rule (see :data:`RULES`)."""

    def format(self, where: str | None = None) -> str:
        loc = ":".join(str(p) for p in (where, self.line) if p)
        at = f"seq {self.seq}" if self.seq is not None else "end of trace"
        return f"{loc + ': ' if loc else ''}{at}: {self.message}"


@dataclass
class Probe:
    """What the checker knows about one node's probe."""

    start_seq: int
    received: AbstractSet[str]
    added: set[str] = field(default_factory=set)
    neighbors: tuple[str, ...] | None = None
    fold: int = 0
    loaded: str | None = None
    pending: Call | None = None
    failed: bool = False
    end_keys: AbstractSet[str] | None = None
    caller: str | None = None
    collected: bool = False

    def visited(self, node: str) -> set[str]:
        return set(self.received) | self.added | {node}

    def knows(self, node: str, other: str) -> bool:
        return other == node or other in self.added or other in self.received
