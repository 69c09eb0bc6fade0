"""Stage 4a: a trace's ordering invariants, by the rules of the strategy that ran it.

One checker per strategy, in :data:`CHECKERS`: the sequential worm's (the seed's probe,
:mod:`~inkworm.check.sequential`) and the parallel worm's nesting rules built on it
(:mod:`~inkworm.check.parallel`). A new strategy's checker is one module and one entry.
"""

from __future__ import annotations

from inkworm.check.parallel import ParallelChecker
from inkworm.check.rules import RULES, Violation
from inkworm.check.sequential import Checker
from inkworm.run import Strategy
from inkworm.trace import Trace

__all__ = ["CHECKERS", "RULES", "Checker", "ParallelChecker", "Violation", "check"]

CHECKERS: dict[Strategy, type[Checker]] = {
    Strategy.SEQUENTIAL: Checker,
    Strategy.PARALLEL: ParallelChecker,
}
"""The checker of each strategy (a trace without one is the sequential worm's)."""


def check(trace: Trace) -> list[Violation]:
    """All violations in ``trace`` (empty when the trace is a valid worm run), by the rules of
    the strategy its header names.

    >>> from dataclasses import replace
    >>> from inkworm.topology import parse_dot
    >>> from inkworm.worm import simulate
    >>> trace = simulate(parse_dot("graph { a -- b; b -- c; a -- c; "
    ...                          "b -- d; d -- e; e -- f; f -- d }"))
    >>> check(trace)
    []
    >>> cut = replace(trace, events=trace.events[:-1])  # no result: a truncated run
    >>> [v.rule for v in check(cut)]
    ['outcome']
    """
    return CHECKERS[trace.header.strategy or Strategy.SEQUENTIAL](trace).run()
