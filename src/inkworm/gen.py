"""Generator of large sparse connected clusters, deterministic for a given seed."""

from __future__ import annotations

import math
import random

from inkworm.errors import InputError
from inkworm.topology import Topology


def sparse_cluster(nodes: int, seed: int = 0, extra: float = 0.5) -> Topology:
    """A connected cluster of ``nodes`` nodes: a random tree plus ``extra * nodes`` chords.

    Each node ``k > 0`` attaches to a uniformly chosen earlier node (a random recursive tree,
    so every node is reachable), then chords join random pairs that are not yet connected.
    Names are ``n`` plus a zero-padded index. Same arguments → same file, edge for edge.
    """
    if nodes < 1:
        raise InputError(f"--nodes must be at least 1, got {nodes}")
    if not 0 <= extra < math.inf:  # also refuses nan
        raise InputError(f"--extra must be a finite number >= 0, got {extra}")
    rng = random.Random(seed)
    width = len(str(nodes - 1))
    names = [f"n{i:0{width}d}" for i in range(nodes)]
    edges: list[tuple[str, str]] = []
    seen: set[tuple[int, int]] = set()
    for k in range(1, nodes):
        parent = rng.randrange(k)
        seen.add((parent, k))
        edges.append((names[parent], names[k]))
    chords = edge_count(nodes, extra) - len(seen)
    while chords > 0:
        a, b = sorted(rng.sample(range(nodes), 2))
        if (a, b) not in seen:
            seen.add((a, b))
            edges.append((names[a], names[b]))
            chords -= 1
    return Topology.from_edges(edges, names, name=f"sparse_{nodes}_s{seed}")


def edge_count(nodes: int, extra: float) -> int:
    """How many edges :func:`sparse_cluster` makes: a tree, plus ``extra * nodes`` chords, at
    most the complete graph (``extra`` finite and >= 0)."""
    tree = nodes - 1
    possible = nodes * (nodes - 1) // 2
    return tree + min(int(min(extra * nodes, possible)), possible - tree)
