"""Routes for the channels the measurement etches: apart from the chip's channels and each other.

An etched channel is the picture's point (an edge the measurement made), so it must read as
its own line: it crosses no channel when a route that does not exists, and keeps a gap from
every channel away from its two wells, rather than bundling with its siblings from the
launcher. Candidates are quadratic bends to either side and, while the chip is small enough
for it, cubic detours that leave and reach each well in any of 16 directions (around a well
that sits in the way, as a-e goes round f on the bowtie). Of those that clear every other well
and stay on the chip, the one with the fewest crossings wins, then one that keeps the gap,
then the shortest. Pure numpy, no dependency inside inkworm.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

SAMPLES = 48
"""Points sampled along each candidate."""

KEEP = 25
"""Points a chosen route keeps (a detour is longer than a bend: more than geometry's 17)."""

_QUADRATIC = np.linspace(-1.0, 1.0, 21)
_ANGLES = np.linspace(0.0, 2 * np.pi, 16, endpoint=False)
_REACH = (0.45, 0.8)
_PAIR_BUDGET = 20_000_000
"""Cubic detours are tried while candidate segments x nearby channel segments stay under this
(a 60-node naive run's hairball would cost seconds a channel; its quadratic bends do not)."""


class Drawn:
    """The channels drawn so far, as segments (for crossings) and as points at most a third of
    ``separation`` apart (for gaps), grown a channel at a time."""

    def __init__(self, lines: list[Array], separation: float) -> None:
        self.separation = separation
        self._segments = [_segments(line) for line in lines]
        self._points = [_dense(line, separation / 3) for line in lines]
        self._joined: tuple[Array, Array] | None = None

    def add(self, line: Array) -> None:
        self._segments.append(_segments(line))
        self._points.append(_dense(line, self.separation / 3))
        self._joined = None

    def arrays(self) -> tuple[Array, Array]:
        """(segments (M, 2, 2), points (P, 2)) of every channel drawn."""
        if self._joined is None:
            self._joined = (np.concatenate(self._segments) if self._segments
                            else np.zeros((0, 2, 2)),
                            np.concatenate(self._points) if self._points else np.zeros((0, 2)))
        return self._joined


def route_apart(pts: Array, u: int, v: int, clearance: float, drawn: Drawn,
                radius: float,
                bounds: tuple[float, float, float, float] | None,
                detours: bool = True) -> Array | None:
    """The route from well ``u`` to well ``v`` apart from ``drawn``, or None when
    no candidate clears every other well inside ``bounds``. ``detours``: try the cubic
    detours too (a few etched channels; a hairball's hundreds take the bends)."""
    p0, p2 = pts[u], pts[v]
    length = float(np.hypot(*(p2 - p0))) or 1.0
    segments, points = drawn.arrays()
    curves = _quadratics(p0, p2, length)
    near = _near(segments, curves, clearance)
    if detours and len(_ANGLES) ** 2 * len(_REACH) * (SAMPLES - 1) * len(near) <= _PAIR_BUDGET:
        curves = np.concatenate([curves, _cubics(p0, p2, length)])
        near = _near(segments, curves, clearance)
    curves = curves[_clearing(curves, pts, u, v, clearance, bounds)
                    & _no_hook(curves, p0, radius * 1.2) & _no_hook(curves[:, ::-1], p2,
                                                                    radius * 1.2)]
    if not len(curves):
        return None
    crossings = _crossings(curves, near, p0, p2, radius * 1.05)
    curves = curves[crossings == crossings.min()]
    steps = np.diff(curves, axis=1)
    curves = curves[np.argsort(np.hypot(steps[..., 0], steps[..., 1]).sum(axis=1),
                               kind="stable")]
    best = _first_apart(curves, points, p0, p2, radius * 2.5, drawn.separation)
    kept: Array = curves[best][np.round(np.linspace(0, SAMPLES - 1, KEEP)).astype(np.int64)]
    return kept


def _quadratics(p0: Array, p2: Array, length: float) -> Array:
    normal = np.array([-(p2 - p0)[1], (p2 - p0)[0]]) / length
    t = np.linspace(0.0, 1.0, SAMPLES)[None, :, None]
    control = ((p0 + p2) / 2)[None, :] + _QUADRATIC[:, None] * length * normal[None, :]
    curves: Array = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * control[:, None, :] + t**2 * p2
    return curves


def _cubics(p0: Array, p2: Array, length: float) -> Array:
    """Cubic Béziers leaving ``p0`` and reaching ``p2`` in every pair of the 16 directions."""
    way = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)
    first = np.repeat(np.arange(len(_ANGLES)), len(_ANGLES))
    second = np.tile(np.arange(len(_ANGLES)), len(_ANGLES))
    parts = []
    t = np.linspace(0.0, 1.0, SAMPLES)[None, :, None]
    for reach in _REACH:
        c1 = p0 + reach * length * way[first]
        c2 = p2 + reach * length * way[second]
        parts.append((1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * c1[:, None, :]
                     + 3 * (1 - t) * t**2 * c2[:, None, :] + t**3 * p2)
    return np.concatenate(parts)


def _segments(line: Array) -> Array:
    """Every segment of a polyline as an (M, 2, 2) array."""
    return np.stack([line[:-1], line[1:]], axis=1)


def _near(segments: Array, curves: Array, reach: float) -> Array:
    """The segments inside the candidates' bounding box (grown by ``reach``)."""
    lo = curves.min(axis=(0, 1)) - reach
    hi = curves.max(axis=(0, 1)) + reach
    keep = np.all((segments.max(axis=1) >= lo) & (segments.min(axis=1) <= hi), axis=1)
    return segments[keep]


def _clearing(curves: Array, pts: Array, u: int, v: int, clearance: float,
              bounds: tuple[float, float, float, float] | None) -> NDArray[np.bool_]:
    """Which candidates keep ``clearance`` from every other well and stay inside ``bounds``."""
    ok = np.ones(len(curves), dtype=bool)
    if bounds is not None:
        left, top, right, bottom = bounds
        ok &= ((curves[..., 0] >= left) & (curves[..., 0] <= right)
               & (curves[..., 1] >= top) & (curves[..., 1] <= bottom)).all(axis=1)
    others = np.ones(len(pts), dtype=bool)
    others[[u, v]] = False
    lo = curves.min(axis=(0, 1)) - clearance
    hi = curves.max(axis=(0, 1)) + clearance
    wells = pts[others & np.all((pts >= lo) & (pts <= hi), axis=1)]
    for well in wells:  # a well at a time: K x S, not K x S x wells
        ok &= (np.hypot(curves[..., 0] - well[0], curves[..., 1] - well[1])
               >= clearance).all(axis=1)
    return ok


def _no_hook(curves: Array, start: Array, within: float) -> NDArray[np.bool_]:
    """Which candidates, once they have left their start well (``within`` of ``start``),
    never come back into it: a detour that passes through its end well and hooks back
    into it (seen on a name@host chip) reads as a channel to nowhere."""
    inside: NDArray[np.bool_] = _reach(curves, start) < within
    left: NDArray[np.bool_] = np.cumsum(~inside, axis=1) > 0
    clean: NDArray[np.bool_] = np.asarray(~(left & inside).any(axis=1), dtype=bool)
    return clean


def _crossings(curves: Array, segments: Array, p0: Array, p2: Array,
               inside: float) -> NDArray[np.int64]:
    """How many of ``segments`` each candidate crosses, outside its two wells (where every
    channel of the well meets every other)."""
    count = np.zeros(len(curves), dtype=np.int64)
    if not len(segments):
        return count
    a, b = curves[:, :-1], curves[:, 1:]
    mid = (a + b) / 2
    out = ((_reach(mid, p0) > inside) & (_reach(mid, p2) > inside))
    c, d = segments[:, 0], segments[:, 1]
    chunk = max(1, 4_000_000 // max(1, (curves.shape[1] - 1) * len(segments)))
    for start in range(0, len(curves), chunk):
        sa, sb = a[start:start + chunk, :, None], b[start:start + chunk, :, None]
        hit = ((_side(sa, sb, c) * _side(sa, sb, d) < 0)
               & (_side(c, d, sa) * _side(c, d, sb) < 0))
        count[start:start + chunk] = (hit.any(axis=2) & out[start:start + chunk]).sum(axis=1)
    return count


def _reach(points: Array, centre: Array) -> Array:
    """Each point's distance from ``centre`` (any leading shape)."""
    reach: Array = np.hypot(points[..., 0] - centre[0], points[..., 1] - centre[1])
    return reach


def _side(a: Array, b: Array, p: Array) -> Array:
    """The sign of the turn a → b → p (the cross product's)."""
    side: Array = np.sign((b[..., 0] - a[..., 0]) * (p[..., 1] - a[..., 1])
                          - (b[..., 1] - a[..., 1]) * (p[..., 0] - a[..., 0]))
    return side


def _first_apart(curves: Array, points: Array, p0: Array, p2: Array, keep_off: float,
                 separation: float) -> int:
    """The first of ``curves`` (shortest first) keeping ``separation`` from ``points`` away
    from its two wells (within ``keep_off`` of a well, every channel of it is near every
    other); the first of all when none does."""
    if not len(points):
        return 0
    middle = (_reach(curves, p0) > keep_off) & (_reach(curves, p2) > keep_off)
    for start in range(0, len(curves), 16):
        chunk = curves[start:start + 16]
        lo = chunk.min(axis=(0, 1)) - separation
        hi = chunk.max(axis=(0, 1)) + separation
        near = points[np.all((points >= lo) & (points <= hi), axis=1)]
        if not len(near):
            return start
        d = np.hypot(chunk[..., None, 0] - near[:, 0], chunk[..., None, 1] - near[:, 1])
        close = ((d < separation).any(axis=2) & middle[start:start + 16]).any(axis=1)
        if not close.all():
            return start + int(np.argmin(close))
    return 0


def _dense(line: Array, step: float) -> Array:
    """Points along a polyline at most ``step`` apart."""
    chord = np.diff(line, axis=0)
    counts = np.maximum((np.hypot(chord[:, 0], chord[:, 1]) / max(step, 0.5)).astype(np.int64), 1)
    segment = np.repeat(np.arange(len(chord)), counts)
    t = (np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + 1) \
        / counts[segment]
    dense: Array = np.concatenate([line[:1], line[segment] + t[:, None] * chord[segment]])
    return dense
