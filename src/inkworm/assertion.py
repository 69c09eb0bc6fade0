"""A trace assertion's failure, and the small readings of a run its messages share."""

from __future__ import annotations

from collections.abc import Iterable

from inkworm.errors import printable
from inkworm.trace import ProbeStart, Trace
from inkworm.views import describe


class TraceAssertionError(AssertionError):
    """A trace assertion failed; ``seq`` is the first offending event (None: the whole run)."""

    def __init__(self, message: str, trace: Trace, seq: int | None = None) -> None:
        context = _context(trace, seq) if seq is not None else ""
        # node names come from input: no control character of theirs reaches a terminal
        super().__init__("\n".join(printable(line) for line in (message + context).split("\n")))
        self.trace = trace
        self.seq = seq


def _context(trace: Trace, seq: int, around: int = 2) -> str:
    index = next((i for i, e in enumerate(trace.events) if e.seq == seq), None)
    if index is None:
        return ""
    lines = ["", "", "  around it:"]
    for i in range(max(index - around, 0), min(index + around + 1, len(trace.events))):
        e = trace.events[i]
        mark = ">" if i == index else " "
        lines.append(f"  {mark} seq {e.seq:>4}  {describe(e)}")
    return "\n".join(lines)


def probe_starts(trace: Trace) -> list[ProbeStart]:
    return [e for e in trace.events if isinstance(e, ProbeStart)]


def edges_text(edges: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{a}\u2013{b}" for a, b in sorted(edges)) or "none"
