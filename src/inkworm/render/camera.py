"""A camera that follows the ink: above :data:`FOLLOW_ABOVE` nodes the chip is drawn larger
than the frame (the world) and the frame shows a window onto it, around the step under way,
with a minimap of the whole chip in a corner; the end shows the whole chip.

The window is a plain crop of the world (no resampling: the ink, the tags and the text keep
their pixel size), so a frame costs the crop; while the camera holds still, only the rows of
the chip that changed. The camera's path is a function of timeline time alone (worked out
once from the steps' targets, each smoothed over the steps around it: it holds still while
the action stays near the window's middle and glides when it strays), so a still at time t
is the video's frame at t.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from inkworm.render import palette as P
from inkworm.render.raster import Chip
from inkworm.render.timeline import Step
from inkworm.render.tracked import Tracked

FOLLOW_ABOVE = 40
"""Clusters with more nodes than this are followed by the camera (``--camera auto``)."""
MAX_ZOOM = 2.5
SMOOTH = 1.5
"""Seconds either side over which the camera's targets are averaged (no jitter in a fast
condensed run)."""
DEAD_ZONE = 0.18
"""How far (a share of the window's width and height) the action may stray from the window's
centre before the camera moves to it: in between, the camera holds still."""
GLIDE = 0.35
"""Seconds: the time constant of the camera's glide to a new centre."""
TOP_SPEED = 0.9
"""Window widths a second, at most: no jump cuts when the action moves far."""
PATH_STEP = 1 / 60
"""Seconds of timeline between two points of the camera's path (in between: interpolated)."""
MINIMAP_EVERY = 0.5
"""Seconds of timeline between two redraws of the minimap."""
MINIMAP_SHARE = 0.26
"""The minimap's width, as a share of the window's."""


def zoom_for(nodes: int) -> float:
    """How much larger than the frame the chip is drawn for a cluster of ``nodes``."""
    return 1.0 if nodes <= FOLLOW_ABOVE else min(MAX_ZOOM, math.sqrt(nodes / FOLLOW_ABOVE))


def targets(steps: Sequence[Step], centers: Mapping[str, tuple[float, float]]
            ) -> tuple[list[float], NDArray[np.float64]]:
    """Each step's start and where the camera looks during it: the middle of its channel
    (or its well), averaged with the steps within :data:`SMOOTH` seconds."""
    starts = [s.start for s in steps]
    points = np.array([_point(s, centers) for s in steps], dtype=np.float64).reshape(-1, 2)
    if not len(points):
        return starts, points
    sums = np.vstack([[0.0, 0.0], np.cumsum(points, axis=0)])
    smooth = np.empty_like(points)
    for i, start in enumerate(starts):
        lo = bisect.bisect_left(starts, start - SMOOTH)
        hi = bisect.bisect_right(starts, start + SMOOTH)
        smooth[i] = (sums[hi] - sums[lo]) / (hi - lo)
    return starts, smooth


def camera_path(starts: Sequence[float], points: NDArray[np.float64],
                size: tuple[int, int]) -> NDArray[np.float64]:
    """Where the camera looks every :data:`PATH_STEP` seconds from time 0 until it has
    settled after the last step: it holds still while each step's target (:func:`targets`)
    stays within :data:`DEAD_ZONE` of where it looks, else it glides there (:data:`GLIDE`,
    at most :data:`TOP_SPEED`). A still camera shows ink moving on a still chip, which a
    viewer reads (and an encoder codes) far more easily than a chip drifting every frame."""
    if not len(points):
        return np.zeros((0, 2))
    w, h = size
    zone_x, zone_y = DEAD_ZONE * w, DEAD_ZONE * h
    keep = 1 - math.exp(-PATH_STEP / GLIDE)
    top = TOP_SPEED * w * PATH_STEP
    count = int((starts[-1] + 12 * GLIDE) / PATH_STEP) + 2
    out = np.empty((count, 2))
    cx, cy = (float(v) for v in points[0])
    x, y = cx, cy
    i = 0
    for k in range(count):
        t = k * PATH_STEP
        while i + 1 < len(starts) and starts[i + 1] <= t:
            i += 1
        tx, ty = float(points[i][0]), float(points[i][1])
        if abs(tx - cx) > zone_x or abs(ty - cy) > zone_y:
            cx, cy = tx, ty
        dx, dy = (cx - x) * keep, (cy - y) * keep
        far = math.hypot(dx, dy)
        if far > top:
            dx, dy = dx * top / far, dy * top / far
        x, y = x + dx, y + dy
        out[k] = x, y
    return out


def _point(step: Step, centers: Mapping[str, tuple[float, float]]) -> tuple[float, float]:
    if step.parts:  # a parallel run's wave: the middle of its fronts
        points = [_point(part, centers) for part in step.parts]
        return (sum(x for x, _ in points) / len(points), sum(y for _, y in points) / len(points))
    x, y = centers.get(step.node, (0.0, 0.0))
    if step.peer and step.peer in centers:
        px, py = centers[step.peer]
        return (x + px) / 2, (y + py) / 2
    return x, y


CORNERS = ((1, 1), (0, 1), (1, 0), (0, 0))
"""The window's corners the minimap may sit in, in order of preference: (right?, low?)."""


class Viewport(Tracked):
    """What the frame shows of a world-sized :class:`Chip`: the window (``box``, in frame
    pixels) onto it and a minimap, over a frame-sized :attr:`base` (the background and the
    static text, drawn by the board). Quacks like a chip for the board's text and for the
    camera: :attr:`base`, :attr:`frame`, :meth:`composite`."""

    def __init__(self, chip: Chip, box: tuple[int, int, int, int], base: NDArray[np.uint8],
                 steps: Sequence[Step]) -> None:
        self.chip = chip
        self.box = box
        self.base = base
        self.frame = base.copy()
        self.time = 0.0
        self.whole = False
        """Show the whole chip (the end)."""
        x0, y0, x1, y1 = box
        self.size = (x1 - x0, y1 - y0)
        self._path = camera_path(*targets(steps, chip.g.centers), self.size)
        mw = round(self.size[0] * MINIMAP_SHARE)
        self._mini_size = (mw, max(1, round(mw * chip.g.height / chip.g.width)))
        self._mini: NDArray[np.uint8] | None = None
        self._mini_at = -math.inf
        self._mini_version = -1
        self._whole: NDArray[np.uint8] | None = None
        self._opaque = bool((chip.base[..., 3] == 255).all())
        """No pixel of the chip is see-through (not ``--transparent``): its minimap is
        shrunk as RGB, in place (a quarter of a 1,000-node render's compositing as RGBA)."""
        self._track(base.shape[0])
        self._shown: tuple[object, ...] | None = None
        """What the window shows now: the chip's version, the window, the minimap's."""
        self._wells = np.array(list(chip.g.centers.values()), dtype=np.float64).reshape(-1, 2)
        self._corner = CORNERS[0]
        """Where the minimap sits in the window: a corner that covers no well it shows."""

    def focus(self, t: float) -> tuple[float, float]:
        """Where the camera looks at timeline time ``t`` (world pixels): its path
        (:func:`camera_path`), interpolated."""
        path = self._path
        if not len(path):
            return self.chip.g.width / 2, self.chip.g.height / 2
        at = min(max(t / PATH_STEP, 0.0), len(path) - 1.0)  # a path has two points or more
        k = min(int(at), len(path) - 2)
        u = at - k
        x, y = path[k] * (1 - u) + path[k + 1] * u
        return float(x), float(y)

    def window(self, t: float) -> tuple[int, int]:
        """The world pixel at the window's top-left corner at time ``t``."""
        w, h = self.size
        x, y = self.focus(t)
        left = min(max(round(x - w / 2), 0), self.chip.g.width - w)
        top = min(max(round(y - h / 2), 0), self.chip.g.height - h)
        return left, top

    def composite(self) -> None:
        """The chip's changes, then the window (or the whole chip) and the minimap; nothing
        when they show what they showed (the same chip, window and minimap)."""
        self.chip.composite()
        x0, y0, x1, y1 = self.box
        if self.whole:
            if self._whole is None:
                image = Image.fromarray(self.chip.frame).resize(self.size,
                                                                Image.Resampling.LANCZOS)
                self._whole = np.asarray(image, dtype=np.uint8)
            if self._shown != ("whole",):
                self.frame[y0:y1, x0:x1] = self._whole
                self._shown = ("whole",)
                self.changed(self.box)
            return
        left, top = self.window(self.time)
        self._refresh_minimap()
        self._corner = self._free_corner(left, top)
        shown = (self.chip.version, left, top, self._mini_version, self._corner)
        rows = self.chip.take_rows()  # the chip's rows changed since the last composite
        if shown == self._shown:
            return
        w, h = self.size
        still = self._shown is not None and self._shown[1:] == shown[1:]
        self._shown = shown
        if still and rows is not None:  # the same window and minimap: the rows that changed
            r0, r1 = max(rows[0], top), min(rows[1], top + h)
            if r1 <= r0:
                return
            self.frame[y0 + r0 - top:y0 + r1 - top, x0:x1] = \
                self.chip.frame[r0:r1, left:left + w]
            self.changed((x0, y0 + r0 - top, x1, y0 + r1 - top))
            corner = self._minimap_box()
            if y0 + r0 - top < corner[3] and corner[1] < y0 + r1 - top:
                self._minimap(left, top)  # the window's corner, copied over: drawn again
                self.changed(corner)
            return
        self.frame[y0:y1, x0:x1] = self.chip.frame[top:top + h, left:left + w]
        self._minimap(left, top)
        self.changed(self.box)

    def _refresh_minimap(self) -> None:
        """Redraw the minimap every :data:`MINIMAP_EVERY` seconds (if the chip changed)."""
        if self._mini is None or self.time - self._mini_at >= MINIMAP_EVERY or \
                self.time < self._mini_at:
            if self._mini is None or self._mini_version != self.chip.version:
                self._mini = _shrunk(self.chip.frame, self._mini_size, self._opaque)
                self._mini_version = self.chip.version
            self._mini_at = self.time

    def _minimap_box(self, corner: tuple[int, int] | None = None) -> tuple[int, int, int, int]:
        """The box the minimap and its frame cover, in the window's ``corner`` (``(1, 1)``:
        lower right; default: where it sits now)."""
        right, low = corner or self._corner
        mw, mh = self._mini_size
        x0, y0, x1, y1 = self.box
        gap = max(4, round(0.012 * (y1 - y0)))
        mx = x1 - mw - gap if right else x0 + gap + 2
        my = y1 - mh - gap if low else y0 + gap + 2
        return mx - 2, my - 2, mx + mw + 2, my + mh + 2

    def _free_corner(self, left: int, top: int) -> tuple[int, int]:
        """The corner the minimap covers no well in (the window at ``left``, ``top``): the
        one it is in while it stays free, else the first free one, else the one covering
        fewest wells (a minimap never hides a well the window shows, where a corner is free)."""
        if not len(self._wells):
            return self._corner
        x0, y0, _, _ = self.box
        r = self.chip.g.radius
        wx = self._wells[:, 0] - left + x0
        wy = self._wells[:, 1] - top + y0

        def covered(corner: tuple[int, int]) -> int:
            bx0, by0, bx1, by1 = self._minimap_box(corner)
            return int(((wx + r > bx0) & (wx - r < bx1) & (wy + r > by0) & (wy - r < by1))
                       .sum())

        if not covered(self._corner):
            return self._corner
        counts = [covered(c) for c in CORNERS]
        return CORNERS[int(np.argmin(counts))]

    def _minimap(self, left: int, top: int) -> None:
        """Draw the minimap, the window's place on it outlined."""
        assert self._mini is not None
        mini = self._mini.copy()
        mw, mh = self._mini_size
        scale = mw / self.chip.g.width
        w, h = self.size
        rx0, ry0 = int(left * scale), int(top * scale)
        rx1, ry1 = min(int((left + w) * scale), mw - 1), min(int((top + h) * scale), mh - 1)
        edge = (*P.hex_rgb("#17202b"), 255)
        mini[ry0:ry1 + 1, [rx0, rx1]] = edge
        mini[[ry0, ry1], rx0:rx1 + 1] = edge
        fx0, fy0, fx1, fy1 = self._minimap_box()
        self.frame[fy0:fy1, fx0:fx1] = (*P.hex_rgb("#17202b"), 255)
        self.frame[fy0 + 2:fy1 - 2, fx0 + 2:fx1 - 2] = mini


def _shrunk(rgba: NDArray[np.uint8], size: tuple[int, int], opaque: bool) -> NDArray[np.uint8]:
    """``rgba`` resized to ``size`` (bilinear, from a box-filtered reduction to about twice
    the size: half the time of a bilinear filter over the whole chip, for a picture a few
    hundred pixels wide). Opaque: read as RGBX straight from the array (PIL neither copies it
    nor premultiplies an alpha that is 255 everywhere)."""
    h, w = rgba.shape[:2]
    if opaque and rgba.flags.c_contiguous:
        image = Image.frombuffer("RGBX", (w, h), rgba, "raw", "RGBX", 0, 1)
        out = np.array(image.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
                       .convert("RGBA"), dtype=np.uint8)
        return out
    return np.array(Image.fromarray(rgba).resize(size, Image.Resampling.BILINEAR,
                                                 reducing_gap=2.0), dtype=np.uint8)
