"""Ordering snapshots: a run's visit order, DFS tree and result in a small JSON file, and the
assertion that a run still matches it (``inkworm check --snapshot``, the pytest fixture)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from inkworm.assertion import TraceAssertionError, edges_text, probe_starts
from inkworm.errors import InputError, read_text
from inkworm.trace import Trace
from inkworm.views import (
    dfs_tree,
    map_edges,
    result_map,
    visit_order,
)

Pattern = Mapping[str, str]
"""An event pattern: ``{"kind": "probe_start", "node": "d"}``; other keys match the event's
fields (``to``, ``from``, ``peer``, ``neighbor``)."""


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
        starts = probe_starts(trace)
        seq = starts[min(diverge, len(starts) - 1)].seq if starts else None
    if stored.get("dfs_tree") != now["dfs_tree"]:
        was = {tuple(e) for e in stored.get("dfs_tree", [])}
        cur = {tuple(e) for e in now["dfs_tree"]}
        lines.append(f"  DFS tree: calls gone {_arrows(was - cur)}; new {_arrows(cur - was)}")
    if stored.get("result") != now["result"]:
        old_map, new_map = stored.get("result") or {}, now["result"] or {}
        was_edges, cur_edges = map_edges(old_map), map_edges(new_map)
        if was_edges != cur_edges:
            lines.append(f"  result: edges gone {edges_text(was_edges - cur_edges)}; "
                         f"new {edges_text(cur_edges - was_edges)}")
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
