"""The chip of ``--style ink`` as a moulded object: a height map, lit from the top left.

The flat chip (:func:`inkworm.render.substrate.paint_smooth`) is relit from one height map drawn
with PIL: the plate raised from the table, channels engraved in it, wells recessed as pools, the
launcher's inlet port drilled deeper. Slopes of the map facing the light get a highlight, the
others a shadow; a groove's floor gets the shadow its upper-left rim casts; the plate a faint
frosted grain seeded from the geometry (never from random state). Done once, at set-up.
"""

from __future__ import annotations

import zlib

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFilter

from inkworm.render.geometry import Geometry

LIGHT = np.array([-1.0, -1.0]) / np.sqrt(2.0)
"""Direction towards the light in the image plane (x right, y down): the top left."""
PORT = 0.34
"""Radius of the inlet port, as a share of the well's."""
BAND = 256
"""Rows coloured at a time (the float temporaries of a whole 4K chip are over a gigabyte)."""


def _blur(mask: Image.Image, sigma: float) -> NDArray[np.float32]:
    """A greyscale mask blurred, as floats 0..1."""
    blurred = mask.filter(ImageFilter.GaussianBlur(sigma)) if sigma > 0 else mask
    out: NDArray[np.float32] = np.asarray(blurred, dtype=np.float32) / 255.0
    return out


def seed_of(g: Geometry) -> int:
    """A seed from the geometry alone (same chip, same grain, in any process)."""
    text = ";".join(f"{x:.1f},{y:.1f}" for x, y in g.centers.values())
    return zlib.crc32(f"{g.width}x{g.height};{text}".encode())


def mould(rgba: NDArray[np.uint8], g: Geometry, box: tuple[float, float, float, float],
          launch: str | None, hidden: set[tuple[str, str]]) -> NDArray[np.uint8]:
    """``rgba`` (the flat chip) relit as a moulded one (the inlet port's fitting is
    :func:`port_fitting`, drawn above the ink)."""
    w, h = g.width, g.height
    wall = max(1.0, g.channel * 0.28)
    plate, groove, floor = (Image.new("L", (w, h), 0) for _ in range(3))
    left, top, right, bottom = box
    corner = int(min(right - left, bottom - top) * 0.05)
    ImageDraw.Draw(plate).rounded_rectangle(box, corner, fill=255)
    dg, df = ImageDraw.Draw(groove), ImageDraw.Draw(floor)
    for key, line in g.routes.items():
        if key in hidden:
            continue
        pts = line.tolist()
        for draw, width in ((dg, g.channel + 2 * wall), (df, g.channel)):
            draw.line(pts, fill=255, width=max(1, round(width)), joint="curve")
    rim = g.radius + wall * 1.4
    for x, y in g.centers.values():
        dg.ellipse((x - rim, y - rim, x + rim, y + rim), fill=255)
        df.ellipse((x - g.radius, y - g.radius, x + g.radius, y + g.radius), fill=255)
    soft = max(0.6, wall * 0.45)
    # float32 throughout (a float64 constant would make every array after it float64)
    inside = _blur(plate, 0)
    depth = 0.5 * _blur(groove, soft) + 0.5 * _blur(floor, soft)
    height = _blur(plate, max(1.0, wall * 0.8)) * 0.6 - depth
    port = None
    if launch is not None and launch in g.centers:  # the inlet port, drilled through
        port, window = _port_hole(g, launch)
        height[window] -= 1.6 * port
    gy, gx = np.gradient(height)
    # a slope facing the light is lit; scaled by the wall's width, so any resolution looks alike
    toward = np.float32(LIGHT[0]), np.float32(LIGHT[1])
    light = np.clip((gx * toward[0] + gy * toward[1]) * np.float32(-wall * 1.6), -1.0, 1.0)
    light -= 0.35 * _cast(depth, wall)
    light += _frost(g, depth)
    light *= inside
    del gx, gy, depth, height, inside
    # the colours, a band of rows at a time: whole, their float temporaries took 1.3 GB at 4K
    out = rgba.copy()
    for y0 in range(0, h, BAND):
        rows = slice(y0, y0 + BAND)
        rgb = rgba[rows, :, :3].astype(np.float32)
        lighter = light[rows, :, None]
        out[rows, :, :3] = np.clip(_lit(rgb, lighter) + 0.5, 0, 255).astype(np.uint8)
    if port is not None:  # the port's hole, dark and deep, darker where the rim shades it
        rgb = rgba[window][..., :3].astype(np.float32)
        lighter = light[window][..., None]
        drilled = port[..., None]
        hole_rgb = np.array([44, 54, 66], dtype=np.float32)
        lit = _lit(rgb, lighter) * (1 - drilled) + \
            hole_rgb * (1 + 0.6 * np.minimum(lighter, 0)) * drilled
        out[window][..., :3] = np.clip(lit + 0.5, 0, 255).astype(np.uint8)
    return out


