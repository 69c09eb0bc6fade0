"""The chip's geometry in pixels: wells, and channels routed clear of the wells.

A channel is a quadratic Bézier from well to well: straight when that passes no other well,
otherwise bent to one side, more and more, until it clears every other well (the bend that
clears is kept; if none does, the least bad one). Pure numpy: no manim, no drawing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from inkworm.layout import Point

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


def fit(positions: Mapping[str, Point], box: Box) -> dict[str, Point]:
    """Unit-box positions (y up) into a pixel box (y down), keeping the aspect ratio."""
    left, top, right, bottom = box
    scale = min(right - left, bottom - top)
    ox = left + (right - left - scale) / 2
    oy = top + (bottom - top - scale) / 2
    return {n: (ox + x * scale, oy + (1 - y) * scale) for n, (x, y) in positions.items()}


def stretch(positions: Mapping[str, Point], box: Box) -> dict[str, Point]:
    """Unit-box positions into a pixel box, using all of it (used when the box is wide)."""
    left, top, right, bottom = box
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    w, h = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    # keep the aspect within a factor 1.6 of the original
    sx, sy = (right - left) / w, (bottom - top) / h
    sx, sy = min(sx, 1.6 * sy), min(sy, 1.6 * sx)
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
          height: int, max_radius: float) -> Geometry:
    """Size the wells from the closest pair, then route every channel."""
    names = list(centers)
    pts = np.array([centers[n] for n in names], dtype=np.float64).reshape(-1, 2)
    closest = min_distance(pts)
    radius = float(np.clip(0.3 * closest, 2.0, max_radius))
    channel = max(1.2, radius * 0.34)
    routes = {(u, v): route(centers, pts, names, u, v, radius + channel) for u, v in edges}
    return Geometry(width, height, dict(centers), radius, channel, routes)


def _bezier(p0: NDArray[np.float64], c: NDArray[np.float64], p2: NDArray[np.float64],
            samples: int) -> NDArray[np.float64]:
    t = np.linspace(0.0, 1.0, samples)[:, None]
    result: NDArray[np.float64] = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * c + t**2 * p2
    return result


def route(centers: Mapping[str, Point], pts: NDArray[np.float64], names: list[str], u: str,
          v: str, clearance: float) -> NDArray[np.float64]:
    """A polyline from ``u`` to ``v`` that keeps ``clearance`` from every other well."""
    p0, p2 = np.array(centers[u]), np.array(centers[v])
    length = float(np.hypot(*(p2 - p0))) or 1.0
    normal = np.array([-(p2 - p0)[1], (p2 - p0)[0]]) / length
    samples = int(np.clip(length / max(clearance * 0.5, 1.0), 8, 160))
    lo = np.minimum(p0, p2) - length
    hi = np.maximum(p0, p2) + length
    near = np.all((pts >= lo) & (pts <= hi), axis=1)
    others = np.array([n not in (u, v) for n in names]) & near
    obstacles = pts[others]
    best, best_gap = None, -math.inf
    for bend in _BENDS:
        line = _bezier(p0, (p0 + p2) / 2 + normal * bend * length, p2, samples)
        if len(obstacles) == 0:
            return line
        d = np.hypot(line[:, None, 0] - obstacles[None, :, 0],
                     line[:, None, 1] - obstacles[None, :, 1])
        gap = float(d.min()) - clearance
        if gap >= 0:
            return line
        if gap > best_gap:
            best, best_gap = line, gap
    assert best is not None
    return best
