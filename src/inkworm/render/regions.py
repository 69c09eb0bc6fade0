"""The chip's pixel sets, computed once: for every channel the indices of its interior pixels
with their arc-length position, their place across it and their coverage, for every well its
pixels with their radius (:class:`Region`). What the ink layers are updated over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from inkworm.render.geometry import Geometry
from inkworm.render.mould import LIGHT

F32 = NDArray[np.float32]
I64 = NDArray[np.int64]


@dataclass(frozen=True)
class Region:
    """Pixels of one channel or well: flat indices, a position parameter, a coverage."""

    idx: I64
    param: F32
    """Channels: arc length from the first node, 0..1. Wells: distance from centre / radius."""
    cover: F32
    length: float = 0.0
    """Channels: length in pixels."""
    across: F32 | None = None
    """Channels: distance from the centre line / half width (0 centre, 1 wall)."""
    side: F32 | None = None
    """Channels asked ``sided``: how much the pixel's side of the centre line faces the light
    (the top left): 1 on the upper-left side of a channel running at right angles to it, -1 on
    the other side, 0 along it."""


def channel_regions(lines: list[NDArray[np.float64]], half: float, width: int, height: int,
                    clear: float = 0.0, sided: list[bool] | None = None) -> list[Region]:
    """The pixels of each channel band (a polyline ``half`` wide), without those within
    ``clear`` of either end (the wells); ``sided[i]``: also which side of the centre line each
    of line i's pixels is on (:attr:`Region.side`).

    A pixel belongs to a line when its centre is nearer than ``half + 0.5`` to it; its
    position and distance across are those of its nearest segment (the first of equally
    near ones). All lines at once, as flat arrays: every segment's candidate pixels, each
    (line, pixel) resolved by one sort. One channel at a time (a PIL-drawn band, then each
    segment's distances) took 2.3 s of a 1,000-node chip's set-up, and PIL's wide polyline
    left holes at the joints of bent channels."""
    sided = sided or [False] * len(lines)
    if not lines:
        return []
    flat, first, n_pts, a, d, owner, seg_len, cum, totals = _segments(lines)
    k, x, y, t, dist = _candidates(a, d, seg_len, half, width, height)
    k, x, y, t, dist = _nearest(owner, k, x, y, t, dist, width, height)
    c = owner[k]
    px, py = x + 0.5, y + 0.5
    best_s = cum[k] + t * seg_len[k]
    cover = np.clip(half - dist + 0.5, 0.0, 1.0)
    if clear:
        for end in (flat[first], flat[first + n_pts - 1]):
            cover *= np.clip(np.hypot(px - end[c, 0], py - end[c, 1]) - clear + 0.5, 0.0, 1.0)
    side = np.zeros(len(k))
    wants = np.array(sided, dtype=bool)[c]
    if wants.any():  # the light's side of the nearest segment: its normal to the top left
        nx, ny = -d[k, 1] / seg_len[k], d[k, 0] / seg_len[k]
        lit = nx * LIGHT[0] + ny * LIGHT[1]
        cross = (px - a[k, 0]) * nx + (py - a[k, 1]) * ny
        side = np.where(wants, np.sign(cross) * lit, 0.0)
    keep = cover > 0
    c, x, y, dist, best_s, cover, side = (v[keep] for v in (c, x, y, dist, best_s, cover, side))
    bounds = np.searchsorted(c, np.arange(len(lines) + 1))
    out = []
    for i in range(len(lines)):
        part = slice(bounds[i], bounds[i + 1])
        out.append(Region((y[part] * width + x[part]).astype(np.int64),
                          (best_s[part] / totals[i]).astype(np.float32),
                          cover[part].astype(np.float32), float(totals[i]),
                          (dist[part] / max(half, 0.5)).astype(np.float32),
                          side[part].astype(np.float32) if sided[i] else None))
    return out


def _segments(lines: list[NDArray[np.float64]]) -> tuple[NDArray[Any], ...]:
    """Every line's segments, flat: the points, each line's first point and point count, the
    segments' starts and vectors, their line, length and arc length from their line's start,
    and each line's length."""
    n_pts = np.array([len(line) for line in lines], dtype=np.int64)
    flat = np.concatenate(lines).astype(np.float64)
    first = np.concatenate([[0], np.cumsum(n_pts)[:-1]])
    # segments: every point but each line's last starts one
    start = np.ones(len(flat), dtype=bool)
    start[first + n_pts - 1] = False
    a = flat[start]
    d = flat[np.flatnonzero(start) + 1] - a
    owner = np.repeat(np.arange(len(lines)), n_pts - 1)
    seg_len = np.hypot(d[:, 0], d[:, 1])
    cum = np.empty(len(a))  # each line's arc length at its segments' starts, as its own cumsum
    totals = np.empty(len(lines))
    at = 0
    for c, count in enumerate(n_pts - 1):
        run = np.concatenate([[0.0], np.cumsum(seg_len[at : at + count])])
        cum[at : at + count] = run[:-1]
        totals[c] = float(run[-1]) or 1.0
        at += count
    return flat, first, n_pts, a, d, owner, seg_len, cum, totals


def _candidates(a: NDArray[np.float64], d: NDArray[np.float64], seg_len: NDArray[np.float64],
                half: float, width: int, height: int) -> tuple[NDArray[Any], ...]:
    """(segment, x, y, position along it, distance) of every pixel whose centre is nearer
    than ``half + 0.5`` to a segment: each segment's rows, each cut to its strip."""
    live = seg_len > 0
    # a pixel kept has its centre nearer than ``reach`` to its nearest segment: a segment's
    # candidates are the rows of its box grown by ``reach`` (in the frame), each cut to the
    # strip within ``reach`` of the segment's line
    reach = half + 0.5
    sx0 = np.maximum(np.ceil(np.minimum(a[:, 0], a[:, 0] + d[:, 0]) - reach - 0.5), 0)
    sx1 = np.minimum(np.floor(np.maximum(a[:, 0], a[:, 0] + d[:, 0]) + reach - 0.5), width - 1)
    sy0 = np.maximum(np.ceil(np.minimum(a[:, 1], a[:, 1] + d[:, 1]) - reach - 0.5), 0)
    sy1 = np.minimum(np.floor(np.maximum(a[:, 1], a[:, 1] + d[:, 1]) + reach - 0.5),
                     height - 1)
    rows = np.where(live, np.maximum(sy1 - sy0 + 1, 0), 0).astype(np.int64)
    seg_r = np.repeat(np.arange(len(a)), rows)
    y = sy0[seg_r] + (np.arange(int(rows.sum())) - np.repeat(np.cumsum(rows) - rows, rows))
    ux, uy = d[seg_r, 0] / seg_len[seg_r], d[seg_r, 1] / seg_len[seg_r]
    cy = y + 0.5 - a[seg_r, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        # |cross((x + 0.5 - ax, cy), (ux, uy))| <= reach, solved for x where uy != 0
        xa = (cy * ux - reach) / uy + a[seg_r, 0] - 0.5
        xb = (cy * ux + reach) / uy + a[seg_r, 0] - 0.5
    slant = np.abs(uy) > 1e-9
    rx0 = np.where(slant, np.maximum(np.ceil(np.minimum(xa, xb) - 1e-6), sx0[seg_r]),
                   sx0[seg_r])
    rx1 = np.where(slant, np.minimum(np.floor(np.maximum(xa, xb) + 1e-6), sx1[seg_r]),
                   sx1[seg_r])
    span = np.maximum(rx1 - rx0 + 1, 0).astype(np.int64)
    k = np.repeat(seg_r, span)
    x = rx0.astype(np.int64).repeat(span) + (np.arange(int(span.sum()))
                                             - np.repeat(np.cumsum(span) - span, span))
    y = y.astype(np.int64).repeat(span)
    px, py = x + 0.5, y + 0.5
    ax, ay, dx, dy, len2 = np.column_stack([a, d, seg_len**2])[k].T  # one gather a pair
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / len2, 0.0, 1.0)
    dist = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
    near = dist < half + 0.5  # a pixel kept has its nearest segment this near
    k, x, y, t, dist = k[near], x[near], y[near], t[near], dist[near]
    return k, x, y, t, dist


def _nearest(owner: NDArray[np.int64], k: NDArray[Any], x: NDArray[Any], y: NDArray[Any],
             t: NDArray[Any], dist: NDArray[Any], width: int,
             height: int) -> tuple[NDArray[Any], ...]:
    """Of the candidate pairs, each (line, pixel) once: with its nearest segment, the first of
    equally near ones."""
    key = owner[k] * (width * height) + y * width + x
    # a stable sort keeps each key's pairs in segment order (they were made in it), and
    # timsort runs through the keys' long sorted stretches (the rows of a segment)
    order = np.argsort(key, kind="stable")
    key, by_key = key[order], dist[order]
    group = np.ones(len(key), dtype=bool)
    group[1:] = key[1:] != key[:-1]
    number = np.cumsum(group) - 1  # each pair's key, counted
    nearest = np.minimum.reduceat(by_key, np.flatnonzero(group)) if len(key) else by_key
    hit = np.flatnonzero(by_key == nearest[number])  # pairs as near as their key's nearest
    lowest = np.ones(len(hit), dtype=bool)  # of those, the first (the lowest segment)
    lowest[1:] = number[hit[1:]] != number[hit[:-1]]
    pick = order[hit[lowest]]
    return k[pick], x[pick], y[pick], t[pick], dist[pick]


def well_regions(centers: list[tuple[float, float]], radius: float, width: int,
                 height: int) -> list[Region]:
    """Each well's pixels (its disc of ``radius``, antialiased), all wells at once: each in a
    window reaching 2 pixels past its disc, clipped to the frame, in row order."""
    c = np.array(centers, dtype=np.float64).reshape(-1, 2)
    lo = np.maximum(np.trunc(c - radius - 2), 0).astype(np.int64)
    hi = np.minimum(np.trunc(c + radius + 2).astype(np.int64), [width - 1, height - 1])
    side = max(int((hi - lo).max()) + 1, 0) if len(c) else 0
    step = np.arange(side)
    xs = lo[:, 0, None, None] + step[None, None, :]  # (well, row, column)
    ys = lo[:, 1, None, None] + step[None, :, None]
    d = np.hypot(xs + 0.5 - c[:, 0, None, None], ys + 0.5 - c[:, 1, None, None])
    cover = np.clip(radius - d + 0.5, 0.0, 1.0)
    keep = (cover > 0) & (xs <= hi[:, 0, None, None]) & (ys <= hi[:, 1, None, None])
    well, row, column = np.nonzero(keep)
    idx = ((lo[well, 1] + row) * width + lo[well, 0] + column).astype(np.int64)
    ends = np.cumsum(np.bincount(well, minlength=len(c)))[:-1]
    params = np.split((d[keep] / radius).astype(np.float32), ends)
    covers = np.split(cover[keep].astype(np.float32), ends)
    return [Region(*parts) for parts in zip(np.split(idx, ends), params, covers, strict=True)]


def chip_regions(geometry: Geometry, extra: set[tuple[str, str]]) -> tuple[
        dict[tuple[str, str], Region], dict[tuple[str, str], Region], dict[str, Region]]:
    """A chip's regions: each channel's band (``extra``: the channels the measurement etched,
    their pixels also sided), each etched channel's walls (a band wider by its cut) and each
    well's disc."""
    w, h = geometry.width, geometry.height
    half = geometry.channel / 2
    clear = geometry.radius * 0.97
    keys = list(geometry.routes)
    channels = dict(zip(keys, channel_regions(
        [geometry.routes[key] for key in keys], half, w, h, clear,
        [key in extra for key in keys]), strict=True))
    etched = [key for key in keys if key in extra]
    walls = dict(zip(etched, channel_regions(
        [geometry.routes[key] for key in etched], half + max(1.0, half * 0.55), w, h,
        clear, [True] * len(etched)), strict=True))
    wells = dict(zip(geometry.centers, well_regions(
        list(geometry.centers.values()), geometry.radius, w, h), strict=True))
    return channels, walls, wells


def smoothstep(x: NDArray[np.floating[Any]]) -> F32:
    """3x^2 - 2x^3 of ``x`` clipped to [0, 1]: a soft edge."""
    x = np.clip(x, 0.0, 1.0)
    result: F32 = (x * x * (3 - 2 * x)).astype(np.float32, copy=False)
    return result


def etch_relief(channels: dict[tuple[str, str], Region], walls_of: dict[tuple[str, str], Region],
                size: int) -> dict[str, F32]:
    """The bevel of etched channels, lit from the top left: the cut's upper-left side in
    shadow and its lower-right side lit (both face into the cut), and the shadow the upper-left
    rim casts on the floor."""
    sides = np.zeros(size, dtype=np.float32)
    floor = np.zeros(size, dtype=np.float32)
    for key, walls in walls_of.items():
        inner = channels[key]
        if walls.side is None or walls.across is None:
            continue
        sides[walls.idx] = np.where(walls.side > 0, -0.3, -0.4) * walls.side
        if inner.side is not None and inner.across is not None:
            floor[inner.idx] = -0.2 * np.maximum(inner.side, 0) * smoothstep(
                (inner.across - 0.3) / 0.7)
    return {"etch": sides, "cut": floor}
