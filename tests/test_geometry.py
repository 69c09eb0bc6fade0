"""Channel routing: all channels at once (:func:`route_all`) draw exactly what routing them one
by one (:func:`route`) draws, and a channel left straight passes clear of every other well;
every channel's pixels at once (:func:`channel_regions`) are each band by its definition."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import GRAPHS
from inkworm import load_dot
from inkworm.gen import sparse_cluster
from inkworm.layout import layout
from inkworm.render.geometry import _Grid, build, min_distance, route, route_all, stretch
from inkworm.render.mould import LIGHT
from inkworm.render.regions import Region, channel_regions, well_regions
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


@pytest.mark.parametrize(("count", "reach", "spread"), [
    (1, 3.0, 10.0), (2, 0.5, 1000.0), (200, 4.0, 120.0), (500, 25.0, 900.0),
    (300, 0.001, 5000.0)])  # the last: more cells than the grid keeps (it takes larger ones)
def test_the_grid_finds_every_point_within_reach(count: int, reach: float,
                                                  spread: float) -> None:
    rng = np.random.default_rng(count)
    pts = rng.uniform(-spread / 3, spread, (count, 2))
    pts[: count // 4] = np.round(pts[: count // 4] / reach) * reach  # on cell borders too
    # queries on, near and far beyond the points' box, and exactly ``reach`` from points
    queries = np.concatenate([
        rng.uniform(-spread, 2 * spread, (2000, 2)),
        pts[rng.integers(0, count, 300)] + rng.uniform(-2 * reach, 2 * reach, (300, 2)),
        pts[rng.integers(0, count, 50)] + [reach, 0.0], pts[:50] - [0.0, reach]])
    query, point = _Grid(pts, reach).near(queries)
    found = set(zip(query.tolist(), point.tolist(), strict=True))
    assert len(found) == len(query)  # each pair once
    d = np.hypot(queries[:, None, 0] - pts[None, :, 0], queries[:, None, 1] - pts[None, :, 1])
    within = set(zip(*(k.tolist() for k in np.nonzero(d <= reach)), strict=True))
    assert within and within <= found
    assert len(found) < 12 * len(within) + 50 * len(queries)  # near ones, not all


def _band(line: np.ndarray, half: float, width: int, height: int, clear: float,
          sided: bool) -> Region:
    """A channel's pixels by their definition: every pixel of the frame near the line, each
    segment's distance to it, the nearest (the first of equally near) segment's position."""
    seg = np.diff(line, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    total = float(cum[-1]) or 1.0
    x0, y0 = np.maximum(np.floor(line.min(axis=0) - half - 3).astype(int), 0)
    x1 = min(int(np.ceil(line[:, 0].max() + half + 3)), width - 1)
    y1 = min(int(np.ceil(line[:, 1].max() + half + 3)), height - 1)
    ys, xs = (v.ravel() for v in np.mgrid[y0 : max(y1 + 1, y0), x0 : max(x1 + 1, x0)])
    px, py = xs + 0.5, ys + 0.5
    best_d, best_s, best_side = np.full(px.shape, np.inf), np.zeros(px.shape), np.zeros(px.shape)
    for k in range(len(seg)):
        if seg_len[k] == 0:
            continue
        (ax, ay), (dx, dy) = line[k], seg[k]
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / (seg_len[k] ** 2), 0.0, 1.0)
        d = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
        closer = d < best_d
        best_d[closer] = d[closer]
        best_s[closer] = (cum[k] + t * seg_len[k])[closer]
        nx, ny = -dy / seg_len[k], dx / seg_len[k]
        cross = (px - ax) * nx + (py - ay) * ny
        best_side[closer] = (np.sign(cross) * (nx * LIGHT[0] + ny * LIGHT[1]))[closer]
    cover = np.clip(half - best_d + 0.5, 0.0, 1.0)
    for end in (line[0], line[-1]):
        cover *= np.clip(np.hypot(px - end[0], py - end[1]) - clear + 0.5, 0.0, 1.0)
    keep = cover > 0
    order = np.argsort(ys[keep] * width + xs[keep], kind="stable")
    return Region((ys[keep] * width + xs[keep])[order].astype(np.int64),
                  (best_s[keep] / total).astype(np.float32)[order],
                  cover[keep].astype(np.float32)[order], total,
                  (best_d[keep] / max(half, 0.5)).astype(np.float32)[order],
                  best_side[keep].astype(np.float32)[order] if sided else None)


@pytest.mark.parametrize(("name", "size"), [("bowtie", (854, 480)), ("60", (1920, 1080)),
                                             ("300", (854, 480))])
@pytest.mark.parametrize("wall", [False, True])
def test_every_channel_band_at_once_is_each_band_by_its_definition(
        name: str, size: tuple[int, int], wall: bool) -> None:
    width, height = size
    topology = CLUSTERS[name]()
    # wells partly outside the frame: bands are cut at its edges
    centers = stretch(layout(topology, "spring", 0), (-30.0, 20.0, width - 60.0, height + 25.0))
    geometry = build(centers, topology.edges, width, height, max_radius=height * 0.045)
    half = geometry.channel / 2 + (max(1.0, geometry.channel * 0.275) if wall else 0.0)
    clear = geometry.radius * 0.97
    lines = list(geometry.routes.values())
    sided = [wall or k % 3 == 0 for k in range(len(lines))]
    regions = channel_regions(lines, half, width, height, clear, sided)
    assert sum(len(line) > 2 for line in lines) > 0 or name == "bowtie"
    for line, side, got in zip(lines, sided, regions, strict=True):
        want = _band(line, half, width, height, clear, side)
        assert got.length == want.length
        for field in ("idx", "param", "cover", "across", "side"):
            a, b = getattr(got, field), getattr(want, field)
            assert (a is None) == (b is None), field
            assert a is None or np.array_equal(a, b), (field, line[0], line[-1])


def _disc(center: tuple[float, float], radius: float, width: int, height: int) -> Region:
    """A well's pixels by their definition, one well at a time: a window 2 pixels past the
    disc, clipped to the frame, row by row; coverage of each pixel's centre, antialiased."""
    cx, cy = center
    x0, y0 = max(int(cx - radius - 2), 0), max(int(cy - radius - 2), 0)
    x1, y1 = min(int(cx + radius + 2), width - 1), min(int(cy + radius + 2), height - 1)
    ys, xs = np.mgrid[y0 : y1 + 1, x0 : x1 + 1]
    d = np.hypot(xs.ravel() + 0.5 - cx, ys.ravel() + 0.5 - cy)
    cover = np.clip(radius - d + 0.5, 0.0, 1.0)
    keep = cover > 0
    idx = (ys.ravel()[keep] * width + xs.ravel()[keep]).astype(np.int64)
    return Region(idx, (d[keep] / radius).astype(np.float32), cover[keep].astype(np.float32))


@pytest.mark.parametrize(("radius", "size"), [(4.47, (854, 480)), (30.0, (427, 240)),
                                              (2.0, (1920, 1080))])
def test_every_well_at_once_is_each_well_by_its_definition(radius: float,
                                                            size: tuple[int, int]) -> None:
    width, height = size
    rng = np.random.default_rng(round(radius))
    centers = [(float(x), float(y)) for x, y in rng.uniform(-radius, [width + radius,
                                                                       height + radius],
                                                            (300, 2))]
    centers += [(0.0, 0.0), (width - 0.5, height - 0.5), (10.5, 10.5)]  # edges, whole pixels
    wells = well_regions(centers, radius, width, height)
    assert len(wells) == len(centers)
    for center, well in zip(centers, wells, strict=True):
        expected = _disc(center, radius, width, height)
        for name in ("idx", "param", "cover"):
            assert np.array_equal(getattr(well, name), getattr(expected, name)), (center, name)
        assert well.idx.dtype == np.int64 and well.param.dtype == np.float32