def _cast(depth: NDArray[np.float32], wall: float) -> NDArray[np.float32]:
    """The shadow on a groove's floor that its upper-left rim casts."""
    shift = max(1, round(wall * 0.9))
    cast = depth.copy()
    cast[shift:, shift:] -= depth[:-shift, :-shift]
    np.clip(cast, 0.0, 1.0, out=cast)
    cast[depth <= 0.3] = 0.0
    return cast


def _frost(g: Geometry, depth: NDArray[np.float32]) -> NDArray[np.float32]:
    """The substrate's frosted grain (seeded by the chip: the same chip, the same grain),
    faint, and none on a groove's floor."""
    w, h = g.width, g.height
    rng = np.random.default_rng(seed_of(g))
    grain = rng.normal(0.0, 1.0, (max(h // 3, 1), max(w // 3, 1))).astype(np.float32)
    grain_img = Image.fromarray(np.clip(grain * 40 + 128, 0, 255).astype(np.uint8), "L")
    frost = np.asarray(grain_img.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32)
    frost -= 128
    frost *= (1 - depth) * np.float32(0.012 / 40)
    return frost


def _lit(rgb: NDArray[np.float32], lighter: NDArray[np.float32]) -> NDArray[np.float32]:
    """``rgb`` lit by ``lighter`` (-1 .. 1): towards white where positive, darker below 0."""
    lit: NDArray[np.float32] = np.where(lighter > 0, rgb + lighter * 0.8 * (255 - rgb),
                                        rgb * (1 + lighter * 0.4))
    return lit


def _port_hole(g: Geometry, launch: str) -> tuple[NDArray[np.float32],
                                                  tuple[slice, slice]]:
    """The inlet port's hole (0..1, blurred at its rim) and the window of the chip it is in:
    the blur reaches a few pixels, a whole chip's blur was 30 ms of a 1,000-node chip."""
    x, y = g.centers[launch]
    r = g.radius * PORT
    sigma = max(0.5, r * 0.12)
    reach = r + 6 * sigma + 4
    x0, y0 = max(int(x - reach), 0), max(int(y - reach), 0)
    x1, y1 = min(int(x + reach) + 2, g.width), min(int(y + reach) + 2, g.height)
    hole = Image.new("L", (x1 - x0, y1 - y0), 0)
    ImageDraw.Draw(hole).ellipse((x - r - x0, y - r - y0, x + r - x0, y + r - y0), fill=255)
    return _blur(hole, sigma), (slice(y0, y1), slice(x0, x1))


def port_fitting(g: Geometry, launch: str | None) -> NDArray[np.uint8]:
    """The inlet port's fitting (RGBA, straight alpha): a raised metal ring around the hole,
    lit from the top left, which the ink flows out of and never covers."""
    out = np.zeros((g.height, g.width, 4), dtype=np.uint8)
    if launch is None or launch not in g.centers:
        return out
    cx, cy = g.centers[launch]
    inner = g.radius * PORT
    outer = inner + max(1.2, g.radius * 0.16)
    x0, y0 = max(int(cx - outer - 2), 0), max(int(cy - outer - 2), 0)
    x1, y1 = min(int(cx + outer + 3), g.width), min(int(cy + outer + 3), g.height)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    dx, dy = xs + 0.5 - cx, ys + 0.5 - cy
    d = np.hypot(dx, dy)
    cover = np.clip(np.minimum(outer - d, d - inner) + 0.5, 0.0, 1.0)
    facing = (dx * LIGHT[0] + dy * LIGHT[1]) / np.maximum(d, 1e-6)
    mid = (inner + outer) / 2
    # the ring's outer slope faces out, its inner slope into the hole
    shade = np.where(d > mid, facing, -facing) * 0.55
    metal = np.array([206, 214, 222], dtype=np.float64)
    rgb = np.where(shade[..., None] > 0, metal + shade[..., None] * (255 - metal),
                   metal * (1 + shade[..., None]))
    out[y0:y1, x0:x1, :3] = np.clip(rgb + 0.5, 0, 255).astype(np.uint8)
    out[y0:y1, x0:x1, 3] = np.clip(cover * 255 + 0.5, 0, 255).astype(np.uint8)
    return out
