"""Stage 5: node positions for the chip, a pure function behind a small registry.

``layout(topology, name, seed)`` returns positions in a unit box (y up). Pinned positions win:
when every node has a DOT ``pos`` they are used as they are; when some have one, the others are
placed around them (networkx spring with those nodes fixed). Otherwise ``auto`` takes graphviz
``neato`` when it is installed (deterministic for a given ``start`` seed) and a seeded
networkx layout when it is not; ``neato`` or ``sfdp`` asked for by name fail clearly without
graphviz. The topology is never mutated.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from collections.abc import Callable, Mapping

from inkworm.errors import InputError, ToolError
from inkworm.topology import Topology, locate

Point = tuple[float, float]
Positions = dict[str, Point]
LayoutFunction = Callable[[Topology, int], Positions]


def pinned_positions(topology: Topology) -> Positions:
    """DOT ``pos="x,y"`` (or ``"x,y!"``) attributes that parse, by node."""
    pinned: Positions = {}
    for node in topology.nodes:
        raw = topology.node_attrs.get(node, {}).get("pos")
        if raw is None:
            continue
        parts = raw.rstrip("!").split(",")
        try:
            x, y = float(parts[0]), float(parts[1])
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ValueError(raw)
        except (ValueError, IndexError):
            raise InputError(f"node {node}: pos={raw!r} is not 'x,y'",
                             *locate(topology, node, "pos")) from None
        pinned[node] = (x, y)
    return pinned


def spring_layout(topology: Topology, seed: int) -> Positions:
    """networkx spring layout, seeded; pinned nodes stay where the DOT file puts them."""
    import networkx as nx

    graph = topology.to_networkx()
    pinned = pinned_positions(topology)
    if len(topology.nodes) == 1:
        return {topology.nodes[0]: (0.0, 0.0)}
    pos = nx.spring_layout(graph, seed=seed, pos=pinned or None, fixed=list(pinned) or None,
                           iterations=100 if len(topology.nodes) < 2000 else 40)
    return {n: (float(p[0]), float(p[1])) for n, p in pos.items()}


def circular_layout(topology: Topology, seed: int) -> Positions:
    """Nodes on a circle in file order (``seed`` unused)."""
    count = len(topology.nodes)
    return {n: (math.cos(2 * math.pi * i / count + math.pi / 2),
                math.sin(2 * math.pi * i / count + math.pi / 2))
            for i, n in enumerate(topology.nodes)}


def neato_layout(topology: Topology, seed: int, program: str = "neato") -> Positions:
    """graphviz ``neato`` (stress majorisation), seeded, with overlap removal. Asked for by
    name, it must run: :class:`~inkworm.errors.ToolError` when graphviz cannot."""
    if shutil.which(program) is None:
        raise ToolError(f"--layout {program}: graphviz's {program} is not installed (Debian: "
                        "apt install graphviz)", program)
    ids = {n: f"n{i}" for i, n in enumerate(topology.nodes)}
    pinned = pinned_positions(topology)
    lines = [f"graph G {{ start={seed}; overlap=false; sep=\"+6\"; node [shape=circle, "
             "width=0.3, fixedsize=true];"]
    for n, i in ids.items():
        pin = f' [pos="{pinned[n][0]},{pinned[n][1]}!"]' if n in pinned else ""
        lines.append(f"{i}{pin};")
    lines += [f"{ids[u]} -- {ids[v]};" for u, v in topology.edges]
    lines.append("}")
    try:
        proc = subprocess.run([program, "-Tplain"], input="\n".join(lines), text=True,
                              capture_output=True, timeout=120, check=True)
    except subprocess.CalledProcessError as err:
        said = (err.stderr or "").strip().splitlines()
        raise ToolError(f"--layout {program}: graphviz's {program} failed (exit "
                        f"{err.returncode}{': ' + said[-1] if said else ''})", program) from None
    except (subprocess.SubprocessError, OSError) as err:
        raise ToolError(f"--layout {program}: graphviz's {program} could not run: {err}",
                        program) from None
    back = {i: n for n, i in ids.items()}
    pos: Positions = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "node":
            pos[back[parts[1]]] = (float(parts[2]), float(parts[3]))
    if set(pos) != set(topology.nodes):
        raise ToolError(f"--layout {program}: graphviz's {program} placed "
                        f"{len(pos)} of {len(topology.nodes)} nodes", program)
    return pos


def sfdp_layout(topology: Topology, seed: int) -> Positions:
    """graphviz ``sfdp`` (multilevel force-directed): seconds faster than neato on 1,000s."""
    return neato_layout(topology, seed, program="sfdp")


#: Above this many nodes ``auto`` uses sfdp (neato takes ~3 s on 1,000 nodes, sfdp ~0.3 s).
SFDP_FROM = 300


def auto_layout(topology: Topology, seed: int) -> Positions:
    """Pinned positions if every node has one, else neato (sfdp for large clusters); a seeded
    spring layout when graphviz is not installed or fails (``auto`` promises no program)."""
    pinned = pinned_positions(topology)
    if len(pinned) == len(topology.nodes):
        return pinned
    try:
        if len(topology.nodes) > SFDP_FROM and not pinned:
            return sfdp_layout(topology, seed)
        return neato_layout(topology, seed)
    except ToolError:
        return spring_layout(topology, seed)


LAYOUTS: Mapping[str, LayoutFunction] = {
    "auto": auto_layout,
    "neato": neato_layout,
    "sfdp": sfdp_layout,
    "spring": spring_layout,
    "circular": circular_layout,
}


def layout(topology: Topology, name: str = "auto", seed: int = 0) -> Positions:
    """Positions normalised to the unit box ([0, 1] on the longer side, centred, y up)."""
    try:
        func = LAYOUTS[name]
    except KeyError:
        raise InputError(f"unknown layout {name!r} (one of {', '.join(LAYOUTS)})") from None
    if not 0 <= seed < 2**32:  # numpy's seeded generators take no other
        raise InputError(f"layout seed must be from 0 to 2^32 - 1, got {seed}")
    return normalise(func(topology, seed))


def normalise(pos: Mapping[str, Point]) -> Positions:
    """Scale and centre positions into [0, 1] x [0, 1], keeping the aspect ratio."""
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return {n: (0.5 + (p[0] - cx) / span, 0.5 + (p[1] - cy) / span) for n, p in pos.items()}
