"""Where the wells' name tags go: never over a well or the end of a channel, never outside the
chip, never over one another, and preferably off the channels.

A tag is tried at eight places around its well (north-east first), at two distances and two
sizes; the place covering the fewest channel pixels wins. The places that are never allowed
(wells, channel ends, outside the chip) are one mask painted once, read through a summed-area
table, so testing a place costs four lookups; tags already placed are a second mask.

Which tags are shown follows the story (:meth:`Labels.required`): the launcher, every node on
the call stack, the node being probed and every node the caption names are always labelled;
the others only when every node fits (small clusters keep all their names).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from inkworm.render.geometry import Geometry

Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in pixels (x1, y1 exclusive)."""

DIRECTIONS = ((1, -1), (-1, -1), (1, 1), (-1, 1), (1, 0), (-1, 0), (0, -1), (0, 1))
"""Where a tag may sit around its well, in order of preference (y grows downwards)."""

REACH = (0.0, 0.6, 1.3, 2.2, 3.5, 5.0, 7.0, 10.0)
"""How far from its well's rim a tag may sit, in tag heights (nearest first)."""
NEAR = 4
"""Tags of the less important nodes (the call stack below its top) try these many of those
distances first: long leader lines only where nothing near is free."""

SHORT = 14
"""Names longer than this are shortened on tags (the panel keeps them whole)."""


def short_names(names: Iterable[str], longest: int = SHORT) -> dict[str, str]:
    """Each node's tag text: the name; past ``longest`` characters, the part before ``@``
    when that alone tells the nodes apart, else the name cut in its middle (``worker…atch-01``,
    ``worker…atch-02``: names of one cluster tend to differ at their ends), made unique with a
    number when two would still read the same."""
    names = list(names)
    heads = [name.split("@", 1)[0] for name in names]
    unique_heads = len(set(heads)) == len(heads)
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name, head in zip(names, heads, strict=True):
        text = name
        if len(text) > longest and unique_heads and head:
            text = head
        if len(text) > longest:
            front = (longest - 1) // 2
            text = text[:front] + "\u2026" + text[len(text) - (longest - 1 - front):]
        base, n = text, 2
        while text in taken:
            text = f"{base[: longest - 2]}{n}"
            n += 1
        taken.add(text)
        out[name] = text
    return out


def _sat(mask: NDArray[np.bool_]) -> NDArray[np.int32]:
    """Summed-area table with a zero row and column in front."""
    table = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int32)
    np.cumsum(np.cumsum(mask, axis=0, dtype=np.int32), axis=1, out=table[1:, 1:])
    return table


def _sum(table: NDArray[np.int32], box: Box) -> int:
    x0, y0, x1, y1 = box
    return int(table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0])


@dataclass(frozen=True)
class Tag:
    """A tag to place: its node and its size at each of the two scales."""

    node: str
    sizes: tuple[tuple[int, int], ...]


