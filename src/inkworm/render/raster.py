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

import numpy as np
from numpy.typing import NDArray

from inkworm.ahead import Ahead
from inkworm.render import palette as P
from inkworm.render.choices import Style, values
from inkworm.render.geometry import Geometry
from inkworm.render.looks import LOOKS
from inkworm.render.regions import Region, chip_regions, etch_relief, smoothstep
from inkworm.render.tracked import Tracked, distinct

F32 = NDArray[np.float32]
I64 = NDArray[np.int64]


LAYERS = ("etch", "cut", "tint", "ink", "ghost", "leak", "dup", "dye", "front", "pulse_rim",
          "pulse", "glow", "grey", "clot")


ROUND = 2.2
"""``ink``: how far (in channel widths) the front at the centre line leads the front at the
walls (the parabolic, Poiseuille profile of flow in a channel)."""
SMEAR = (1.2, 0.45)
"""``ink``: the gradient behind the front is ``SMEAR[0]`` channel widths long plus
``SMEAR[1]`` of the distance the ink has travelled (dispersion)."""
DILUTE = 0.3
"""``ink``: the concentration at the very tip of the front."""


class Chip(Tracked):
    """The raster chip: static substrate plus ink layers, composited into :attr:`frame`."""

    def __init__(self, geometry: Geometry, chip_box: tuple[float, float, float, float],
                 launch: str | None = None, transparent: bool = False,
                 extra_channels: Iterable[tuple[str, str]] = (),
                 background: P.RGB = P.BACKGROUND, shadow: P.RGB = P.SHADOW,
                 style: str = "ink") -> None:
        if style not in values(Style):
            raise ValueError(f"unknown style {style!r} (one of {', '.join(values(Style))})")
        self.g = geometry
        self.look = LOOKS[Style(style)]
        """How the chip looks (:mod:`~inkworm.render.looks`)."""
        w, h = geometry.width, geometry.height
        extra = set(extra_channels)
        # the channels' and wells' pixels (numpy, mostly without the GIL) in a thread while
        # the chip is painted and moulded: about 0.1 s less of a 1,000-node chip's set-up
        regions = Ahead(lambda: chip_regions(geometry, extra), "inkworm-regions")
        try:
            self.base, self.top = self.look.substrate(geometry, chip_box, launch, transparent,
                                                      extra, background, shadow)
            """(:attr:`top`: the static overlay above the ink, the inlet port's fitting and
            the well tags, straight alpha.)"""
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
        """Scratch for :func:`~inkworm.render.tracked.distinct` (which occurrence of each
        dirty pixel is kept)."""
        self._painted: set[str] = set()
        """Layers ever painted: the others are empty everywhere and cost nothing."""
        self.channels, self.walls, self.wells = regions.take()
        self.relief: dict[str, F32] = {}
        """``ink``: per layer, a lightness shift of its colour per pixel (-1 black .. 1 white):
        the bevel of an etched channel's cut."""
        if self.look.relief and self.walls:
            self.relief = etch_relief(self.channels, self.walls, w * h)
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
        alpha = region.cover * smoothstep((progress - s) / soft + 0.5) * strength
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
        tip = smoothstep(behind * length / 1.5 + 0.5)  # the meniscus: a sharp, thin edge
        conc = DILUTE + (1 - DILUTE) * smoothstep(behind / smear)
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
        mixed = smoothstep((front - s) / soft + 0.3)
        walls = 1 - 0.45 * smoothstep((region.across - 0.45) / 0.55)
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
        alpha = self.look.bloom(self, region, node, progress, strength, inlet)
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
        reach = smoothstep((progress - s) * max(walls.length, 1.0) / 3.0 + 0.5)
        self._put("etch", walls.idx, self.look.walls(self, walls, reach), reset=False)
        s_in = 1.0 - inner.param if backwards else inner.param
        reach_in = smoothstep((progress - s_in) * max(inner.length, 1.0) / 3.0 + 0.5)
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
            shift = self.relief[name][idx][:, None] if name in self.relief else None
            color = self.look.lay(color, alpha, paint, name, shift)
        under = np.clip(color + 0.5, 0, 255).astype(np.uint8)
        self._under[idx] = under
        self._over_top(idx, under)

    def _take(self, pending: list[I64]) -> I64 | None:
        """The pixels ``pending`` lists (each once: a pixel touched by several layers this
        frame is composited once, about 40 % of the touched pixels on the bowtie), its rows
        noted as changed; it is emptied. ``None``: it listed none."""
        if not pending:
            return None
        idx = distinct(np.concatenate(pending), self._owner) if len(pending) > 1 \
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
