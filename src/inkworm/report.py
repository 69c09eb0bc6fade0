"""Reports: what a run did and how its map compares with the cluster, as lines of text.

The CLI prints these; tests and users' scripts can call them. Every fact comes from the views
(:mod:`inkworm.views`), so a report never works anything out on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from inkworm import collect, views
from inkworm.costs import cost_lines, costs
from inkworm.run import Strategy
from inkworm.topology import Topology
from inkworm.trace import Crash, Trace


def summary_lines(trace: Trace, topology: Topology | None = None) -> list[str]:
    """A human summary of one run: visit order, DFS tree, outcome, map, connections made,
    (with the true ``topology``) the spurious edges and unreached nodes, and what the run cost
    (:mod:`inkworm.costs`)."""
    h = trace.header
    outcome = trace.outcome
    lines = [
        f"run: launch {h.launch}, mode {h.mode.value}, source {h.source.value}, "
        f"{len(trace.events)} events",
        "visit order: " + " ".join(views.visit_order(trace.events)),
        f"{(h.strategy or Strategy.SEQUENTIAL).tree}: "
        + ", ".join(f"{a}->{b}" for a, b in views.dfs_tree(trace.events)),
    ]
    if outcome is None:
        lines.append("outcome: truncated (no result, no crash)")
    elif isinstance(outcome, Crash):
        lines.append(f"outcome: crash {outcome.reason}")
    result = views.result_map(trace.events)
    if result is not None:
        lines.append("result:")
        lines += [f"  {n}: [{', '.join(result[n])}]" for n in result]
    made = views.connections(trace.events)
    if made:
        lines.append("connections made by the run: " + ", ".join(f"{a}--{b}" for a, b in made))
    if topology is not None:
        diff = views.topology_diff(trace, topology)
        lines.append("spurious edges: " + (", ".join(f"{a}--{b}" for a, b in diff.spurious)
                                           or "none"))
        if diff.unreached:
            lines.append("unreached: " + " ".join(diff.unreached))
    if "attach" in h.meta:
        lines += interference_lines(h.meta)
    found = collect.collected(trace.events)
    if found:
        lines.append("collected:")
        lines += ["  " + line for line in collect.lines(found, per_node=30)]
    return lines + cost_lines(costs(trace))


def diff_lines(diff: views.TopologyDiff, graph: str) -> list[str]:
    """A topology diff as ``check --graph`` prints it, one finding a line."""
    lines = [f"{label}: {a} -- {b}" for label, items in
             (("spurious edge", diff.spurious), ("missing edge", diff.missing))
             for a, b in items]
    lines += [f"unreached node: {node}" for node in diff.unreached]
    lines += [f"unknown node (not in {graph}): {node}" for node in diff.unknown]
    return lines


def reported_topology(trace: Trace) -> Topology:
    """The cluster as the run reported it: its result map, else what its probes saw."""
    reported = views.reported_map(trace.events)
    return Topology.from_edges(sorted(views.map_edges(reported)), sorted(reported))


def observed_topology(observed: Mapping[str, Iterable[str]]) -> Topology:
    """A topology from each node's ``nodes()`` (as ``inkworm cluster`` observes them)."""
    return Topology.from_edges(sorted(views.map_edges(observed)), sorted(observed))


def interference_lines(meta: Mapping[str, Any]) -> list[str]:
    """``summary``'s lines for an attached run (``meta.attach``)."""
    a = meta["attach"]
    i = a["interference"]
    made, stayed = i["connections_made"], i["connections_stayed"]
    lines = [f"attached to {a['node']} as hidden node {a['inkworm_node']} (cookie: "
             f"{a['cookie']}, {a['name_kind']} names)",
             f"interference: {len(made)} connections made"
             + (f" ({len(stayed)} stayed: " + ", ".join(f"{x}--{y}" for x, y in stayed) + ")"
                if stayed else (", none stayed" if made else "")),
             f"  peak extra processes on a node: {i['peak_extra_processes']}; code shipped: "
             f"{i['code_bytes_shipped'] / 1024:.1f} KiB to {i['nodes_reached']} nodes; wall "
             f"{i['wall_ms'] / 1000:.2f} s (worm {i['worm_ms'] / 1000:.2f} s)",
             "  probe left on: " + (", ".join(i["probe_left_on"]) or "no node (purged from "
                                    "every node reached)")]
    if i["unreachable_after"]:
        lines.append("  unreachable after the run: " + ", ".join(i["unreachable_after"]))
    return lines
