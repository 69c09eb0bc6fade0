"""Assertions on worm traces for your own test suite, with failures that read like a story.

Every assertion takes a :class:`~inkworm.trace.Trace` (recorded, simulated or imported) and
raises :class:`TraceAssertionError` naming the first offending event (``seq``, node, kind) and
showing the few events around it::

    from inkworm.testing import assert_spurious_edges, assert_visit_order

    assert_visit_order(trace, "a b c d e f")
    assert_spurious_edges(trace, {("a", "d"), ("a", "e"), ("a", "f")})

The pytest plugin (:mod:`inkworm.pytest_plugin`) adds fixtures, snapshot updating and
``--inkworm-render-failures``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from inkworm.assertion import TraceAssertionError, edges_text, probe_starts
from inkworm.check import RULES, check
from inkworm.run import EdgeOrder, Mode, RunSpec
from inkworm.snapshots import assert_matches_snapshot, snapshot_of
from inkworm.topology import Topology
from inkworm.trace import Event, Trace
from inkworm.views import (
    NameMatcher,
    describe,
    result_map,
    topology_diff,
    topology_of,
    visit_order,
)
from inkworm.worm import simulate

Pattern = Mapping[str, str]
"""An event pattern: ``{"kind": "probe_start", "node": "d"}``; other keys match the event's
fields (``to``, ``from``, ``peer``, ``neighbor``)."""

__all__ = [
    "TraceAssertionError",
    "assert_all_reached",
    "assert_calls_nested",
    "assert_happens_before",
    "assert_load_before_call",
    "assert_matches_snapshot",
    "assert_no_node_probed_twice",
    "assert_no_spurious_edges",
    "assert_result_equals",
    "assert_rules",
    "assert_spurious_edges",
    "assert_valid",
    "assert_valid_dfs",
    "assert_visit_order",
    "find",
    "snapshot_of",
]



def _nodes(order: str | Sequence[str]) -> list[str]:
    if isinstance(order, str):
        return [n for n in order.replace(",", " ").split() if n]
    return list(order)


def _topology(trace: Trace, topology: Topology | None) -> Topology:
    near = Path(trace.path) if trace.path else None
    return topology if topology is not None else topology_of(trace, near)


# --- visit order ------------------------------------------------------------------------------


def _named(names: Iterable[str], wanted: Sequence[str]) -> list[str]:
    """Trace names as the caller wrote them: ``a@host`` is ``a`` when the caller says ``a``
    (the trace spec's matching rule: exact name, else the part before ``@`` if unambiguous)."""
    match = NameMatcher(wanted)
    return [match(n) or n for n in names]


def assert_visit_order(trace: Trace, expected: str | Sequence[str]) -> None:
    """The nodes are visited exactly in this order (``"a b c"`` or ``["a", "b", "c"]``).

    >>> from inkworm.topology import parse_dot
    >>> from inkworm.worm import simulate
    >>> trace = simulate(parse_dot("graph { a -- b; b -- c; a -- c; "
    ...                          "b -- d; d -- e; e -- f; f -- d }"))
    >>> assert_visit_order(trace, "a b c d e f")
    >>> assert_visit_order(trace, "a c b d e f")
    Traceback (most recent call last):
    ...
    inkworm.assertion.TraceAssertionError: ...
    """
    __tracebackhide__ = True  # pytest shows the story, not this helper
    want, starts = _nodes(expected), probe_starts(trace)
    got = _named((e.node for e in starts), want)
    if got == want:
        return
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        if g != w:
            raise TraceAssertionError(
                f"visit order differs at visit {i + 1}: expected {w}, but the worm went to {g}"
                f"\n  expected: {' '.join(want)}\n  actual:   {' '.join(got)}",
                trace, starts[i].seq)
    if len(got) < len(want):
        missing = want[len(got):]
        raise TraceAssertionError(
            f"the worm stopped after {len(got)} visits; never visited {' '.join(missing)}"
            f"\n  expected: {' '.join(want)}\n  actual:   {' '.join(got)}", trace,
            starts[-1].seq if starts else None)
    raise TraceAssertionError(
        f"the worm visited {len(got) - len(want)} more node(s) than expected: "
        f"{' '.join(got[len(want):])}\n  expected: {' '.join(want)}\n  actual:   {' '.join(got)}",
        trace, starts[len(want)].seq)


def assert_valid_dfs(trace: Trace, topology: Topology | None = None,
                     neighbor_order: str = "any") -> None:
    """The visit order is a depth-first preorder of the topology from the launch node.

    ``neighbor_order="any"``: any order of neighbours is fine; ``"connection"``: the BEAM's
    (peers in connection order, with the trace's ``edge_order``).
    """
    __tracebackhide__ = True  # pytest shows the story, not this helper
    if neighbor_order not in ("any", "connection"):
        raise ValueError(f"neighbor_order must be 'any' or 'connection', not {neighbor_order!r}")
    topo = _topology(trace, topology)
    match = NameMatcher(topo.nodes)
    starts = probe_starts(trace)
    order = [match(e.node) or e.node for e in starts]
    launch = match(trace.header.launch) or trace.header.launch
    if starts and order[0] != launch:
        raise TraceAssertionError(f"the walk starts on {starts[0].node}, not on the launch node "
                                  f"{trace.header.launch}", trace, starts[0].seq)
    if neighbor_order == "connection":
        edge_order = trace.header.edge_order or EdgeOrder.DOT
        # the BEAM's own order is what the worm model walks (one DFS, in the simulator)
        model = simulate(topo, RunSpec(launch=launch, mode=Mode.FIXED, edge_order=edge_order))
        assert_visit_order(trace, visit_order(model))
        return
    peers = {n: set(p) for n, p in topo.peers().items()}
    seen: set[str] = set()
    stack: list[str] = []
    for e, node in zip(starts, order, strict=True):
        if node not in peers:
            raise TraceAssertionError(f"{e.node} is not a node of the topology", trace, e.seq)
        if node in seen:
            raise TraceAssertionError(f"not a depth-first order: {node} is visited twice",
                                      trace, e.seq)
        while stack and not (peers[stack[-1]] - seen):
            stack.pop()
        if stack and node not in peers[stack[-1]]:
            raise TraceAssertionError(
                f"not a depth-first order: {node} is visited while {stack[-1]} still has "
                f"unvisited neighbours ({' '.join(sorted(peers[stack[-1]] - seen))}), and "
                f"{node} is not one of them", trace, e.seq)
        seen.add(node)
        stack.append(node)


# --- happens-before ---------------------------------------------------------------------------


def _matches(e: Event, pattern: Pattern) -> bool:
    # "from" is the JSON name of a return's callee; other keys are the event's own fields
    fields = {"kind": e.kind.value, "node": e.node, "from": getattr(e, "callee", None)}
    for key, value in pattern.items():
        actual = fields[key] if key in fields else getattr(e, key, None)
        # node names: exact, or the part before "@" (a@host matches a)
        if actual != value and not (isinstance(actual, str) and key != "kind"
                                    and actual.split("@", 1)[0] == value):
            return False
    return True


def _pattern(pattern: Pattern) -> str:
    """``{"kind": "return", "from": "c"}`` → ``return from c``."""
    words = [pattern.get("kind", "an event")]
    if "node" in pattern:
        words.append(f"on {pattern['node']}")
    words += [f"{k} {v}" for k, v in pattern.items() if k not in ("kind", "node")]
    return " ".join(words)


def find(trace: Trace, pattern: Pattern) -> Event | None:
    """The first event matching ``pattern``."""
    return next((e for e in trace.events if _matches(e, pattern)), None)


def assert_happens_before(trace: Trace, first: Pattern, then: Pattern) -> None:
    """The first event matching ``first`` comes before the first one matching ``then``."""
    __tracebackhide__ = True  # pytest shows the story, not this helper
    a, b = find(trace, first), find(trace, then)
    if a is None:
        raise TraceAssertionError(f"no event matches {_pattern(first)}", trace)
    if b is None:
        raise TraceAssertionError(f"no event matches {_pattern(then)}", trace)
    if a is b:
        raise TraceAssertionError(f"{describe(a)} (seq {a.seq}) matches both {_pattern(first)} "
                                  f"and {_pattern(then)}; make the patterns tell them apart",
                                  trace, a.seq)
    if a.seq >= b.seq:
        raise TraceAssertionError(
            f"expected {_pattern(first)} to happen before {_pattern(then)}, but "
            f"{describe(b)} (seq {b.seq}) comes first; {describe(a)} is at seq {a.seq}",
            trace, b.seq)


# --- topology ---------------------------------------------------------------------------------


def _edges(pairs: Iterable[Iterable[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for pair in pairs:
        a, b = sorted(pair)
        out.add((a, b))
    return out


def assert_spurious_edges(trace: Trace, expected: Iterable[Iterable[str]],
                          topology: Topology | None = None) -> None:
    """The edges the worm reported that the topology lacks are exactly ``expected``."""
    __tracebackhide__ = True  # pytest shows the story, not this helper
    topo = _topology(trace, topology)
    got = set(topology_diff(trace, topo).spurious)
    want = _edges(expected)
    if got == want:
        return
    extra, lost = got - want, want - got
    parts = []
    if extra:
        parts.append(f"unexpected spurious edge(s) {edges_text(extra)}")
    if lost:
        parts.append(f"expected spurious edge(s) {edges_text(lost)} did not appear")
    seq = _first_connect(trace, extra or lost)
    raise TraceAssertionError("; ".join(parts) + f"\n  expected: {edges_text(want)}\n  actual:   "
                              f"{edges_text(got)}", trace, seq)


def _first_connect(trace: Trace, edges: set[tuple[str, str]]) -> int | None:
    for e in trace.events:
        peer = getattr(e, "peer", None)
        if peer is not None and tuple(sorted((e.node, peer))) in edges:
            return e.seq
    outcome = trace.outcome
    return outcome.seq if outcome else None


def assert_no_spurious_edges(trace: Trace, topology: Topology | None = None) -> None:
    """The worm reported no edge that the topology lacks."""
    __tracebackhide__ = True  # pytest shows the story, not this helper
    assert_spurious_edges(trace, (), topology)


def assert_result_equals(trace: Trace, topology: Topology | None = None) -> None:
    """The worm's answer is exactly the topology (no spurious, no missing edge, all reached)."""
    __tracebackhide__ = True  # pytest shows the story, not this helper
    topo = _topology(trace, topology)
    diff = topology_diff(trace, topo)
    if result_map(trace.events) is None:
        outcome = trace.outcome
        raise TraceAssertionError("the run has no result (it crashed or was cut short)", trace,
                                  outcome.seq if outcome else None)
    if diff.exact:
        return
    lines = ["the worm's map differs from the topology:"]
    if diff.spurious:
        lines.append(f"  spurious edges: {edges_text(diff.spurious)}")
    if diff.missing:
        lines.append(f"  missing edges:  {edges_text(diff.missing)}")
    if diff.unreached:
        lines.append(f"  unreached:      {' '.join(diff.unreached)}")
    raise TraceAssertionError("\n".join(lines), trace, _first_connect(trace, set(diff.spurious)))


def assert_all_reached(trace: Trace, topology: Topology | None = None) -> None:
    """Every node of the topology was probed."""
    __tracebackhide__ = True  # pytest shows the story, not this helper
    topo = _topology(trace, topology)
    diff = topology_diff(trace, topo)
    if diff.unreached:
        last = probe_starts(trace)
        raise TraceAssertionError(
            f"{len(diff.unreached)} node(s) never reached: {' '.join(diff.unreached)}", trace,
            last[-1].seq if last else None)


# --- ordering rules (the checker's, one at a time) --------------------------------------------


def assert_rules(trace: Trace, *rules: str) -> None:
    """The trace breaks none of these checker rules (all of :data:`~inkworm.check.RULES`
    when none are named)."""
    __tracebackhide__ = True  # pytest shows the story, not this helper
    unknown = [r for r in rules if r not in RULES]
    if unknown:
        raise ValueError(f"unknown rule(s) {unknown}; rules: {', '.join(RULES)}")
    wanted = set(rules) or set(RULES)
    violations = [v for v in check(trace) if v.rule in wanted]
    if violations:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise TraceAssertionError(f"{RULES[first.rule]}: {first.message}{more}", trace,
                                  first.seq)


def assert_valid(trace: Trace) -> None:
    """The trace is a valid worm run (every rule of ``inkworm check``)."""
    __tracebackhide__ = True  # pytest shows the story, not this helper
    assert_rules(trace)


def assert_no_node_probed_twice(trace: Trace) -> None:
    __tracebackhide__ = True  # pytest shows the story, not this helper
    assert_rules(trace, "probed-twice")


def assert_load_before_call(trace: Trace) -> None:
    __tracebackhide__ = True  # pytest shows the story, not this helper
    assert_rules(trace, "load-before-call")


def assert_calls_nested(trace: Trace) -> None:
    __tracebackhide__ = True  # pytest shows the story, not this helper
    assert_rules(trace, "nesting")
