"""The flood fill written the naive way, for comparison: manim's Graph, one play per call.

Run by bench/run.py as ``manim render -ql bench/naive_graph.py NaiveFlood`` with
INKWORM_BENCH_DOT and INKWORM_BENCH_SECONDS set.
"""

from __future__ import annotations

import os

from manim import BLUE, Graph, Scene

from inkworm import Mode, load_dot, simulate
from inkworm.layout import layout
from inkworm.run import RunSpec
from inkworm.views import dfs_tree


class NaiveFlood(Scene):
    def construct(self) -> None:
        topology = load_dot(os.environ["INKWORM_BENCH_DOT"])
        seconds = float(os.environ.get("INKWORM_BENCH_SECONDS", "20"))
        pos = layout(topology)
        graph = Graph(list(topology.nodes), [tuple(e) for e in topology.edges],
                      layout={n: [(x - 0.5) * 12, (y - 0.5) * 7, 0] for n, (x, y) in pos.items()},
                      vertex_config={"radius": 0.05}, edge_config={"stroke_width": 1})
        self.add(graph)
        tree = dfs_tree(simulate(topology, RunSpec(mode=Mode.FIXED)).events)
        step = seconds / max(len(tree), 1)
        for a, b in tree:
            edge = graph.edges[(a, b)] if (a, b) in graph.edges else graph.edges[(b, a)]
            self.play(edge.animate.set_color(BLUE), graph.vertices[b].animate.set_color(BLUE),
                      run_time=step)
