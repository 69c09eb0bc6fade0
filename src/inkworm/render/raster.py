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

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from inkworm.render import palette as P
from inkworm.render.geometry import Geometry

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


def _channel_region(line: NDArray[np.float64], half: float, width: int,
                    height: int, clear: float = 0.0) -> Region:
    """Pixels of a channel band, without those within ``clear`` of either end (the wells)."""
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
    for k in range(len(seg)):
        if seg_len[k] == 0:
            continue
        ax, ay = line[k]
        dx, dy = seg[k]
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / (seg_len[k] ** 2), 0.0, 1.0)
        d = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
        closer = d < best_d
        best_d = np.where(closer, d, best_d)
        best_s = np.where(closer, cum[k] + t * seg_len[k], best_s)
    cover = np.clip(half - best_d + 0.5, 0.0, 1.0)
    if clear:
        for end in (line[0], line[-1]):
            cover *= np.clip(np.hypot(px - end[0], py - end[1]) - clear + 0.5, 0.0, 1.0)
    keep = cover > 0
    idx = (ys[keep] * width + xs[keep]).astype(np.int64)
    return Region(idx, (best_s[keep] / total).astype(np.float32),
                  cover[keep].astype(np.float32), total,
                  (best_d[keep] / max(half, 0.5)).astype(np.float32))


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


def _smooth(x: F32) -> F32:
    x = np.clip(x, 0.0, 1.0)
    result: F32 = x * x * (3 - 2 * x)
    return result


LAYERS = ("etch", "cut", "tint", "ink", "leak", "dye", "front", "pulse_rim", "pulse", "glow",
          "grey", "clot")


class Chip:
    """The raster chip: static substrate plus ink layers, composited into :attr:`frame`."""

    def __init__(self, geometry: Geometry, chip_box: tuple[float, float, float, float],
                 launch: str | None = None, transparent: bool = False,
                 extra_channels: Iterable[tuple[str, str]] = (),
                 background: P.RGB = P.BACKGROUND, shadow: P.RGB = P.SHADOW,
                 style: str = "ink") -> None:
        self.g = geometry
        self.style = style
        """``ink`` (dye in a moulded chip) or ``schematic`` (flat fills)."""
        w, h = geometry.width, geometry.height
        extra = set(extra_channels)
        self.base = _paint_static(geometry, chip_box, launch, transparent, extra, background,
                                  shadow)
        self.top = np.zeros_like(self.base)
        """Static overlay above the ink (well tags), straight alpha."""
        self.frame = self.base.copy()
        self.layers = {name: np.zeros(w * h, dtype=np.float32) for name in LAYERS}
        half = geometry.channel / 2
        clear = geometry.radius * 0.97
        self.channels = {key: _channel_region(line, half, w, h, clear)
                         for key, line in geometry.routes.items()}
        self.walls = {key: _channel_region(line, half + max(1.0, half * 0.55), w, h, clear)
                      for key, line in geometry.routes.items() if key in extra}
        self.wells = {n: _well_region(c, geometry.radius, w, h)
                      for n, c in geometry.centers.items()}
        self._dirty: list[I64] = []

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

    def bloom(self, node: str, progress: float, layer: str = "ink", strength: float = 1.0) -> None:
        """Ink blooming from the centre of ``node``'s well out to ``progress`` of its radius."""
        region = self.wells[node]
        core = np.float32(1.0) - np.float32(0.22) * region.param  # denser at the centre
        alpha = (region.cover * _smooth((progress * 1.15 - region.param) / 0.18) * core
                 * strength).astype(np.float32)
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
        dash = (np.floor(walls.param * walls.length / max(4.0, 2.2 * self.g.channel)) % 2) == 0
        reach = _smooth((progress - s) * max(walls.length, 1.0) / 3.0 + 0.5)
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
        target = self.layers[layer]
        if reset:
            target[idx] = alpha
        else:
            target[idx] = np.maximum(target[idx], alpha)
        self._dirty.append(idx)

    # --- compositing --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute the whole :attr:`frame` (after drawing into :attr:`base` or :attr:`top`)."""
        self._dirty = [np.arange(self.g.width * self.g.height, dtype=np.int64)]
        self.composite()

    def composite(self) -> None:
        """Recompute :attr:`frame` where layers changed since the last call."""
        if not self._dirty:
            return
        # duplicates are harmless: every copy of a pixel gets the same value
        idx = np.concatenate(self._dirty) if len(self._dirty) > 1 else self._dirty[0]
        self._dirty.clear()
        flat_base = self.base.reshape(-1, 4)
        color = flat_base[idx, :3].astype(np.float32)
        for name, rgb, opacity in P.LAYER_STYLE:
            alpha = (self.layers[name][idx] * opacity)[:, None]
            color = color * (1 - alpha) + np.asarray(rgb, dtype=np.float32) * alpha
        top = self.top.reshape(-1, 4)[idx].astype(np.float32)
        alpha = top[:, 3:4] / 255.0
        color = color * (1 - alpha) + top[:, :3] * alpha
        out = self.frame.reshape(-1, 4)
        out[idx, :3] = np.clip(color + 0.5, 0, 255).astype(np.uint8)
        out[idx, 3] = np.maximum(flat_base[idx, 3], top[:, 3].astype(np.uint8))


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
