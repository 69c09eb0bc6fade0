"""inkworm benchmarks (``make bench``): each target measured in one run, with its ratio.

Ratio = measured / target; at most 1.00 meets the target. Targets come from the issues.
"""

from __future__ import annotations

import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from inkworm import Mode, check, load_dot, load_trace, save_trace, simulate, to_dot
from inkworm.gen import sparse_cluster
from inkworm.topology import parse_dot


def timed(func: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best wall time of ``repeat`` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> int:
    rows: list[tuple[str, str, float, float | None]] = []
    work = Path(tempfile.mkdtemp(prefix="inkworm-bench-"))

    big = sparse_cluster(100_000, seed=1)
    seconds, trace = timed(lambda: simulate(big, mode=Mode.NAIVE), repeat=3)
    rows.append((f"simulate 100,000 nodes ({len(trace.events):,} events)", "< 2 s", seconds, 2.0))

    dense = sparse_cluster(1_000, seed=2, extra=495)
    path = work / "million.jsonl"
    save_trace(simulate(dense, mode=Mode.FIXED), path)
    size = path.stat().st_size
    seconds, (events, violations) = timed(
        lambda: (lambda t: (len(t.events), check(t)))(load_trace(path)))
    assert not violations
    rows.append((f"read+check {events:,}-event trace ({size / 2**20:.0f} MiB)", "< 5 s",
                 seconds, 5.0))

    tracemalloc.start()
    load_trace(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rows.append(("  its peak Python memory (MiB)", "(info)", peak / 2**20, None))

    ten_k = sparse_cluster(10_000, seed=3, extra=0.0001)
    dot_text = to_dot(ten_k)
    dot_path = work / "10k.dot"
    dot_path.write_text(dot_text, encoding="utf-8")
    seconds, topology = timed(lambda: load_dot(dot_path))
    rows.append((f"load DOT with {len(topology.edges):,} edges (total)", "(info)", seconds, None))
    import pydot.dot_parser

    pydot_seconds, _ = timed(lambda: pydot.dot_parser.GraphParser.parser.parse_string(dot_text))
    rows.append(("  of which pydot parsing", "(info)", pydot_seconds, None))
    rows.append(("  pydot share of the load", "(info)", pydot_seconds / seconds, None))
    assert parse_dot(dot_text).edges == topology.edges

    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}}  {'target':>8}  {'measured':>10}  {'ratio':>6}")
    for name, target, value, limit in rows:
        ratio = f"{value / limit:6.2f}" if limit else "     -"
        print(f"{name:<{width}}  {target:>8}  {value:>10.3f}  {ratio}")
    failed = [r for r in rows if r[3] and r[2] > r[3]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