class Labels:
    """Places tags on one chip (see the module's doc)."""

    def __init__(self, geometry: Geometry, inside: tuple[float, float, float, float],
                 sizes: Mapping[str, Sequence[tuple[int, int]]]) -> None:
        """``inside``: the box tags must stay in (the chip); ``sizes``: each node's tag
        (width, height) at full size, then smaller."""
        g = self.g = geometry
        w, h = g.width, g.height
        self.sizes = sizes
        forbidden = Image.new("1", (w, h), 1)
        draw = ImageDraw.Draw(forbidden)
        left, top, right, bottom = (round(v) for v in inside)
        draw.rectangle((left, top, right - 1, bottom - 1), fill=0)
        channels = Image.new("1", (w, h), 0)
        lane = ImageDraw.Draw(channels)
        wide = g.channel * 1.6 + 2
        end = g.radius * 1.9 + 3  # from the centre: where the channel enters the well
        for line in g.routes.values():
            points = line.tolist()
            lane.line(points, fill=1, width=max(1, round(wide)), joint="curve")
            for piece in (_near_end(line, end), _near_end(line[::-1], end)):
                draw.line(piece, fill=1, width=max(1, round(wide + 2)), joint="curve")
        pool = g.radius * 0.85  # a tag may touch a well's rim, never hide its pool
        for x, y in g.centers.values():
            draw.ellipse((x - pool, y - pool, x + pool, y + pool), fill=1)
        self.forbidden = _sat(np.asarray(forbidden, dtype=bool))
        self.channels = _sat(np.asarray(channels, dtype=bool))
        self.taken = np.zeros((h, w), dtype=bool)

        self._nodes = {node: i for i, node in enumerate(geometry.centers)}
        self._places = self._all_places()
        self._candidates: dict[str, list[tuple[float, Box, int, int]]] = {}
        """Each node's places as a list, made when the node is first placed (a 1,000-node
        chip has 250,000 places, most of its nodes never get a tag)."""

    def _all_places(self) -> tuple[NDArray[np.bool_], NDArray[np.float64],
                                   tuple[NDArray[np.int64], ...]]:
        """Every node's places: (allowed, score, (x0, y0, x1, y1)), each indexed (node,
        reach, size, direction). Near the well beats far from it, which beats small; off the
        channels beats over them. Computed for all nodes at once (numpy over the summed-area
        tables)."""
        g = self.g
        nodes = list(g.centers)
        sizes = np.array([[list(s) for s in self.sizes[n]] for n in nodes], dtype=np.float64)
        centre = np.array([g.centers[n] for n in nodes], dtype=np.float64)
        reach = g.radius * 0.8 + np.array(REACH)[None, :] * sizes[:, 0, 1][:, None]  # (n, k)
        d = np.array(DIRECTIONS, dtype=np.float64)
        slant = np.where((d[:, 0] != 0) & (d[:, 1] != 0), math.sqrt(0.5), 1.0)
        # shapes (n, k, s, d): node, reach, size, direction
        ax = centre[:, 0, None, None, None] + (d[:, 0] * slant)[None, None, None, :] * \
            reach[:, :, None, None]
        ay = centre[:, 1, None, None, None] + (d[:, 1] * slant)[None, None, None, :] * \
            reach[:, :, None, None]
        w = sizes[:, None, :, 0, None]
        h = sizes[:, None, :, 1, None]
        x0 = np.round(ax + (d[:, 0] - 1)[None, None, None, :] / 2 * w).astype(np.int64)
        y0 = np.round(ay + (d[:, 1] - 1)[None, None, None, :] / 2 * h).astype(np.int64)
        x1 = x0 + w.astype(np.int64)
        y1 = y0 + h.astype(np.int64)
        inside = (x0 >= 0) & (y0 >= 0) & (x1 <= g.width) & (y1 <= g.height)
        cx0, cy0 = np.clip(x0, 0, g.width), np.clip(y0, 0, g.height)
        cx1, cy1 = np.clip(x1, 0, g.width), np.clip(y1, 0, g.height)

        def area(table: NDArray[np.int32]) -> NDArray[np.int64]:
            total: NDArray[np.int64] = (table[cy1, cx1].astype(np.int64) - table[cy0, cx1]
                                        - table[cy1, cx0] + table[cy0, cx0])
            return total

        allowed = inside & (area(self.forbidden) == 0)
        cover = area(self.channels) / np.maximum(w * h, 1)
        rank = np.arange(1, allowed[0].size + 1).reshape(allowed.shape[1:])
        score = 0.5 * cover + 0.02 * rank[None]
        return allowed, score, (x0, y0, x1, y1)

    def candidates(self, node: str) -> list[tuple[float, Box, int, int]]:
        """``node``'s allowed places, best first: (score, box, size index, reach index)."""
        if node not in self._candidates:
            allowed, score, (x0, y0, x1, y1) = self._places
            i = self._nodes[node]
            k, z, j = np.nonzero(allowed[i])
            order = np.argsort(score[i, k, z, j], kind="stable")
            k, z, j = k[order], z[order], j[order]
            self._candidates[node] = list(zip(
                score[i, k, z, j].tolist(),
                zip(x0[i, k, z, j].tolist(), y0[i, k, z, j].tolist(),
                    x1[i, k, z, j].tolist(), y1[i, k, z, j].tolist(), strict=True),
                z.tolist(), k.tolist(), strict=True))
        return self._candidates[node]

    def far(self, node: str, box: Box) -> bool:
        """Whether a tag at ``box`` sits away from its well (it then gets a leader line)."""
        cx, cy = self.g.centers[node]
        x0, y0, x1, y1 = box
        gap = math.hypot(max(x0 - cx, 0, cx - x1), max(y0 - cy, 0, cy - y1))
        return gap > self.g.radius * 0.8 + 0.9 * (y1 - y0)

    def place(self, order: Sequence[str], near: Collection[str] = (), *,
              every: bool = False, size: int | None = None) -> dict[str, tuple[Box, int]]:
        """Tags for ``order`` (most important first), each where it is free; a node with no
        free place left is skipped (it is not in the result). Nodes in ``near`` only take
        places close to their well (no long leader lines for them). ``every``: all of
        ``order`` or none of them (the first node with no place ends the search, and the
        result is what was placed until then). ``size``: tags of that size index only."""
        self.taken[...] = False
        out: dict[str, tuple[Box, int]] = {}
        for node in order:
            limits = (NEAR, len(REACH)) if node in near else (len(REACH),)
            for limit in limits:  # near first; far (with a leader line) when nothing near
                found = self._free(node, limit, size)
                if found is not None:
                    out[node] = found
                    break
            else:
                if every:
                    return out
        return out

    def _free(self, node: str, limit: int, size: int | None = None) -> tuple[Box, int] | None:
        """The best free place for ``node``'s tag within ``limit`` distances (of ``size``
        only, when given), now taken."""
        for _, box, size_index, reach_index in self.candidates(node):
            if reach_index >= limit or (size is not None and size_index != size):
                continue
            x0, y0, x1, y1 = box
            if not self.taken[y0:y1, x0:x1].any():
                self.taken[y0:y1, x0:x1] = True
                return box, size_index
        return None


def _near_end(line: NDArray[np.float64], reach: float) -> list[tuple[float, float]]:
    """The first ``reach`` pixels of a polyline."""
    coords = line.tolist()
    points = [(coords[0][0], coords[0][1])]
    travelled = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(coords):
        step = math.hypot(x1 - x0, y1 - y0)
        if travelled + step >= reach:
            t = (reach - travelled) / step if step else 0.0
            points.append((float(x0 + t * (x1 - x0)), float(y0 + t * (y1 - y0))))
            break
        travelled += step
        points.append((float(x1), float(y1)))
    if len(points) == 1:
        points.append(points[0])
    return points
