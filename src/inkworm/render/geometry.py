"""The chip's geometry in pixels: wells, and channels routed clear of the wells.

A channel is a quadratic Bézier from well to well: straight when that passes no other well,
otherwise bent to one side, more and more, until it clears every other well (the bend that
clears is kept; if none does, the least bad one). The channels the measurement etches are
routed last and apart (:mod:`~inkworm.render.detour`). Pure numpy: no manim, no drawing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from inkworm.layout import Point
from inkworm.render.detour import Drawn, route_apart

Box = tuple[float, float, float, float]
"""Pixel rectangle (left, top, right, bottom), y down."""

_BENDS = (0.0, 0.22, -0.22, 0.4, -0.4, 0.6, -0.6, 0.85, -0.85)


@dataclass(frozen=True)
class Geometry:
    """Wells and channels of one chip, in pixels of the output frame."""

    width: int
    height: int
    centers: Mapping[str, Point]
    radius: float
    channel: float
    """Channel width (interior) in pixels."""
    routes: Mapping[tuple[str, str], NDArray[np.float64]]
    """Polyline of each channel (N x 2, from its first node to its second)."""

    def route(self, a: str, b: str) -> NDArray[np.float64]:
        """The polyline from ``a`` to ``b`` (reversed if the channel was stored b → a)."""
        if (a, b) in self.routes:
            return self.routes[(a, b)]
        return self.routes[(b, a)][::-1]

    def has_channel(self, a: str, b: str) -> bool:
        return (a, b) in self.routes or (b, a) in self.routes


def stretch(positions: Mapping[str, Point], box: Box) -> dict[str, Point]:
    """Unit-box positions into a pixel box, using all of it (used when the box is wide)."""
    left, top, right, bottom = box
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    w, h = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    sx, sy = (right - left) / w, (bottom - top) / h
    if x1 > x0 and y1 > y0:  # keep the aspect within a factor 1.6 of the original
        sx, sy = min(sx, 1.6 * sy), min(sy, 1.6 * sx)  # (a line in a row: the box's width)
    cx, cy = (left + right) / 2, (top + bottom) / 2
    return {n: (cx + (x - (x0 + x1) / 2) * sx, cy - (y - (y0 + y1) / 2) * sy)
            for n, (x, y) in positions.items()}


def min_distance(points: NDArray[np.float64]) -> float:
    """Smallest distance between two of ``points`` (chunked, O(n^2) but vectorised)."""
    if len(points) < 2:
        return math.inf
    best = math.inf
    for start in range(0, len(points), 512):
        chunk = points[start : start + 512]
        d = np.hypot(chunk[:, None, 0] - points[None, :, 0], chunk[:, None, 1] - points[None, :, 1])
        for k in range(len(chunk)):
            d[k, start + k] = np.inf
        best = min(best, float(d.min()))
    return best


def build(centers: Mapping[str, Point], edges: Iterable[tuple[str, str]], width: int,
          height: int, max_radius: float,
          apart: Iterable[tuple[str, str]] = (), bounds: Box | None = None) -> Geometry:
    """Size the wells from the closest pair, then route every channel.

    Channels in ``apart`` (the ones the measurement etches later) are routed after the others,
    crossing none where a route that does not exists and keeping a gap from them
    (:func:`~inkworm.render.detour.route_apart`). With ``bounds``, no bent channel leaves that
    box (the chip).
    """
    names = list(centers)
    pts = np.array([centers[n] for n in names], dtype=np.float64).reshape(-1, 2)
    closest = min_distance(pts)
    radius = float(np.clip(0.3 * closest, 2.0, max_radius))
    channel = max(1.2, radius * 0.34)
    index = {n: i for i, n in enumerate(names)}
    later = list(dict.fromkeys(apart))  # in the order given: routes depend on it
    skip = set(later)
    first = [(u, v) for u, v in edges if (u, v) not in skip]
    lines = route_all(pts, [(index[u], index[v]) for u, v in first], radius + channel,
                      bounds=bounds)
    routes = dict(zip(first, lines, strict=True))
    drawn = Drawn(list(routes.values()), separation=channel * 5)
    for u, v in later:  # each also keeps apart from the etched channels before it
        line = route_apart(pts, index[u], index[v], radius + channel, drawn, radius,
                           bounds=bounds, detours=len(later) <= DETOURS_UP_TO)
        if line is None:  # nothing clears the wells on the chip: the least bad bend
            line = route(pts, index[u], index[v], radius + channel, bounds=bounds)
        routes[(u, v)] = line
        drawn.add(line)
    return Geometry(width, height, dict(centers), radius, channel, routes)


def route(pts: NDArray[np.float64], u: int, v: int, clearance: float,
          bounds: Box | None = None) -> NDArray[np.float64]:
    """A polyline from well ``u`` to well ``v`` keeping ``clearance`` from every other well.

    The straight segment when it clears (exact point-to-segment distances); otherwise every
    bend at once (one array of curves against the nearby wells), the first that clears, or
    the one that comes closest to clearing.
    """
    p0, p2 = pts[u], pts[v]
    length = float(np.hypot(*(p2 - p0))) or 1.0
    straight = np.array([p0, p2])
    others = np.ones(len(pts), dtype=bool)
    others[[u, v]] = False
    lo, hi = np.minimum(p0, p2) - clearance, np.maximum(p0, p2) + clearance
    near = others & np.all((pts >= lo) & (pts <= hi), axis=1)
    if not near.any() or _segment_gap(pts[near], p0, p2) >= clearance:
        return straight
    normal = np.array([-(p2 - p0)[1], (p2 - p0)[0]]) / length
    samples = int(np.clip(length / max(clearance * 0.5, 1.0), 8, 160))
    reach = length * max(abs(b) for b in _BENDS) / 2 + clearance
    lo, hi = np.minimum(p0, p2) - reach, np.maximum(p0, p2) + reach
    obstacles = pts[others & np.all((pts >= lo) & (pts <= hi), axis=1)]
    bends = np.array(_BENDS[1:])
    t = np.linspace(0.0, 1.0, samples)[None, :, None]
    control = ((p0 + p2) / 2)[None, :] + bends[:, None] * length * normal[None, :]
    curves = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * control[:, None, :] + t**2 * p2
    if len(obstacles):
        d = np.hypot(curves[..., None, 0] - obstacles[:, 0],
                     curves[..., None, 1] - obstacles[:, 1])
        gaps = d.min(axis=(1, 2)) - clearance
    else:
        gaps = np.zeros(len(bends))
    inside = np.ones(len(bends), dtype=bool)
    if bounds is not None:  # a bend that leaves the chip does not clear
        left, top, right, bottom = bounds
        inside = ((curves[..., 0] >= left) & (curves[..., 0] <= right)
                  & (curves[..., 1] >= top) & (curves[..., 1] <= bottom)).all(axis=1)
    clear = np.nonzero((gaps >= 0) & inside)[0]
    if clear.size:
        return _decimate(curves[int(clear[0])])
    if inside.any():  # nothing clears every well: the inside bend that comes closest
        return _decimate(curves[int(np.argmax(np.where(inside, gaps, -np.inf)))])
    return straight  # every bend leaves the chip: stay on the straight line


def route_all(pts: NDArray[np.float64], pairs: list[tuple[int, int]], clearance: float,
              bounds: Box | None = None) -> list[NDArray[np.float64]]:
    """:func:`route` (without ``avoid``) of every pair at once, the same polylines: every
    segment against the wells near it, then every bend of every channel that needs one, as
    flat arrays against the wells of a grid's nearby cells (:class:`_Grid`). A channel at a
    time took 1.3 ms, most of a 1,000-node chip's set-up (1,169 of its 1,499 channels bend)."""
    if not pairs:
        return []
    uv = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    p0, p2 = pts[uv[:, 0]], pts[uv[:, 1]]
    chord = p2 - p0
    length = np.hypot(chord[:, 0], chord[:, 1])
    length[length == 0] = 1.0
    gap = _straight_gaps(pts, uv, p0, chord, length, clearance)
    out: list[NDArray[np.float64]] = [np.array([p0[i], p2[i]]) for i in range(len(uv))]
    bent = np.flatnonzero(gap < clearance)
    if not bent.size:
        return out
    # every bend of every bent channel: blocks of ``samples`` points, one block a bend
    bends = np.array(_BENDS[1:])
    nb = len(bends)
    samples = np.clip(length[bent] / max(clearance * 0.5, 1.0), 8, 160).astype(np.int64)
    sizes = np.repeat(samples, nb)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    block = np.repeat(np.arange(len(sizes)), sizes)
    j = np.arange(int(sizes.sum())) - starts[block]
    n = sizes[block]
    tt = (j * (1.0 / (n - 1)))[:, None]
    tt[j == n - 1] = 1.0  # as numpy's linspace: the last sample is exactly 1
    which = bent[block // nb]
    a, b = p0[which], p2[which]
    normal = np.stack([-chord[which, 1], chord[which, 0]], axis=1) / length[which, None]
    control = (a + b) / 2 + (bends[block % nb] * length[which])[:, None] * normal
    curves = (1 - tt) ** 2 * a + 2 * (1 - tt) * tt * control + tt**2 * b
    gaps = _bend_gaps(pts, uv, which, curves, starts, clearance)
    inside = np.ones(len(sizes), dtype=bool)
    if bounds is not None:  # a bend that leaves the chip does not clear
        left, top, right, bottom = bounds
        within = ((curves[:, 0] >= left) & (curves[:, 0] <= right)
                  & (curves[:, 1] >= top) & (curves[:, 1] <= bottom))
        inside = np.logical_and.reduceat(within, starts)
    gap_of, inside_of = gaps.reshape(-1, nb), inside.reshape(-1, nb)  # channel x bend
    clear = (gap_of >= 0) & inside_of
    best = np.where(clear.any(axis=1), np.argmax(clear, axis=1),
                    np.argmax(np.where(inside_of, gap_of, -np.inf), axis=1))
    # each bent channel's best bend, at most ``KEEP`` of its points (:func:`_decimate`), all
    # at once (a channel at a time, 70 ms of 1,169 bends); a channel whose every bend leaves
    # the chip stays on the straight line
    kept = np.flatnonzero(inside_of.any(axis=1))
    at = kept * nb + best[kept]
    index, count = _kept(sizes[at])
    points = curves[np.repeat(starts[at], count) + index]
    for i, line in zip(bent[kept], np.split(points, np.cumsum(count)[:-1]), strict=True):
        out[i] = line
    return out


def _straight_gaps(pts: NDArray[np.float64], uv: NDArray[np.int64], p0: NDArray[np.float64],
                   chord: NDArray[np.float64], length: NDArray[np.float64],
                   clearance: float) -> NDArray[np.float64]:
    """Each pair's straight segment's distance to the nearest other well (``inf`` past
    ``clearance``, where no well is looked at)."""
    # straight when no other well is within ``clearance`` of the segment: exact distances to
    # the wells near points along it, ``clearance`` apart (a well that near the segment is
    # within 1.12 ``clearance`` of one of them)
    grid = _Grid(pts, 1.2 * clearance)
    steps = np.maximum(np.ceil(length / clearance), 1).astype(np.int64) + 1
    edge = np.repeat(np.arange(len(uv)), steps)
    nth = np.arange(int(steps.sum())) - np.repeat(np.cumsum(steps) - steps, steps)
    along = p0[edge] + (nth / (steps[edge] - 1))[:, None] * chord[edge]
    probe, well = grid.near(along)
    edge = edge[probe]
    other = (well != uv[edge, 0]) & (well != uv[edge, 1])
    well, edge = well[other], edge[other]
    ab = chord[edge]
    rel = pts[well] - p0[edge]
    dot_ab = np.einsum("ij,ij->i", ab, ab)
    t = np.clip(np.einsum("ij,ij->i", rel, ab) / np.where(dot_ab == 0, 1.0, dot_ab), 0.0, 1.0)
    away = rel - t[:, None] * ab
    gap = np.full(len(uv), np.inf)
    np.minimum.at(gap, edge, np.hypot(away[:, 0], away[:, 1]))
    return gap


def _bend_gaps(pts: NDArray[np.float64], uv: NDArray[np.int64], which: NDArray[np.int64],
               curves: NDArray[np.float64], starts: NDArray[np.int64],
               clearance: float) -> NDArray[np.float64]:
    """Each bend's (a block of ``curves`` from each of ``starts``, of channel ``which``) gap
    to the nearest well that is not one of its channel's own two, less ``clearance`` (past
    ``clearance`` only whether a well is that near matters, so wells further are not looked
    at)."""
    point, well = _Grid(pts, clearance).near(curves)
    mine = which[point]
    other = (well != uv[mine, 0]) & (well != uv[mine, 1])
    point, well = point[other], well[other]
    nearest = np.full(len(curves), np.inf)
    np.minimum.at(nearest, point, np.hypot(curves[point, 0] - pts[well, 0],
                                           curves[point, 1] - pts[well, 1]))
    nearest[nearest > clearance] = np.inf
    gaps: NDArray[np.float64] = np.minimum.reduceat(nearest, starts) - clearance
    return gaps


class _Grid:
    """Points binned in square cells at least ``reach`` wide: :meth:`near` gives, for query
    points, every point within ``reach`` of each (and some a little further), from the 3 x 3
    cells around it. numpy alone: scipy's k-d tree cost half a second to import, on the way
    to a render's first frame."""

    def __init__(self, pts: NDArray[np.float64], reach: float) -> None:
        low = pts.min(axis=0) if len(pts) else np.zeros(2)
        span = (pts.max(axis=0) - low) if len(pts) else np.zeros(2)
        # at most about 4 million cells (larger cells only find more points to look at)
        self.side = max(reach, math.sqrt(float((span[0] + 1) * (span[1] + 1)) / 4e6), 1e-9)
        self.origin = low - self.side  # a margin of one cell all round
        cells = np.floor((pts - self.origin) / self.side).astype(np.int64)
        self.shape = (int(span[0] / self.side) + 3, int(span[1] / self.side) + 3)
        keys = cells[:, 0] * self.shape[1] + cells[:, 1]
        self.order = np.argsort(keys, kind="stable")
        self.count = np.bincount(keys, minlength=self.shape[0] * self.shape[1])
        self.start = np.cumsum(self.count) - self.count

    def near(self, queries: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """``(query, point)`` index pairs: each point in the cells around each query."""
        cells = np.floor((queries - self.origin) / self.side).astype(np.int64)
        width, height = self.shape
        # a query more than a cell outside the points' cells has none around it
        ok = np.flatnonzero((cells[:, 0] >= 0) & (cells[:, 0] < width)
                            & (cells[:, 1] >= 0) & (cells[:, 1] < height))
        middle = cells[ok, 0] * height + cells[ok, 1]
        found_q, found_p = [], []
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                key = np.clip(middle + (dx * height + dy), 0, width * height - 1)
                count = self.count[key]
                has = np.flatnonzero(count)
                start, count = self.start[key[has]], count[has]
                first = np.repeat(start - np.cumsum(count) + count, count)
                found_q.append(np.repeat(ok[has], count))
                found_p.append(self.order[first + np.arange(int(count.sum()))])
        return np.concatenate(found_q), np.concatenate(found_p)


def _segment_gap(points: NDArray[np.float64], a: NDArray[np.float64],
                 b: NDArray[np.float64]) -> float:
    """Smallest distance from ``points`` to the segment a-b."""
    ab = b - a
    t = np.clip(((points - a) @ ab) / float(ab @ ab or 1.0), 0.0, 1.0)
    closest = a + t[:, None] * ab
    return float(np.hypot(*(points - closest).T).min())


DETOURS_UP_TO = 16
"""A run etching at most this many channels tries detours for each (the bowtie's three, a
comparison's); a hairball's hundreds take bends alone (a detour search costs ~20 ms)."""

KEEP = 17
"""A bent channel's polyline keeps at most this many of its curve's points."""


def _decimate(line: NDArray[np.float64]) -> NDArray[np.float64]:
    """At most :data:`KEEP` points of a densely sampled curve (ends kept)."""
    decimated: NDArray[np.float64] = line[_kept(np.array([len(line)]))[0]]
    return decimated


def _kept(sizes: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """For curves of ``sizes`` points each: the points each keeps (:func:`_decimate`), as
    indices into it, the curves' one after another, and how many each keeps. A curve of
    ``KEEP`` points or fewer keeps them all; a longer one ``np.linspace(0, n - 1, KEEP)``
    rounded (its last point exactly ``n - 1``; distinct, the step being over 1)."""
    count = np.minimum(sizes, KEEP)
    j = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    n = np.repeat(sizes, count)
    index = np.where(n <= KEEP, j, np.round(j * ((n - 1) / (KEEP - 1))))
    index[np.cumsum(count) - 1] = sizes - 1
    return index.astype(np.int64), count
