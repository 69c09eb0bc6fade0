"""The wells' name tags on one chip: all of them when they fit (in one size), else the ones the
story is about now, each where the placer (:mod:`~inkworm.render.labels`) finds it room, with
a leader line to a tag set away from its well. Drawn on the chip's top layer, redrawing only
the tags that change.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from inkworm.fold import RunState, visit_order
from inkworm.render import hud
from inkworm.render import palette as P
from inkworm.render.frame import Frame, measure_tags, tag_fonts
from inkworm.render.labels import Box, Labels, short_names
from inkworm.render.raster import Chip
from inkworm.render.steps import Step
from inkworm.topology import Topology
from inkworm.trace import Trace
from inkworm.views import event_nodes


class Tags:
    """The tags shown on one chip (:attr:`tags`: each node's box and size index)."""

    def __init__(self, chip: Chip, f: Frame, world: tuple[float, float, float, float],
                 topology: Topology, trace: Trace,
                 measured: Mapping[str, list[tuple[int, int]]] | None = None) -> None:
        """Every node's tag if all fit (drawn once); else the tags follow the story
        (:meth:`retag`): see :mod:`inkworm.render.labels`. ``measured``: the tags' sizes,
        :func:`~inkworm.render.frame.measure_tags` of this topology and frame."""
        self.chip, self.f, self.trace = chip, f, trace
        self.launch = trace.header.launch
        g = chip.g
        self.names = short_names(topology.nodes)
        self.sizes = tag_fonts(f)
        """A tag's font size at each of the placer's size indices (drawn when first shown)."""
        measured = measured or measure_tags(topology, f)
        left, top, right, bottom = world
        self.tagger = Labels(g, (left + 3, top + 3, right - 3, bottom - 3),
                             {node: measured[node] for node in g.centers})
        order = list(dict.fromkeys([self.launch, *visit_order(self.trace),
                                    *topology.nodes]))
        self.tags: dict[str, tuple[Box, int]] = {}
        """The tags shown: each node's box and size."""
        self.top = self.chip.top.copy()  # the chip's own top layer, before any tag
        self._drawn: dict[str, Box] = {}
        self.leaders: dict[tuple[str, Box], tuple[hud.TextBlock, int, int, Box]] = {}
        self._footprints: dict[tuple[str, Box], NDArray[np.int64]] = {}
        wanted = [n for n in order if n in g.centers]
        near = set(g.centers) - {self.launch}
        everyone = self.tagger.place(wanted, near=near, every=True)
        self.all_tagged = len(everyone) == len(g.centers)
        if self.all_tagged and len({size for _, size in everyone.values()}) > 1:
            # tags in one size, the largest at which they all fit (mixed sizes read as a
            # tag cloud): the mixed placement only where no single size fits them all
            for k, font in enumerate(self.sizes):
                one = Labels(g, (left + 3, top + 3, right - 3, bottom - 3),
                             {node: [measured[node][k]] for node in g.centers})
                placed = one.place(wanted, near=near, every=True)
                if len(placed) == len(g.centers):
                    self.tagger, everyone = one, placed
                    self.sizes = (font, font, font, font)
                    break
        self.set(everyone if self.all_tagged else
                       self.tagger.place([self.launch] if self.launch in g.centers else []))
        self._events = {e.seq: e for e in self.trace.events}
        names = sorted(g.centers, key=len, reverse=True)
        self.named = re.compile(r"(?<![\w@.-])(" + "|".join(map(re.escape, names)) +
                                 r")(?![\w@.-])")
        """Finds the nodes a caption names (a condensed caption names other steps' nodes)."""

    def retag(self, step: Step, state: RunState) -> None:
        """Tag what the story is about now: the launcher, the node probed, the nodes the
        caption names, the call stack (its top first)."""
        if self.all_tagged:
            return
        named = [*self.named.findall(step.caption),
                 *(n for seq in step.seqs if seq in self._events
                   for n in event_nodes(self._events[seq]))]
        order = [self.launch, step.node, step.peer or "", *named, *reversed(state.stack)]
        wanted = [n for n in dict.fromkeys(order) if n in self.chip.g.centers]
        primary = {self.launch, step.node, step.peer, *named}
        self.set(one_size(self.tagger, wanted, [n for n in wanted if n not in primary]))

    def set(self, tags: dict[str, tuple[Box, int]]) -> None:
        """Draw ``tags`` on the chip's top layer (a leader line to a tag set away from its
        well), in place of the ones shown. What shows depends on the tags alone, never on the
        ones before: the tags that change are redrawn, with every tag whose pixels meet
        theirs, over what the chip had there; the others stay as drawn (the same pixels as
        redrawing them all, overlapping tags in the same order)."""
        if tags == self.tags and len(self._drawn) == len(tags):
            return
        top = self.chip.top
        flat, below = top.reshape(-1, 4), self.top.reshape(-1, 4)
        before = top.copy()
        kept = [n for n, place in self.tags.items() if tags.get(n) == place and n in self._drawn]
        stays = set(kept)
        dirty = np.zeros(len(flat), dtype=bool)
        if kept != [n for n in tags if n in stays]:
            # the story reordered the tags that stay: where two of them meet, the one drawn
            # last shows; the pixels where that changes are redrawn (and so the tags there)
            prints = [self._footprint(n, tags[n][0]) for n in kept]
            pixels = np.concatenate(prints)
            owner = np.repeat(np.arange(len(kept)), [len(p) for p in prints])
            shared = np.bincount(pixels, minlength=len(flat))[pixels] > 1
            pixels, owner = pixels[shared], owner[shared]
            order = np.lexsort((owner, pixels))  # each pixel's tags in their old order
            pixels, owner = pixels[order], owner[order]
            rank = {n: i for i, n in enumerate(n for n in tags if n in stays)}
            new = np.array([rank[n] for n in kept], dtype=np.int64)[owner]
            swapped = (pixels[1:] == pixels[:-1]) & (new[1:] < new[:-1])
            dirty[pixels[1:][swapped]] = True
        for node, (box, _) in self.tags.items():
            if node not in stays and node in self._drawn:
                dirty[self._footprint(node, box)] = True
        for node, (box, _) in tags.items():
            if node not in stays:
                dirty[self._footprint(node, box)] = True
        grown = True
        while grown:  # a tag that stays but meets a redrawn one is redrawn too
            grown = False
            for node in [n for n in kept if n in stays]:
                pixels = self._footprint(node, tags[node][0])
                if dirty[pixels].any():
                    stays.discard(node)
                    dirty[pixels] = True
                    grown = True
        again = np.flatnonzero(dirty)
        flat[again] = below[again]  # what the chip had there (a port)
        for node, (box, size) in tags.items():
            if node in stays:
                continue
            drawn = self._leader(node, box) if self.tagger.far(node, box) else box
            hud.blit(top, hud.tag(self.names[node], self.sizes[size]), box[0], box[1])
            self._drawn[node] = drawn
        self._drawn = {n: self._drawn[n] for n in tags}
        self.tags = dict(tags)
        # recomposite only the pixels that changed: most tags stay where they were, and a
        # leader's box is mostly empty (the boxes were 29 million pixels of a 1,000-node
        # render's compositing, the ink 0.75 million)
        self.chip.touch_top(np.flatnonzero(top.view(np.uint32) != before.view(np.uint32)))

    def _footprint(self, node: str, box: Box) -> NDArray[np.int64]:
        """The pixels (flat indices into the chip) drawing ``node``'s tag at ``box`` may
        change: its pill's box and its leader line's pixels."""
        if (node, box) not in self._footprints:
            width, height = self.chip.g.width, self.chip.g.height
            parts = [_box_pixels(box, width, height)]
            if self.tagger.far(node, box):
                self._covers(node, box)
                patch, left, upper, _ = self.leaders[(node, box)]
                parts.append(hud.blit_pixels(self.chip.top.shape, patch, left, upper))
            self._footprints[(node, box)] = np.concatenate(parts)
        return self._footprints[(node, box)]

    def _covers(self, node: str, box: Box) -> Box:
        """The box a tag at ``box`` covers when drawn: its own, or with its leader line's."""
        if not self.tagger.far(node, box):
            return box
        if (node, box) not in self.leaders:
            self.leaders[(node, box)] = self._draw_leader(node, box)
        return self.leaders[(node, box)][3]

    def _leader(self, node: str, box: Box) -> Box:
        """A thin line from ``node``'s well to its tag at ``box``; the box both cover."""
        covered = self._covers(node, box)
        patch, left, upper, _ = self.leaders[(node, box)]
        hud.blit(self.chip.top, patch, left, upper)
        return covered

    def _draw_leader(self, node: str, box: Box) -> tuple[hud.TextBlock, int, int, Box]:
        from PIL import Image, ImageDraw

        cx, cy = self.chip.g.centers[node]
        x0, y0, x1, y1 = box
        tx, ty = min(max(cx, x0), x1 - 1), min(max(cy, y0), y1 - 1)  # the tag's nearest point
        length = max(math.hypot(tx - cx, ty - cy), 1e-6)
        r = self.chip.g.radius * 0.95
        sx, sy = cx + (tx - cx) * r / length, cy + (ty - cy) * r / length
        left, upper = int(min(sx, tx)) - 2, int(min(sy, ty)) - 2
        right, lower = int(max(sx, tx)) + 3, int(max(sy, ty)) + 3
        patch = Image.new("RGBA", (right - left, lower - upper), (0, 0, 0, 0))
        ImageDraw.Draw(patch).line((sx - left, sy - upper, tx - left, ty - upper),
                                   fill=(*P.BACKGROUND, 220),
                                   width=max(1, round(self.f.unit / 540)))
        return (hud.TextBlock(np.asarray(patch, dtype=np.uint8)), left, upper,
                (max(min(left, x0), 0), max(min(upper, y0), 0),
                 min(max(right, x1), self.chip.g.width), min(max(lower, y1),
                                                          self.chip.g.height)))


def one_size(tagger: Labels, wanted: list[str], near: list[str]) -> dict[str, tuple[Box, int]]:
    """The tags of ``wanted`` in one size (mixed sizes read as a tag cloud): the largest at
    which every tag the placer finds room for in any size still has room; mixed only when no
    one size keeps them all (a deep call stack in a crowded chip)."""
    mixed = tagger.place(wanted, near=near)
    sizes = {size for _, size in mixed.values()}
    if len(sizes) <= 1:
        return mixed
    kept = set(mixed)
    for size in range(max(sizes) + 1):
        one = tagger.place(wanted, near=near, size=size)
        if kept <= set(one):
            return one
    return tagger.place(wanted, near=near)  # (the placer's state as the mixed placement's)


def _box_pixels(box: Box, width: int, height: int) -> NDArray[np.int64]:
    """The pixels of ``box`` inside a ``width`` x ``height`` image, as flat indices."""
    x0, y0 = max(box[0], 0), max(box[1], 0)
    x1, y1 = min(box[2], width), min(box[3], height)
    if x1 <= x0 or y1 <= y0:
        return np.zeros(0, dtype=np.int64)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    pixels: NDArray[np.int64] = (ys * width + xs).ravel().astype(np.int64)
    return pixels
