"""The chip as pixels: a static substrate painted once, and ink layers updated in place.

The static chip (glass substrate, channel walls, wells) is drawn once with PIL, supersampled
for antialiasing. Ink lives in float layers (call ink, return dye, skip tint, the measurement's
leak, transient fronts) over precomputed pixel sets: for every channel the indices of its
interior pixels with their arc-length position and coverage, for every well its pixels with
their radius. An update touches only the pixels of the channels and wells that change, and the
output frame is recomposited only there, so a frame costs what changes, not the chip's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

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


def _channel_region(line: NDArray[np.float64], half: float, width: int,
                    height: int, clear: float = 0.0, sided: bool = False) -> Region:
    """Pixels of a channel band, without those within ``clear`` of either end (the wells);
    ``sided``: also which side of the centre line each is on (:attr:`Region.side`)."""
    seg = np.diff(line, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    total = float(cum[-1]) or 1.0
    pad = half + 1.5
    x0, y0 = np.floor(line.min(axis=0) - pad).astype(int)
    x1, y1 = np.ceil(line.max(axis=0) + pad).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width - 1), min(y1, height - 1)
    if x1 < x0 or y1 < y0:
        empty = np.zeros(0, dtype=np.float32)
        return Region(np.zeros(0, dtype=np.int64), empty, empty, total)
    # candidate pixels: the band drawn by PIL (in C), a little wider than the channel
    mask = Image.new("L", (x1 - x0 + 1, y1 - y0 + 1), 0)
    ImageDraw.Draw(mask).line([(float(x) - x0, float(y) - y0) for x, y in line], fill=255,
                              width=int(np.ceil(2 * pad)) + 1, joint="curve")
    ys, xs = np.nonzero(np.asarray(mask))
    ys, xs = ys + y0, xs + x0
    px = xs + 0.5
    py = ys + 0.5
    best_d = np.full(px.shape, np.inf)
    best_s = np.zeros(px.shape)
    best_side = np.zeros(px.shape)
    for k in range(len(seg)):
        if seg_len[k] == 0:
            continue
        ax, ay = line[k]
        dx, dy = seg[k]
        # only pixels within ``pad`` of the segment's box can have it nearest (a pixel that
        # shows is nearer than ``pad`` to the line): on a long route, a few per pixel
        near = np.flatnonzero((px >= min(ax, ax + dx) - pad) & (px <= max(ax, ax + dx) + pad)
                              & (py >= min(ay, ay + dy) - pad) & (py <= max(ay, ay + dy) + pad))
        qx, qy = px[near], py[near]
        t = np.clip(((qx - ax) * dx + (qy - ay) * dy) / (seg_len[k] ** 2), 0.0, 1.0)
        d = np.hypot(qx - (ax + t * dx), qy - (ay + t * dy))
        closer = d < best_d[near]
        at = near[closer]
        best_d[at] = d[closer]
        best_s[at] = (cum[k] + t * seg_len[k])[closer]
        if sided:  # the light's side of this segment: its normal towards the top left
            normal = np.array([-dy, dx]) / seg_len[k]
            lit = float(normal @ LIGHT)
            cross = (qx - ax) * normal[0] + (qy - ay) * normal[1]
            best_side[at] = (np.sign(cross) * lit)[closer]
    cover = np.clip(half - best_d + 0.5, 0.0, 1.0)
    if clear:
        for end in (line[0], line[-1]):
            cover *= np.clip(np.hypot(px - end[0], py - end[1]) - clear + 0.5, 0.0, 1.0)
    keep = cover > 0
    idx = (ys[keep] * width + xs[keep]).astype(np.int64)
    return Region(idx, (best_s[keep] / total).astype(np.float32),
                  cover[keep].astype(np.float32), total,
                  (best_d[keep] / max(half, 0.5)).astype(np.float32),
                  best_side[keep].astype(np.float32) if sided else None)


def _well_region(center: tuple[float, float], radius: float, width: int,
                 height: int) -> Region:
    cx, cy = center
    x0, y0 = max(int(cx - radius - 2), 0), max(int(cy - radius - 2), 0)
    x1, y1 = min(int(cx + radius + 2), width - 1), min(int(cy + radius + 2), height - 1)
    ys, xs = np.mgrid[y0 : y1 + 1, x0 : x1 + 1]
    d = np.hypot(xs.ravel() + 0.5 - cx, ys.ravel() + 0.5 - cy)
    cover = np.clip(radius - d + 0.5, 0.0, 1.0)
    keep = cover > 0
    idx = (ys.ravel()[keep] * width + xs.ravel()[keep]).astype(np.int64)
    return Region(idx, (d[keep] / radius).astype(np.float32), cover[keep].astype(np.float32))


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
        self.base = _paint_static(geometry, chip_box, launch, transparent, extra, background,
                                  shadow)
        if self.ink:
            self.base = mould(self.base, geometry, chip_box, launch, extra)
        self.top = port_fitting(geometry, launch) if self.ink else np.zeros_like(self.base)
        """Static overlay above the ink (the inlet port's fitting, well tags), straight
        alpha."""
        self.frame = self.base.copy()
        self.layers = {name: np.zeros(w * h, dtype=np.float32) for name in LAYERS}
        self._owner = np.zeros(w * h, dtype=np.int32)
        """Scratch for :func:`_distinct` (which occurrence of each dirty pixel is kept)."""
        self._painted: set[str] = set()
        """Layers ever painted: the others are empty everywhere and cost nothing."""
        half = geometry.channel / 2
        clear = geometry.radius * 0.97
        self.channels = {key: _channel_region(line, half, w, h, clear, key in extra)
                         for key, line in geometry.routes.items()}
        self.walls = {key: _channel_region(line, half + max(1.0, half * 0.55), w, h, clear,
                                           True)
                      for key, line in geometry.routes.items() if key in extra}
        self.wells = {n: _well_region(c, geometry.radius, w, h)
                      for n, c in geometry.centers.items()}
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

    def touch(self, box: tuple[int, int, int, int]) -> None:
        """Recomposite the pixels of ``box`` (left, top, right, bottom; after drawing into
        :attr:`base` or :attr:`top` there) at the next :meth:`composite`."""
        x0, y0 = max(box[0], 0), max(box[1], 0)
        x1, y1 = min(box[2], self.g.width), min(box[3], self.g.height)
        if x1 <= x0 or y1 <= y0:
            return
        ys, xs = np.mgrid[y0:y1, x0:x1]
        self._dirty.append((ys * self.g.width + xs).ravel().astype(np.int64))

    def refresh(self) -> None:
        """Recompute the whole :attr:`frame` (after drawing into :attr:`base` or :attr:`top`)."""
        self._dirty = [np.arange(self.g.width * self.g.height, dtype=np.int64)]
        self.composite()

    def composite(self) -> None:
        """Recompute :attr:`frame` where layers changed since the last call."""
        if not self._dirty:
            return
        # a pixel touched by several layers this frame is composited once (about 40 % of
        # the touched pixels on the bowtie)
        idx = _distinct(np.concatenate(self._dirty), self._owner) if len(self._dirty) > 1 \
            else self._dirty[0]
        self._dirty.clear()
        self.version += 1
        self._touched(int(idx.min()) // self.g.width, int(idx.max()) // self.g.width + 1)
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
        top = self.top.reshape(-1, 4)[idx].astype(np.float32)
        alpha = top[:, 3:4] / 255.0
        color = color * (1 - alpha) + top[:, :3] * alpha
        out = self.frame.reshape(-1, 4)
        out[idx, :3] = np.clip(color + 0.5, 0, 255).astype(np.uint8)
        out[idx, 3] = np.maximum(flat_base[idx, 3], top[:, 3].astype(np.uint8))


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
            pts = [(float(x) * ss, float(y) * ss) for x, y in line]
            draw.line(pts, fill=(*colour, 255), width=max(1, round(width * ss)), joint="curve")
            r = width * ss / 2
            for x, y in (pts[0], pts[-1]):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=(*colour, 255))
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
