"""The sequential worm against the parallel one (issue 13): what each costs, as markdown.

For the bowtie, the 12-ring with three chords (graphs/ring12.dot) and a 1,000-node sparse
cluster (``inkworm gen --nodes 1000 --seed 0 --extra 0.01``: a random tree plus 10 chords),
in both probe modes: probes started (and the duplicates among them), erpc messages, bytes
shipped (object code per load_binary, and the visited sets the calls carry) and the virtual
time of the result (the simulator's default latencies). A second table shows how the parallel
worm's duplicate work grows with the chords of the 1,000-node cluster. Counted by
``inkworm.costs`` from simulated traces; run with ``.venv/bin/python scripts/worm_costs.py``
(a few seconds).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from inkworm.costs import CODE_BYTES, Costs, costs
from inkworm.gen import sparse_cluster
from inkworm.run import Mode, RunSpec, Strategy
from inkworm.topology import Topology, load_dot
from inkworm.worm import simulate

ROOT = Path(__file__).resolve().parent.parent
BIG = {"nodes": 1000, "seed": 0, "extra": 0.01}
"""The 1,000-node cluster: ``inkworm gen --nodes 1000 --seed 0 --extra 0.01``."""
GROWTH = (0.0, 0.002, 0.005, 0.01)
"""Chords per node of the 1,000-node cluster in the second table (at 0.02 the parallel worm
starts about 72,000 probes; at 0.03, millions)."""


def graphs() -> list[tuple[str, Topology]]:
    big = sparse_cluster(BIG["nodes"], int(BIG["seed"]), BIG["extra"])
    return [("bowtie", load_dot(ROOT / "graphs" / "bowtie.dot")),
            ("ring12", load_dot(ROOT / "graphs" / "ring12.dot")),
            (f"gen 1000 ({len(big.edges):,} edges)", big)]


def row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def cost_cells(c: Costs) -> list[str]:
    return [f"{c.probes:,}", f"{c.duplicates:,}", f"{c.messages:,}", f"{c.bytes:,}",
            f"{c.visited_bytes:,}", f"{c.t_us:,}" if c.t_us is not None else "-"]


def main_table() -> list[str]:
    lines = [row(["graph", "mode", "strategy", "probes", "duplicate", "messages",
                  "bytes shipped", "of which visited sets", "time (us)"]),
             row(["---"] * 3 + ["---:"] * 6)]
    for name, topology in graphs():
        for mode in (Mode.NAIVE, Mode.FIXED):
            for strategy in Strategy:
                c = costs(simulate(topology, RunSpec(mode=mode, strategy=strategy)))
                lines.append(row([name, mode.value, strategy.value, *cost_cells(c)]))
    return lines


def growth_table() -> list[str]:
    lines = [row(["chords", "edges", "sequential probes", "parallel probes", "duplicate",
                  "parallel messages", "parallel bytes", "sequential time (us)",
                  "parallel time (us)"]),
             row(["---:"] * 9)]
    for extra in GROWTH:
        topology = sparse_cluster(BIG["nodes"], int(BIG["seed"]), extra)
        seq = costs(simulate(topology, RunSpec(mode=Mode.FIXED)))
        par = costs(simulate(topology, RunSpec(mode=Mode.FIXED, strategy=Strategy.PARALLEL)))
        chords = len(topology.edges) - (len(topology.nodes) - 1)
        lines.append(row([f"{chords}", f"{len(topology.edges):,}", f"{seq.probes:,}",
                          f"{par.probes:,}", f"{par.duplicates:,}", f"{par.messages:,}",
                          f"{par.bytes:,}", f"{seq.t_us:,}", f"{par.t_us:,}"]))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.parse_args(argv)
    out = [f"Code shipped per load_binary: {CODE_BYTES:,} bytes (inkworm.costs.CODE_BYTES).",
           "", *main_table(), "",
           "The 1,000-node cluster (seed 0) as chords are added, fixed mode:", "",
           *growth_table()]
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
