"""The chip as pixels: a static substrate painted once, and ink layers updated in place.

The static chip (glass substrate, channel walls, wells) is drawn once with PIL, supersampled
for antialiasing. Ink lives in float layers (call ink, return dye, skip tint, the measurement's
leak, transient fronts) over precomputed pixel sets: for every channel the indices of its
interior pixels with their arc-length position and coverage, for every well its pixels with
their radius. An update touches only the pixels of the channels and wells that change, and the
output frame is recomposited only there, so a frame costs what changes, not the chip's size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from inkworm.ahead import Ahead
from inkworm.render import palette as P
from inkworm.render.geometry import Geometry
from inkworm.render.mould import LIGHT, mould, port_fitting

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
    # each (line, pixel) once: its nearest segment, the first of equally near ones
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
    k, x, y, t, dist = k[pick], x[pick], y[pick], t[pick], dist[pick]
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


def _smooth(x: NDArray[np.floating[Any]]) -> F32:
    x = np.clip(x, 0.0, 1.0)
    result: F32 = (x * x * (3 - 2 * x)).astype(np.float32, copy=False)
    return result


LAYERS = ("etch", "cut", "tint", "ink", "ghost", "leak", "dup", "dye", "front", "pulse_rim",
          "pulse", "glow", "grey", "clot")


STYLES = ("ink", "schematic")
ROUND = 2.2
"""``ink``: how far (in channel widths) the front at the centre line leads the front at the
walls (the parabolic, Poiseuille profile of flow in a channel)."""
SMEAR = (1.2, 0.45)
"""``ink``: the gradient behind the front is ``SMEAR[0]`` channel widths long plus
``SMEAR[1]`` of the distance the ink has travelled (dispersion)."""
DILUTE = 0.3
"""``ink``: the concentration at the very tip of the front."""


class Tracked:
    """A frame that counts its changes (:attr:`version`: the same number, the same pixels)
    and keeps the rows changed since a video writer last took them (:meth:`take_rows`), so
    that the writer converts only those."""

    version: int
    _height: int
    _rows: tuple[int, int] | None

    def _track(self, height: int) -> None:
        self.version, self._height, self._rows = 0, height, (0, height)

    def changed(self, box: tuple[int, int, int, int] | None = None) -> None:
        """Note a change of the frame drawn outside its composite: text over it in ``box``
        (left, top, right, bottom), or anywhere."""
        self.version += 1
        self._touched(*((box[1], box[3]) if box else (0, self._height)))

    def _touched(self, top: int, bottom: int) -> None:
        rows = self._rows
        self._rows = (top, bottom) if rows is None else (min(rows[0], top),
                                                         max(rows[1], bottom))

    def take_rows(self) -> tuple[int, int] | None:
        """The rows (top, bottom) changed since the last call; ``None``: none."""
        rows, self._rows = self._rows, None
        return rows


class Chip(Tracked):
    """The raster chip: static substrate plus ink layers, composited into :attr:`frame`."""

    def __init__(self, geometry: Geometry, chip_box: tuple[float, float, float, float],
                 launch: str | None = None, transparent: bool = False,
                 extra_channels: Iterable[tuple[str, str]] = (),
                 background: P.RGB = P.BACKGROUND, shadow: P.RGB = P.SHADOW,
                 style: str = "ink") -> None:
        if style not in STYLES:
            raise ValueError(f"unknown style {style!r} (one of {', '.join(STYLES)})")
        self.g = geometry
        self.style = style
        """``ink`` (dye in a moulded chip) or ``schematic`` (flat fills)."""
        self.ink = style == "ink"
        w, h = geometry.width, geometry.height
        extra = set(extra_channels)
        # the channels' and wells' pixels (numpy, mostly without the GIL) in a thread while
        # the chip is painted and moulded: about 0.1 s less of a 1,000-node chip's set-up
        regions = Ahead(lambda: chip_regions(geometry, extra), "inkworm-regions")
        try:
            if self.ink:  # relit as a moulded chip, so antialiased by cairo (0.2 s less here)
                self.base = mould(_paint_smooth(geometry, chip_box, transparent, extra,
                                                background, shadow),
                                  geometry, chip_box, launch, extra)
            else:  # the schematic stays the drawing from before the ink style, pixel for pixel
                self.base = _paint_static(geometry, chip_box, launch, transparent, extra,
                                          background, shadow)
            self.top = port_fitting(geometry, launch) if self.ink else np.zeros_like(self.base)
            """Static overlay above the ink (the inlet port's fitting, well tags), straight
            alpha."""
        finally:
            regions.join()
        self.frame = self.base.copy()
        self._under = self.base.reshape(-1, 4)[:, :3].copy()
        """The chip's colour below the top layer (the base and the ink), as composited last:
        where only the top layer changes (the tags), the ink is not composited again."""
        self._retopped: list[I64] = []
        """Pixels whose top layer changed since the last :meth:`composite`."""
        self.layers = {name: np.zeros(w * h, dtype=np.float32) for name in LAYERS}
        self._owner = np.zeros(w * h, dtype=np.int32)
        """Scratch for :func:`_distinct` (which occurrence of each dirty pixel is kept)."""
        self._painted: set[str] = set()
        """Layers ever painted: the others are empty everywhere and cost nothing."""
        self.channels, self.walls, self.wells = regions.take()
        self.relief: dict[str, F32] = {}
        """``ink``: per layer, a lightness shift of its colour per pixel (-1 black .. 1 white):
        the bevel of an etched channel's cut."""
        if self.ink and self.walls:
            self.relief = _etch_relief(self, w * h)
        self._grain: dict[tuple[str, str], F32] = {}
        self._dirty: list[I64] = []
        self._track(h)

    # --- painting primitives ----------------------------------------------------------------

    def channel(self, a: str, b: str) -> tuple[Region, bool]:
        """The region of channel a-b and whether its parameter runs from b to a."""
        if (a, b) in self.channels:
            return self.channels[(a, b)], False
        return self.channels[(b, a)], True

    def flow(self, layer: str, a: str, b: str, progress: float, strength: float = 1.0,
             soft_px: float = 3.0, reset: bool = False, stream: float = 0.0) -> None:
        """Fill channel a-b from ``a`` up to ``progress`` (0..1) in ``layer``.

        ``stream`` > 0 keeps the flow to a central stream of that share of the width (a second
        dye laid over ink leaves the ink visible along the walls).
        """
        region, backwards = self.channel(a, b)
        if region.idx.size == 0:
            return
        s = 1.0 - region.param if backwards else region.param
        soft = soft_px / max(region.length, 1.0)
        alpha = region.cover * _smooth((progress - s) / soft + 0.5) * strength
        if stream and region.across is not None:
            alpha = alpha * np.clip((stream - region.across) / 0.25 + 0.5, 0.0, 1.0)
        self._put(layer, region.idx, alpha, reset)

    def spread(self, a: str, b: str, progress: float, settle: float = 0.0,
               layer: str = "ink") -> None:
        """``ink``: the probe's ink pushed from ``a`` to ``progress`` of the channel to ``b``.

        The front is rounded (it leads on the centre line and lags at the walls, the parabolic
        profile of flow in a channel); behind it the concentration rises from :data:`DILUTE`
        over a gradient that grows with the distance travelled (dispersion); ``settle`` (0..1,
        after the front arrived) fills the channel to full strength.
        """
        region, backwards = self.channel(a, b)
        if region.idx.size == 0 or region.across is None:
            return
        s = 1.0 - region.param if backwards else region.param
        length = max(region.length, 1.0)
        lag = ROUND * self.g.channel / length
        front = progress * (1 + lag) - lag * region.across * region.across
        behind = front - s  # > 0 behind the front, in units of the channel's length
        smear = (SMEAR[0] * self.g.channel + SMEAR[1] * progress * length) / length
        tip = _smooth(behind * length / 1.5 + 0.5)  # the meniscus: a sharp, thin edge
        conc = DILUTE + (1 - DILUTE) * _smooth(behind / smear)
        conc = conc + (1 - conc) * settle
        grain = self.grain(a, b)
        alpha = region.cover * tip * conc * (1 - 0.05 * (1 - 0.5 * settle) * (1 + grain))
        self._put(layer, region.idx, alpha.astype(np.float32), reset=False)

    def mix(self, a: str, b: str, progress: float) -> None:
        """``ink``: the light answer dye flowing from ``a`` and mixing into the ink: a soft,
        streaked front (fingers of dye ahead, ink between them), faster on the centre line;
        the ink lingers along the walls, where the flow is slow."""
        region, backwards = self.channel(a, b)
        if region.idx.size == 0 or region.across is None:
            return
        s = 1.0 - region.param if backwards else region.param
        length = max(region.length, 1.0)
        soft = (10.0 + 0.35 * progress * length) / length
        lag = ROUND * self.g.channel / length
        fingers = self.grain(a, b) * 1.5 * self.g.channel / length
        front = progress * (1 + lag + soft) - lag * region.across ** 2 + fingers
        mixed = _smooth((front - s) / soft + 0.3)
        walls = 1 - 0.45 * _smooth((region.across - 0.45) / 0.55)
        self._put("dye", region.idx, (region.cover * mixed * walls).astype(np.float32),
                  reset=False)

    def grain(self, a: str, b: str) -> F32:
        """``ink``: a streaky texture along channel a-b (-1..1), the same on every call and in
        every process: its phases come from the channel's geometry."""
        key = (a, b) if (a, b) in self.channels else (b, a)
        if key not in self._grain:
            region, line = self.channels[key], self.g.routes[key]
            x, y = float(line[0][0]), float(line[0][1])
            phase = (np.sin(x * 12.9898 + y * 78.233) * 43758.5453) % 1.0 * 2 * np.pi
            along = region.param * region.length / max(self.g.channel, 1.0)
            u = region.across if region.across is not None else np.zeros_like(along)
            self._grain[key] = (0.55 * np.sin(along / 1.7 + 2.3 * u + phase)
                                + 0.3 * np.sin(along / 0.9 - 3.1 * u + 2 * phase)
                                + 0.15 * np.sin(along / 0.45 + 5.0 * u + 3 * phase)
                                ).astype(np.float32)
        return self._grain[key]

    def front(self, a: str, b: str, progress: float, strength: float = 1.0) -> None:
        """A dark bolus at the tip of the ink travelling a → b (transient)."""
        region, backwards = self.channel(a, b)
        if region.idx.size == 0:
            return
        s = 1.0 - region.param if backwards else region.param
        band = max(2.5 * self.g.channel, 4.0) / max(region.length, 1.0)
        alpha = region.cover * np.clip(1.0 - np.abs(progress - band / 2 - s) / (band / 2),
                                       0.0, 1.0) * strength
        self._put("front", region.idx, alpha, reset=True)

    def pulse(self, a: str, b: str, at: float) -> None:
        """A skip's probe pulse (transient): a bright capsule with a dark rim, ``at`` of the way
        from ``a`` (0 clears it). Drawn over ink, so a skip shows on an inked channel too."""
        region, backwards = self.channel(a, b)
        if region.idx.size == 0:
            return
        s = 1.0 - region.param if backwards else region.param
        half = max(2.6 * self.g.channel, 6.0) / max(region.length, 1.0)
        along = np.abs(s - at) / half  # 0 at the pulse's centre, 1 at its ends
        across = region.across if region.across is not None else np.zeros_like(along)
        shape = np.maximum(along, across * 0.8)
        on = np.float32(at > 0)
        rim = region.cover * np.clip((1.1 - shape) / 0.15, 0, 1) * on
        core = region.cover * np.clip((0.62 - np.hypot(along, across)) / 0.15, 0, 1) * on
        self._put("pulse_rim", region.idx, rim.astype(np.float32), reset=True)
        self._put("pulse", region.idx, core.astype(np.float32), reset=True)

    def clear_front(self, a: str, b: str) -> None:
        region, _ = self.channel(a, b)
        self._put("front", region.idx, np.zeros_like(region.cover), reset=True)

    def bloom(self, node: str, progress: float, layer: str = "ink", strength: float = 1.0,
              inlet: str | None = None) -> None:
        """Ink blooming in ``node``'s well to ``progress``: from its centre in ``schematic``;
        in ``ink`` from where the channel from ``inlet`` enters (from the port at the centre
        without one), with a soft edge that diffuses wider as it goes."""
        region = self.wells[node]
        if not self.ink:
            core = np.float32(1.0) - np.float32(0.22) * region.param  # denser at the centre
            alpha = (region.cover * _smooth((progress * 1.15 - region.param) / 0.18) * core
                     * strength).astype(np.float32)
            self._put(layer, region.idx, alpha, reset=False)
            return
        if inlet is None:
            dist = region.param
        else:
            cx, cy = self.g.centers[node]
            line = self.g.route(node, inlet) if self.g.has_channel(node, inlet) else \
                np.array([(cx, cy), self.g.centers[inlet]])
            way = np.asarray(line[1], dtype=np.float64) - (cx, cy)
            way = way / (float(np.hypot(*way)) or 1.0)
            r = self.g.radius
            xs = (region.idx % self.g.width + 0.5 - cx) / r
            ys = (region.idx // self.g.width + 0.5 - cy) / r
            dist = np.hypot(xs - way[0], ys - way[1]) / 2  # 0 at the inlet, 1 across
        edge = 0.12 + 0.3 * progress
        reach = progress * 1.3
        fill = _smooth((reach - dist) / edge + 0.5)
        dense = 1.0 - 0.3 * dist * (1 - progress)  # densest where the ink comes in
        alpha = (region.cover * fill * dense * strength).astype(np.float32)
        self._put(layer, region.idx, alpha, reset=False)

    def ring(self, node: str, pulse: float, layer: str = "front") -> None:
        """A transient ring at the rim of ``node``'s well (0 = off)."""
        region = self.wells[node]
        alpha = region.cover * np.clip(1 - np.abs(region.param - 0.8) / 0.22, 0, 1) * pulse
        self._put(layer, region.idx, alpha * 0.9, reset=True)

    def etch(self, a: str, b: str, progress: float) -> None:
        """Dashed warning walls of a channel made by the measurement, etched from ``a``."""
        key = (a, b) if (a, b) in self.walls else (b, a)
        walls = self.walls[key]
        inner, backwards = self.channel(a, b)
        s = 1.0 - walls.param if (key != (a, b)) else walls.param
        reach = _smooth((progress - s) * max(walls.length, 1.0) / 3.0 + 0.5)
        if self.ink:  # a cut's sides, solid (its bevel is the layer's relief)
            self._put("etch", walls.idx, walls.cover * reach, reset=False)
        else:  # dashed warning walls
            dash = (np.floor(walls.param * walls.length / max(4.0, 2.2 * self.g.channel))
                    % 2) == 0
            self._put("etch", walls.idx, walls.cover * reach * (0.3 + 0.7 * dash), reset=False)
        s_in = 1.0 - inner.param if backwards else inner.param
        reach_in = _smooth((progress - s_in) * max(inner.length, 1.0) / 3.0 + 0.5)
        self._put("cut", inner.idx, inner.cover * reach_in, reset=False)

    def grey(self, node: str) -> None:
        region = self.wells[node]
        self._put("grey", region.idx, region.cover * 0.85, reset=False)

    def clot(self, a: str, b: str, at: float = 0.5) -> None:
        """A blocked channel: a dark plug around ``at`` of its length from ``a``."""
        region, backwards = self.channel(a, b)
        if region.idx.size == 0:
            return
        s = 1.0 - region.param if backwards else region.param
        span = max(1.6 * self.g.channel, 3.0) / max(region.length, 1.0)
        alpha = region.cover * np.clip(1.2 - np.abs(s - at) / span, 0, 1)
        self._put("clot", region.idx, alpha, reset=False)

    def _put(self, layer: str, idx: I64, alpha: F32, reset: bool) -> None:
        if layer not in self._painted:
            if not alpha.any():
                return  # a layer still empty everywhere stays so: nothing changes
            self._painted.add(layer)
        target = self.layers[layer]
        old = target[idx]
        new = np.asarray(alpha, dtype=np.float32)
        if not reset:
            new = np.maximum(old, new)
        # only the pixels whose value changes are recomposited (on the bowtie, about a sixth
        # of those a step repaints): a frame where nothing changed is no new frame (version)
        changed = new != old
        if not changed.all():
            if not changed.any():
                return
            idx, new = idx[changed], new[changed]
        target[idx] = new
        self._dirty.append(idx)

    # --- compositing --------------------------------------------------------------------------

    def touch_pixels(self, idx: I64) -> None:
        """Recomposite the pixels ``idx`` (flat indices) at the next :meth:`composite`."""
        if idx.size:
            self._dirty.append(idx.astype(np.int64, copy=False))

    def touch_top(self, idx: I64) -> None:
        """Lay the top layer again over the pixels ``idx`` at the next :meth:`composite`:
        only the top layer changed there (the ink below is as composited)."""
        if idx.size:
            self._retopped.append(idx.astype(np.int64, copy=False))

    def refresh(self) -> None:
        """Recompute the whole :attr:`frame` (after drawing into :attr:`base` or :attr:`top`;
        :meth:`touch_pixels` when only some pixels were drawn)."""
        if self._painted:
            self._dirty = [np.arange(self.g.width * self.g.height, dtype=np.int64)]
        else:  # no ink yet: the base, but where the top layer draws (a chip's set-up)
            self.frame[...] = self.base
            self._under[...] = self.base.reshape(-1, 4)[:, :3]
            self.changed()
            drawn = np.flatnonzero(self.top[..., 3])
            self._dirty = [drawn] if drawn.size else []
        self.composite()

    def composite(self) -> None:
        """Recompute :attr:`frame` where layers changed since the last call (where only the
        top layer changed, it is laid again over the colour below it)."""
        topped, idx = self._take(self._retopped), self._take(self._dirty)
        if topped is None and idx is None:
            return
        self.version += 1
        if topped is not None:
            self._over_top(topped, self._under[topped])
        if idx is None:
            return
        flat_base = self.base.reshape(-1, 4)
        color = flat_base[idx, :3].astype(np.float32)
        for name, rgb, opacity in P.LAYER_STYLE:
            if name not in self._painted:
                continue
            alpha = (self.layers[name][idx] * opacity)[:, None]
            paint = np.asarray(rgb, dtype=np.float32)
            if not self.ink:
                color = color * (1 - alpha) + paint * alpha
            elif name in P.MULTIPLY:  # dye stains what is below it
                color = color * (1 - alpha + alpha * (paint * np.float32(1 / 255)))
            else:
                if name in self.relief:
                    shift = self.relief[name][idx][:, None]
                    lit = paint + np.where(shift > 0, shift * (255 - paint), shift * paint)
                    color = color * (1 - alpha) + lit * alpha
                    continue
                color = color * (1 - alpha) + paint * alpha
        under = np.clip(color + 0.5, 0, 255).astype(np.uint8)
        self._under[idx] = under
        self._over_top(idx, under)

    def _take(self, pending: list[I64]) -> I64 | None:
        """The pixels ``pending`` lists (each once: a pixel touched by several layers this
        frame is composited once, about 40 % of the touched pixels on the bowtie), its rows
        noted as changed; it is emptied. ``None``: it listed none."""
        if not pending:
            return None
        idx = _distinct(np.concatenate(pending), self._owner) if len(pending) > 1 \
            else pending[0]
        pending.clear()
        self._touched(int(idx.min()) // self.g.width, int(idx.max()) // self.g.width + 1)
        return idx

    def _over_top(self, idx: I64, under: NDArray[np.uint8]) -> None:
        """:attr:`frame` at ``idx``: the top layer over ``under`` (the colour below it)."""
        top = self.top.reshape(-1, 4)[idx]
        out = self.frame.reshape(-1, 4)
        out[idx, 3] = np.maximum(self.base.reshape(-1, 4)[idx, 3], top[:, 3])
        drawn = np.flatnonzero(top[:, 3])  # most pixels have none: the colour below, as it is
        if drawn.size:
            alpha = top[drawn, 3:4].astype(np.float32) / 255.0
            color = under[drawn] * (1 - alpha) + top[drawn, :3] * alpha
            under = under.copy()
            under[drawn] = np.clip(color + 0.5, 0, 255).astype(np.uint8)
        out[idx, :3] = under


def _distinct(idx: I64, owner: NDArray[np.int32]) -> I64:
    """``idx`` with each pixel once, in no particular order: O(len(idx)) scatters into
    ``owner`` (one slot a pixel), where sorting (``np.unique``) took 29 % of a 1,000-node
    render."""
    at = np.arange(idx.size, dtype=np.int32)
    owner[idx] = at  # the last occurrence of each pixel wins its slot
    result: I64 = idx[owner[idx] == at]
    return result


def _etch_relief(chip: Chip, size: int) -> dict[str, F32]:
    """The bevel of etched channels, lit from the top left: the cut's upper-left side in
    shadow and its lower-right side lit (both face into the cut), and the shadow the upper-left
    rim casts on the floor."""
    sides = np.zeros(size, dtype=np.float32)
    floor = np.zeros(size, dtype=np.float32)
    for key, walls in chip.walls.items():
        inner = chip.channels[key]
        if walls.side is None or walls.across is None:
            continue
        sides[walls.idx] = np.where(walls.side > 0, -0.3, -0.4) * walls.side
        if inner.side is not None and inner.across is not None:
            floor[inner.idx] = -0.2 * np.maximum(inner.side, 0) * _smooth(
                (inner.across - 0.3) / 0.7)
    return {"etch": sides, "cut": floor}


def _paint_smooth(g: Geometry, box: tuple[float, float, float, float], transparent: bool,
                  hidden: set[tuple[str, str]], background: P.RGB = P.BACKGROUND,
                  shadow: P.RGB = P.SHADOW) -> NDArray[np.uint8]:
    """:func:`_paint_static`'s substrate, walls and wells for the moulded chip, drawn with
    cairo (antialiased by coverage, where PIL drew them 2 or 3 times larger and shrank them:
    0.4 s of a 1,000-node chip, 0.2 s here). The inlet port is :func:`mould`'s."""
    import cairo

    surface = cairo.ImageSurface(cairo.FORMAT_ARGB32, g.width, g.height)
    cr = cairo.Context(surface)

    def paint(rgb: P.RGB, alpha: int = 255) -> None:
        cr.set_source_rgba(rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, alpha / 255)

    def rounded(x0: float, y0: float, x1: float, y1: float, r: float) -> None:
        r = max(min(r, (x1 - x0) / 2, (y1 - y0) / 2), 0.0)
        cr.new_sub_path()
        cr.arc(x1 - r, y0 + r, r, -math.pi / 2, 0)
        cr.arc(x1 - r, y1 - r, r, 0, math.pi / 2)
        cr.arc(x0 + r, y1 - r, r, math.pi / 2, math.pi)
        cr.arc(x0 + r, y0 + r, r, math.pi, 3 * math.pi / 2)
        cr.close_path()

    if not transparent:
        paint(background)
        cr.paint()
    left, top, right, bottom = box
    corner = int(min(right - left, bottom - top) * 0.05)
    rounded(left + 4, top + 5, right + 4, bottom + 5, corner)
    paint(shadow, 255 if not transparent else 120)
    cr.fill()
    rounded(left, top, right, bottom, corner)  # the chip's edge, 2 pixels inside its box
    paint(P.CHIP_EDGE)
    cr.fill()
    rounded(left + 2, top + 2, right - 2, bottom - 2, corner - 2)
    paint(P.SUBSTRATE)
    cr.fill()
    wall = max(1.0, g.channel * 0.28)
    cr.set_line_join(cairo.LINE_JOIN_ROUND)  # a channel's ends lie under the wells' rims
    for width, colour in ((g.channel + 2 * wall, P.WALL), (g.channel, P.CHANNEL)):
        cr.set_line_width(width)
        paint(colour)
        for key, line in g.routes.items():
            if key in hidden:
                continue
            points = line.tolist()
            cr.move_to(*points[0])
            for x, y in points[1:]:
                cr.line_to(x, y)
            cr.stroke()  # one by one: one path of every channel strokes slower
    rim = g.radius + wall * 1.4
    for radius, colour in ((rim, P.WALL), (g.radius, P.WELL)):
        for x, y in g.centers.values():
            cr.new_sub_path()
            cr.arc(x, y, radius, 0, 2 * math.pi)
        paint(colour)
        cr.fill()
    surface.flush()
    bgra = np.ndarray((g.height, surface.get_stride() // 4, 4), np.uint8,
                      surface.get_data())[:, :g.width]
    out = bgra[..., [2, 1, 0, 3]]  # RGBA, premultiplied (a copy)
    if transparent:  # straight alpha, as the chip's layers are composited
        alpha = out[..., 3:4].astype(np.float32)
        straight = out[..., :3] * (255 / np.maximum(alpha, 1))
        out[..., :3] = np.clip(straight + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)


def _paint_static(g: Geometry, box: tuple[float, float, float, float], launch: str | None,
                  transparent: bool, hidden: set[tuple[str, str]],
                  background: P.RGB = P.BACKGROUND,
                  shadow: P.RGB = P.SHADOW) -> NDArray[np.uint8]:
    """The substrate, channel walls and wells, supersampled then downsampled (antialiased)."""
    # 3x supersampling for smooth walls; 2x where there are hundreds of channels (each is
    # then a few pixels long, and drawing them dominates the chip's set-up)
    ss = 3 if g.width * g.height <= 1920 * 1080 and len(g.routes) <= 300 else 2
    w, h = g.width * ss, g.height * ss
    bg = (0, 0, 0, 0) if transparent else (*background, 255)
    image = Image.new("RGBA", (w, h), bg)
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = (v * ss for v in box)
    corner = int(min(right - left, bottom - top) * 0.05)
    draw.rounded_rectangle((left + 4 * ss, top + 5 * ss, right + 4 * ss, bottom + 5 * ss),
                           corner, fill=(*shadow, 255 if not transparent else 120))
    draw.rounded_rectangle((left, top, right, bottom), corner, fill=(*P.SUBSTRATE, 255),
                           outline=(*P.CHIP_EDGE, 255), width=max(2, ss * 2))
    wall = max(1.0, g.channel * 0.28)
    for width, colour in ((g.channel + 2 * wall, P.WALL), (g.channel, P.CHANNEL)):
        for key, line in g.routes.items():
            if key in hidden:
                continue
            pts = (line * ss).tolist()
            # its round ends would lie under the wells' rims, drawn next
            draw.line(pts, fill=(*colour, 255), width=max(1, round(width * ss)), joint="curve")
    rim = g.radius + wall * 1.4
    for node, (x, y) in g.centers.items():
        x, y = x * ss, y * ss
        r_out, r_in = rim * ss, g.radius * ss
        draw.ellipse((x - r_out, y - r_out, x + r_out, y + r_out), fill=(*P.WALL, 255))
        draw.ellipse((x - r_in, y - r_in, x + r_in, y + r_in), fill=(*P.WELL, 255))
        if node == launch:  # the inlet port where the worm is injected
            r_port = r_in * 0.32
            draw.ellipse((x - r_port, y - r_port, x + r_port, y + r_port),
                         outline=(*P.WALL, 255), width=max(1, ss))
    small = image.resize((g.width, g.height), Image.Resampling.LANCZOS)
    return np.array(small, dtype=np.uint8)
