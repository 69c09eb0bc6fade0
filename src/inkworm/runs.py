"""Stage 3½: a run ready to draw. A DOT file (simulated) or a trace (checked), with its
topology, both naming nodes as a picture shows them: what the CLI, the notebook, scenes and
the test kit hand to the render stage, which itself never simulates, reads or checks.
"""

from __future__ import annotations

from pathlib import Path

from inkworm.check import check
from inkworm.errors import InputError
from inkworm.inputs import load_input
from inkworm.names import LINE_BREAK, shown
from inkworm.reader import load_trace
from inkworm.run import RunSpec
from inkworm.topology import Topology, load_dot, locate
from inkworm.trace import Trace
from inkworm.views import NameMatcher, renamed, topology_of
from inkworm.worm import simulate


def load_run(input_path: str, spec: RunSpec,
             graph: str | None = None) -> tuple[Topology, Trace]:
    """A DOT file (simulated with ``spec``) or a trace, with its topology (``graph``, else
    the DOT file the trace names beside it, else what the trace shows), both naming each node
    as a picture shows it (:func:`inkworm.names.shown`: its label, or less the shared
    domain)."""
    loaded = load_input(input_path)
    if isinstance(loaded, Topology):
        trace = simulate(loaded, spec)
        _one_line_names(trace, loaded, input_path)
        topology = loaded
    else:
        topology = load_dot(graph) if graph else topology_of(loaded, Path(input_path))
        renderable(loaded, topology, input_path)
        trace = renamed(loaded, topology)  # names matched once, here
    topology, trace, _ = shown(topology, trace)
    return topology, trace


def renderable(trace: Trace, topology: Topology, where: str) -> None:
    """Refuse a trace that cannot be animated faithfully: one that breaks the worm's ordering
    rules, or names nodes its topology does not have. A truncated trace is drawn as far as it
    goes (the checker's 'outcome' rule is the only one let through)."""
    # truncated runs are drawn as far as they go; clocks may step back between nodes
    violations = [v for v in check(trace) if v.rule not in ("outcome", "time")]
    if violations:
        first = violations[0]
        raise InputError(f"seq {first.seq}: {first.message} (inkworm check lists all "
                         f"{len(violations)})", where, first.line)
    _one_line_names(trace, topology, where)
    match = NameMatcher(topology.nodes)
    for e in trace.events:
        for name in (e.node, *e.others()):
            if match(name) is None:
                graph = topology.source or "the derived topology"
                raise InputError(f"node '{name}' is not in {graph}", where, e.line)


def _one_line_names(trace: Trace, topology: Topology, where: str) -> None:
    """Refuse a node name that cannot be drawn on one line (its label, its captions)."""
    for node in topology.nodes:
        if LINE_BREAK.search(node):
            raise InputError(f"node name '{node}' holds a line break: a well's label is one "
                             "line", *_where_named(node, trace, topology, where))


def _where_named(node: str, trace: Trace, topology: Topology,
                 where: str) -> tuple[str | None, int | None]:
    """The file and line naming ``node`` first: the trace's line, else the DOT file's."""
    if trace.path is not None:
        line = next((e.line for e in trace.events if node in (e.node, *e.others())), None)
        if line is not None:
            return where, line
    piece = next((part for part in node.splitlines() if part.strip()), None)
    return locate(topology, piece) if piece else (topology.path or topology.source, None)


def scene_run(graph: str | None, trace_file: str | None, spec: RunSpec,
              topology: Topology | None = None,
              trace: Trace | None = None) -> tuple[Topology, Trace]:
    """A scene's run: ``topology`` and ``trace`` as given, else read from ``graph`` and
    ``trace_file`` (relative paths from the working folder, as every command reads them),
    the trace simulated with ``spec`` when there is none; the trace's names as the topology
    spells them."""
    if topology is None and graph:
        topology = load_dot(Path(graph))
    if trace is None and trace_file:
        trace = load_trace(Path(trace_file))
    if topology is None:
        raise ValueError("InkScene needs a topology (argument or class attribute 'graph')")
    if trace is None:
        trace = simulate(topology, spec)
    return topology, renamed(trace, topology)
