"""How the chip looks, one object a style behind one protocol (:class:`Look`): what the
substrate is painted as, how ink blooms in a well, how an etched channel's walls are drawn,
how a layer is laid over what is below it, and how a call's ink and an answer's dye travel.
:data:`LOOKS` holds one a :class:`~inkworm.render.choices.Style`; a new style is a class here
and an entry.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from inkworm.render import palette as P
from inkworm.render.choices import Style
from inkworm.render.geometry import Geometry
from inkworm.render.mould import mould, port_fitting
from inkworm.render.regions import Region, smoothstep
from inkworm.render.substrate import paint_smooth, paint_static

F32 = NDArray[np.float32]


class Chip(Protocol):
    """What a look draws with: the chip's geometry and its ink layers' strokes
    (:class:`inkworm.render.raster.Chip` is one)."""

    g: Geometry

    def flow(self, layer: str, a: str, b: str, progress: float, strength: float = 1.0,
             soft_px: float = 3.0, reset: bool = False, stream: float = 0.0) -> None: ...

    def spread(self, a: str, b: str, progress: float, settle: float = 0.0,
               layer: str = "ink") -> None: ...

    def mix(self, a: str, b: str, progress: float) -> None: ...

    def front(self, a: str, b: str, progress: float, strength: float = 1.0) -> None: ...

    def clear_front(self, a: str, b: str) -> None: ...


class Look(Protocol):
    style: Style
    relief: bool
    """Whether an etched channel's cut is lit (its bevel a relief on the layers)."""

    def substrate(self, g: Geometry, box: tuple[float, float, float, float], launch: str | None,
                  transparent: bool, hidden: set[tuple[str, str]], background: P.RGB,
                  shadow: P.RGB) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        """The chip's static picture and the overlay above its ink (straight alpha)."""
        ...

    def bloom(self, chip: Chip, region: Region, node: str, progress: float, strength: float,
              inlet: str | None) -> F32:
        """The alpha of ink blooming in ``node``'s well to ``progress``."""
        ...

    def walls(self, chip: Chip, walls: Region, reach: F32) -> F32:
        """The alpha of an etched channel's walls, etched to ``reach``."""
        ...

    def lay(self, color: F32, alpha: F32, paint: F32, layer: str,
            shift: F32 | None) -> F32:
        """``layer`` (``paint`` at ``alpha``, lit by ``shift`` where it has relief) over
        ``color``."""
        ...

    def call(self, chip: Chip, node: str, peer: str, reach: float, filling: float, layer: str,
             moving: bool) -> None:
        """A call's ink down channel node-peer to ``reach`` (``moving``: its front still
        travels)."""
        ...

    def answer(self, chip: Chip, node: str, peer: str, progress: float) -> None:
        """An answer's dye flowing back up channel node-peer."""
        ...


class InkLook:
    """Dye in a moulded chip: a lit substrate, ink that spreads and mixes, cut channels."""

    style = Style.INK
    relief = True

    def substrate(self, g: Geometry, box: tuple[float, float, float, float], launch: str | None,
                  transparent: bool, hidden: set[tuple[str, str]], background: P.RGB,
                  shadow: P.RGB) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        # relit as a moulded chip, so antialiased by cairo (0.2 s less here)
        base = mould(paint_smooth(g, box, transparent, hidden, background, shadow), g, box,
                     launch, hidden)
        return base, port_fitting(g, launch)

    def bloom(self, chip: Chip, region: Region, node: str, progress: float, strength: float,
              inlet: str | None) -> F32:
        """From where the channel from ``inlet`` enters (from the port at the centre without
        one), with a soft edge that diffuses wider as it goes."""
        g = chip.g
        if inlet is None:
            dist = region.param
        else:
            cx, cy = g.centers[node]
            line = g.route(node, inlet) if g.has_channel(node, inlet) else \
                np.array([(cx, cy), g.centers[inlet]])
            way = np.asarray(line[1], dtype=np.float64) - (cx, cy)
            way = way / (float(np.hypot(*way)) or 1.0)
            xs = (region.idx % g.width + 0.5 - cx) / g.radius
            ys = (region.idx // g.width + 0.5 - cy) / g.radius
            dist = np.hypot(xs - way[0], ys - way[1]) / 2  # 0 at the inlet, 1 across
        edge = 0.12 + 0.3 * progress
        fill = smoothstep((progress * 1.3 - dist) / edge + 0.5)
        dense = 1.0 - 0.3 * dist * (1 - progress)  # densest where the ink comes in
        alpha: F32 = (region.cover * fill * dense * strength).astype(np.float32)
        return alpha

    def walls(self, chip: Chip, walls: Region, reach: F32) -> F32:
        wall: F32 = walls.cover * reach  # a cut's sides, solid (its bevel is the relief)
        return wall

    def lay(self, color: F32, alpha: F32, paint: F32, layer: str,
            shift: F32 | None) -> F32:
        if layer in P.MULTIPLY:  # dye stains what is below it
            stained: F32 = color * (1 - alpha + alpha * (paint * np.float32(1 / 255)))
            return stained
        if shift is not None:
            paint = paint + np.where(shift > 0, shift * (255 - paint), shift * paint)
        laid: F32 = color * (1 - alpha) + paint * alpha
        return laid

    def call(self, chip: Chip, node: str, peer: str, reach: float, filling: float, layer: str,
             moving: bool) -> None:
        # dye pushed down the channel: no bolus, the front is the dye's
        chip.spread(node, peer, reach, settle=filling, layer=layer)

    def answer(self, chip: Chip, node: str, peer: str, progress: float) -> None:
        chip.mix(node, peer, progress)  # the answer mixes into the whole channel


class SchematicLook:
    """Flat fills, the drawing from before the ink style, pixel for pixel."""

    style = Style.SCHEMATIC
    relief = False

    def substrate(self, g: Geometry, box: tuple[float, float, float, float], launch: str | None,
                  transparent: bool, hidden: set[tuple[str, str]], background: P.RGB,
                  shadow: P.RGB) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        base = paint_static(g, box, launch, transparent, hidden, background, shadow)
        return base, np.zeros_like(base)

    def bloom(self, chip: Chip, region: Region, node: str, progress: float, strength: float,
              inlet: str | None) -> F32:
        """From the well's centre, denser there."""
        core = np.float32(1.0) - np.float32(0.22) * region.param
        alpha: F32 = (region.cover * smoothstep((progress * 1.15 - region.param) / 0.18) * core
                      * strength).astype(np.float32)
        return alpha

    def walls(self, chip: Chip, walls: Region, reach: F32) -> F32:
        dash = (np.floor(walls.param * walls.length / max(4.0, 2.2 * chip.g.channel)) % 2) == 0
        wall: F32 = walls.cover * reach * (0.3 + 0.7 * dash)  # dashed warning walls
        return wall

    def lay(self, color: F32, alpha: F32, paint: F32, layer: str,
            shift: F32 | None) -> F32:
        laid: F32 = color * (1 - alpha) + paint * alpha
        return laid

    def call(self, chip: Chip, node: str, peer: str, reach: float, filling: float, layer: str,
             moving: bool) -> None:
        chip.flow(layer, node, peer, reach)
        if moving:
            chip.front(node, peer, reach)
        else:
            chip.clear_front(node, peer)

    def answer(self, chip: Chip, node: str, peer: str, progress: float) -> None:
        chip.flow("dye", node, peer, progress, soft_px=14.0)


LOOKS: dict[Style, Look] = {Style.INK: InkLook(), Style.SCHEMATIC: SchematicLook()}
"""The look of each style."""
