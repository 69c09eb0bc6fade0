"""Where things go in a frame, in pixels: the chip, the panel, the legend, the caption, and the
text sizes (:class:`Frame`), for a single run, a side of a comparison or a stacked side; the
tags' font sizes and their measured sizes."""

from __future__ import annotations

from dataclasses import dataclass

from inkworm.render import hud
from inkworm.render.labels import short_names
from inkworm.render.options import SAFE
from inkworm.topology import Topology


@dataclass(frozen=True)
class Frame:
    """Where things go, in pixels of the output frame. ``compact``: one side of a comparison
    (half a frame wide): the chip on top, the panel and the legend below it. ``stacked``
    too: a side of a comparison stacked above the other (a frame wide, half a frame high,
    for a wide layout): the chip on the left, its caption under it, the panel and the legend
    on the right."""

    width: int
    height: int
    compact: bool = False
    stacked: bool = False
    keyed: bool = True
    """Whether the frame has a legend (the upper of stacked sides has none: the lower's is
    both sides')."""

    @property
    def unit(self) -> int:
        """The whole output frame's height: text sizes are shares of it."""
        return 2 * self.height if self.stacked else self.height

    @property
    def chip(self) -> tuple[float, float, float, float]:
        if self.stacked:
            return (0.015 * self.width, 0.12 * self.height, 0.6 * self.width,
                    0.72 * self.height)
        if self.compact:
            return (0.02 * self.width, 0.08 * self.height, 0.98 * self.width,
                    0.62 * self.height)
        return (0.015 * self.width, 0.085 * self.height, 0.675 * self.width,
                0.84 * self.height)

    @property
    def panel(self) -> tuple[float, float, int]:
        """The side panel's left, top and width."""
        if self.stacked:
            return 0.63 * self.width, 0.12 * self.height, int((SAFE - 0.63) * self.width)
        if self.compact:
            return 0.03 * self.width, 0.645 * self.height, int(0.54 * self.width)
        return 0.7 * self.width, 0.15 * self.height, int((SAFE - 0.7) * self.width)

    @property
    def panel_bottom(self) -> float:
        """The panel may not reach below this (the legend, or the caption, is there)."""
        if self.stacked:
            return 0.6 * self.height if self.keyed else self.safe_bottom
        return (0.875 if self.compact else 0.6) * self.height

    @property
    def legend(self) -> tuple[float, float]:
        """The legend's left and bottom."""
        if self.stacked:
            return 0.63 * self.width, self.safe_bottom
        if self.compact:
            return 0.58 * self.width, 0.87 * self.height
        return 0.7 * self.width, 0.86 * self.height

    @property
    def safe_bottom(self) -> float:
        """The lowest text may reach: the action-safe area's edge (a stacked side's: the whole
        frame's edge's distance from the bottom, as the lower side needs it)."""
        return self.height - (1 - SAFE) * self.unit

    @property
    def caption(self) -> tuple[float, float, int]:
        """The caption's centre, bottom and widest width: across the frame inside the
        action-safe area, or a stacked side's under its chip."""
        if self.stacked:
            left, _, right, _ = self.chip
            return (left + right) / 2, self.safe_bottom, int(right - left)
        return self.width / 2, self.safe_bottom, int((2 * SAFE - 1) * self.width)

    @property
    def text_scale(self) -> float:
        """Panel and legend text, relative to a full frame's."""
        return 0.66 if self.compact or self.stacked else 1.0

    @property
    def margin(self) -> float:
        """Room between the chip's edge and the wells (for their tags), as a share of the
        chip's smaller side."""
        return 0.14 if self.compact or self.stacked else 0.09

    @property
    def caption_size(self) -> int:
        return self.size(0.036 if self.compact or self.stacked else 0.045)

    def size(self, share: float) -> int:
        return max(9, round(share * self.unit))


def tag_fonts(f: Frame) -> tuple[int, int, int, int]:
    """A tag's font size at each of the tag placer's size indices (:mod:`.labels`)."""
    return (f.size(0.03), f.size(0.022), f.size(0.016), f.size(0.013))


def measure_tags(topology: Topology, f: Frame) -> dict[str, list[tuple[int, int]]]:
    """Every node's tag's (width, height) at each of :func:`tag_fonts`, measured without
    drawing (no layout needed: a render measures them while graphviz lays the chip out)."""
    names = short_names(topology.nodes)
    fonts = tag_fonts(f)
    return {node: [hud.tag_size(names[node], size) for size in fonts]
            for node in topology.nodes}
