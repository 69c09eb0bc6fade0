"""The chip's static picture, painted once: glass substrate, channel walls, wells and ports,
flat (``schematic``) or for the moulded look (:mod:`~inkworm.render.mould` lights it).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from inkworm.render import palette as P
from inkworm.render.geometry import Geometry

F32 = NDArray[np.float32]
I64 = NDArray[np.int64]


def paint_smooth(g: Geometry, box: tuple[float, float, float, float], transparent: bool,
                  hidden: set[tuple[str, str]], background: P.RGB = P.BACKGROUND,
                  shadow: P.RGB = P.SHADOW) -> NDArray[np.uint8]:
    """:func:`paint_static`'s substrate, walls and wells for the moulded chip, drawn with
    cairo (antialiased by coverage, where PIL drew them 2 or 3 times larger and shrank them:
    0.4 s of a 1,000-node chip, 0.2 s here). The inlet port is :func:`mould`'s."""
    import cairo

    surface = cairo.ImageSurface(cairo.FORMAT_ARGB32, g.width, g.height)
    cr = cairo.Context(surface)

    def paint(rgb: P.RGB, alpha: int = 255) -> None:
        cr.set_source_rgba(rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, alpha / 255)

    def rounded(x0: float, y0: float, x1: float, y1: float, r: float) -> None:
        _rounded(cr, x0, y0, x1, y1, r)

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
    return _rgba(surface, g.width, g.height, transparent)


def _rounded(cr: Any, x0: float, y0: float, x1: float, y1: float, r: float) -> None:
    """A rounded rectangle's path on cairo context ``cr``."""
    r = max(min(r, (x1 - x0) / 2, (y1 - y0) / 2), 0.0)
    cr.new_sub_path()
    cr.arc(x1 - r, y0 + r, r, -math.pi / 2, 0)
    cr.arc(x1 - r, y1 - r, r, 0, math.pi / 2)
    cr.arc(x0 + r, y1 - r, r, math.pi / 2, math.pi)
    cr.arc(x0 + r, y0 + r, r, math.pi, 3 * math.pi / 2)
    cr.close_path()


def _rgba(surface: Any, width: int, height: int, transparent: bool) -> NDArray[np.uint8]:
    """A cairo ARGB32 surface as an RGBA array (straight alpha when ``transparent``)."""
    surface.flush()
    bgra = np.ndarray((height, surface.get_stride() // 4, 4), np.uint8,
                      surface.get_data())[:, :width]
    out = bgra[..., [2, 1, 0, 3]]  # RGBA, premultiplied (a copy)
    if transparent:  # straight alpha, as the chip's layers are composited
        alpha = out[..., 3:4].astype(np.float32)
        straight = out[..., :3] * (255 / np.maximum(alpha, 1))
        out[..., :3] = np.clip(straight + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(out)


def paint_static(g: Geometry, box: tuple[float, float, float, float], launch: str | None,
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
