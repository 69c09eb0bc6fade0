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

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from inkworm.check import RULES, check
from inkworm.errors import InputError, printable, read_text
from inkworm.run import EdgeOrder, Mode, RunSpec
from inkworm.topology import Topology
from inkworm.trace import Event, ProbeStart, Trace
from inkworm.views import (
    NameMatcher,
    describe,
    dfs_tree,
    map_edges,
    result_map,
    topology_diff,
    topology_of,
    visit_order,
)
from inkworm.worm import simulate

Pattern = Mapping[str, str]
"""An event pattern: ``{"kind": "probe_start", "node": "d"}``; other keys match the event's
fields (``to``, ``from``, ``peer``, ``neighbor``)."""


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


def _nodes(order: str | Sequence[str]) -> list[str]:
    if isinstance(order, str):
        return [n for n in order.replace(",", " ").split() if n]
    return list(order)


def _topology(trace: Trace, topology: Topology | None) -> Topology:
    near = Path(trace.path) if trace.path else None
    return topology if topology is not None else topology_of(trace, near)


def _starts(trace: Trace) -> list[ProbeStart]:
    return [e for e in trace.events if isinstance(e, ProbeStart)]


# --- visit order ------------------------------------------------------------------------------


def _named(names: Iterable[str], wanted: Sequence[str]) -> list[str]:
    """Trace names as the caller wrote them: ``a@host`` is ``a`` when the caller says ``a``
    (the trace spec's matching rule: exact name, else the part before ``@`` if unambiguous)."""
    match = NameMatcher(wanted)
    return [match(n) or n for n in names]


def assert_visit_order(trace: Trace, expected: str | Sequence[str]) -> None:
    """The nodes are visited exactly in this order (``"a b c"`` or ``["a", "b", "c"]``)."""
    __tracebackhide__ = True  # pytest shows the story, not this helper
    want, starts = _nodes(expected), _starts(trace)
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
    starts = _starts(trace)
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


def _fmt(edges: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{a}\u2013{b}" for a, b in sorted(edges)) or "none"


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
        parts.append(f"unexpected spurious edge(s) {_fmt(extra)}")
    if lost:
        parts.append(f"expected spurious edge(s) {_fmt(lost)} did not appear")
    seq = _first_connect(trace, extra or lost)
    raise TraceAssertionError(
        "; ".join(parts) + f"\n  expected: {_fmt(want)}\n  actual:   {_fmt(got)}", trace, seq)


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
        lines.append(f"  spurious edges: {_fmt(diff.spurious)}")
    if diff.missing:
        lines.append(f"  missing edges:  {_fmt(diff.missing)}")
    if diff.unreached:
        lines.append(f"  unreached:      {' '.join(diff.unreached)}")
    raise TraceAssertionError("\n".join(lines), trace, _first_connect(trace, set(diff.spurious)))


def assert_all_reached(trace: Trace, topology: Topology | None = None) -> None:
    """Every node of the topology was probed."""
    __tracebackhide__ = True  # pytest shows the story, not this helper
    topo = _topology(trace, topology)
    diff = topology_diff(trace, topo)
    if diff.unreached:
        last = _starts(trace)
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


# --- ordering snapshots -----------------------------------------------------------------------


def snapshot_of(trace: Trace) -> dict[str, Any]:
    """What an ordering snapshot keeps: visit order, DFS tree and result."""
    result = result_map(trace.events)
    outcome = trace.outcome
    return {
        "launch": trace.header.launch,
        "mode": trace.header.mode.value,
        "visit_order": visit_order(trace.events),
        "dfs_tree": [list(e) for e in dfs_tree(trace.events)],
        "result": None if result is None else {k: list(v) for k, v in sorted(result.items())},
        "outcome": outcome.kind.value if outcome else "truncated",
    }


def assert_matches_snapshot(trace: Trace, path: str | os.PathLike[str],
                            update: bool = False) -> bool:
    """The trace's ordering equals the stored snapshot. A missing snapshot (or ``update``)
    is written instead; returns True when it wrote one."""
    __tracebackhide__ = True  # pytest shows the story, not this helper
    from inkworm.output import atomic_text

    target = Path(path)
    now = snapshot_of(trace)
    if update or not os.path.lexists(target):
        with atomic_text(target, inputs=(trace.path,)) as out:
            out.write(json.dumps(now, indent=2, ensure_ascii=False) + "\n")
        return True
    stored = _read_snapshot(target)
    if {k: stored.get(k) for k in now} == now:  # keys of another tool's are ignored
        return False
    lines = [f"the run no longer matches the snapshot {target}:"]
    seq = None
    if stored.get("visit_order") != now["visit_order"]:
        lines.append(f"  visit order was: {' '.join(stored.get('visit_order', []))}")
        lines.append(f"             now: {' '.join(now['visit_order'])}")
        old = stored.get("visit_order", [])
        diverge = next((i for i, (a, b) in enumerate(zip(old, now["visit_order"],
                                                          strict=False)) if a != b),
                       min(len(old), len(now["visit_order"])))
        starts = _starts(trace)
        seq = starts[min(diverge, len(starts) - 1)].seq if starts else None
    if stored.get("dfs_tree") != now["dfs_tree"]:
        was = {tuple(e) for e in stored.get("dfs_tree", [])}
        cur = {tuple(e) for e in now["dfs_tree"]}
        lines.append(f"  DFS tree: calls gone {_arrows(was - cur)}; new {_arrows(cur - was)}")
    if stored.get("result") != now["result"]:
        old_map, new_map = stored.get("result") or {}, now["result"] or {}
        was_edges, cur_edges = map_edges(old_map), map_edges(new_map)
        if was_edges != cur_edges:
            lines.append(f"  result: edges gone {_fmt(was_edges - cur_edges)}; "
                         f"new {_fmt(cur_edges - was_edges)}")
        else:
            moved = sorted(n for n in set(old_map) | set(new_map)
                           if old_map.get(n) != new_map.get(n))
            lines.append(f"  result: same edges, nodes() order changed on {' '.join(moved)}")
    for key in ("launch", "mode", "outcome"):
        if stored.get(key) != now[key]:
            lines.append(f"  {key}: was {stored.get(key)}, now {now[key]}")
    lines.append("  (update the snapshot if the change is intended)")
    raise TraceAssertionError("\n".join(lines), trace, seq)


def _is_names(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def _read_snapshot(target: Path) -> dict[str, Any]:
    """A stored ordering snapshot, its shape checked; :class:`InputError` (one line) if not."""
    try:
        stored = json.loads(read_text(target, "snapshot"))
    except RecursionError:
        raise InputError("snapshot is JSON nested too deeply; rewrite it with --update",
                         target) from None
    except ValueError as err:
        raise InputError(f"snapshot is not JSON ({err}); rewrite it with --update",
                         target) from None
    result = stored.get("result") if isinstance(stored, dict) else None
    shaped = (isinstance(stored, dict) and _is_names(stored.get("visit_order"))
              and isinstance(stored.get("dfs_tree"), list)
              and all(_is_names(e) and len(e) == 2 for e in stored["dfs_tree"])
              and (result is None or (isinstance(result, dict)
                                      and all(_is_names(v) for v in result.values()))))
    if not shaped:
        raise InputError("not an inkworm ordering snapshot (visit_order, dfs_tree, result); "
                         "rewrite it with --update", target)
    snapshot: dict[str, Any] = stored
    return snapshot


def _arrows(edges: Iterable[tuple[str, ...]]) -> str:
    return ", ".join(f"{a}->{b}" for a, b in sorted(edges)) or "none"
