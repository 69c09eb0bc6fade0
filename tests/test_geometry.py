"""Channel routing: all channels at once (:func:`route_all`) draw exactly what routing them one
by one (:func:`route`) draws, and a channel left straight passes clear of every other well."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import GRAPHS
from inkworm import load_dot
from inkworm.gen import sparse_cluster
from inkworm.layout import layout
from inkworm.render.geometry import min_distance, route, route_all, stretch
from inkworm.topology import Topology

CLUSTERS = {
    "bowtie": lambda: load_dot(GRAPHS / "bowtie.dot"),
    "60": lambda: sparse_cluster(60, seed=0),
    "300": lambda: sparse_cluster(300, seed=5),
    "300 dense": lambda: sparse_cluster(300, seed=2, extra=2.0),
}


def _wells(topology: Topology, box: tuple[float, float, float, float]
           ) -> tuple[np.ndarray, list[tuple[int, int]], float]:
    centers = stretch(layout(topology, "spring", 0), box)
    index = {n: i for i, n in enumerate(centers)}
    pts = np.array([centers[n] for n in centers], dtype=np.float64)
    radius = float(np.clip(0.3 * min_distance(pts), 2.0, 30.0))
    return pts, [(index[u], index[v]) for u, v in topology.edges], radius * 1.34


@pytest.mark.parametrize("name", list(CLUSTERS))
@pytest.mark.parametrize("bounded", [False, True])
def test_routing_every_channel_at_once_is_routing_them_one_by_one(name: str,
                                                                    bounded: bool) -> None:
    box = (40.0, 40.0, 1240.0, 680.0)
    pts, pairs, clearance = _wells(CLUSTERS[name](), box)
    # a tight chip makes some bends leave it (those are refused, or the straight line kept)
    bounds = (60.0, 60.0, 1220.0, 660.0) if bounded else None
    one_by_one = [route(pts, u, v, clearance, bounds=bounds) for u, v in pairs]
    at_once = route_all(pts, pairs, clearance, bounds=bounds)
    assert len(at_once) == len(pairs)
    bent = 0
    for k, (a, b) in enumerate(zip(one_by_one, at_once, strict=True)):
        assert np.array_equal(a, b), (name, pairs[k], a, b)
        bent += len(a) > 2
    if name != "bowtie":
        assert bent > 0  # the test covers bent channels too


def test_a_straight_channel_passes_clear_of_every_other_well() -> None:
    pts, pairs, clearance = _wells(CLUSTERS["300"](), (40.0, 40.0, 1240.0, 680.0))
    for (u, v), line in zip(pairs, route_all(pts, pairs, clearance), strict=True):
        if len(line) > 2:
            continue
        a, b = pts[u], pts[v]
        ab = b - a
        others = np.delete(pts, [u, v], axis=0)
        t = np.clip((others - a) @ ab / float(ab @ ab), 0.0, 1.0)
        gap = np.hypot(*(others - (a + t[:, None] * ab)).T).min()
        assert gap >= clearance, ((u, v), gap, clearance)
