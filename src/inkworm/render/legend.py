"""The legend: which colour means what, for the looks a run's chip can show."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from inkworm.render import hud
from inkworm.render import palette as P
from inkworm.render.frame import Frame
from inkworm.render.options import SAFE
from inkworm.render.palette import Theme
from inkworm.render.steps import Step
from inkworm.trace import Crash, Error, Kill, Trace


def legend_items(trace: Trace, steps: Sequence[Step]) -> list[tuple[str, str]]:
    """The legend of a run: (colour, label) of each look its chip can show."""
    items = [(P.INK, "probe ink: a visit"), (P.DYE, "answer flowing back"),
             (P.TINT, "skipped: already visited"), (P.WARN, "made by the measurement")]
    if any(isinstance(e, Error | Kill | Crash) for e in trace.events):
        items.append((P.FAULT, "failed / stopped"))
    if any(s.orphan for s in steps):
        items.append((P.GHOST, "faded: an orphan's walk"))
    if any(s.duplicate for s in steps):
        items.append((P.DUP, "probed again (duplicate)"))
    return items


def draw_legend(base: NDArray[np.uint8], items: Sequence[tuple[str, str]], f: Frame, t: Theme,
                plate: Callable[[NDArray[np.uint8], hud.TextBlock, float, float], object]
                | None = None) -> list[tuple[int, int, int, int]]:
    """Draw the legend's swatches and labels on ``base``, inside the action-safe area, and
    give the labels' boxes; ``plate``: draws one plate behind it all (a transparent frame)."""
    boxes: list[tuple[int, int, int, int]] = []
    if not items:
        return boxes
    size = f.size(0.032 * f.text_scale)
    x, bottom = f.legend
    room = (0.97 if f.compact and not f.stacked else SAFE) * f.width - x  # action-safe

    def widest(size: int) -> int:
        return max(hud.render_lines((hud.plain(label, t.text_dim),), size).width
                   for _, label in items)

    if size * 2.0 + widest(size) > room:
        size = max(6, int(size * room / (size * 2.0 + widest(size))))
    y = bottom - len(items) * size * 1.45
    if plate is not None:  # one plate behind the whole legend
        wide = widest(size)
        plate(base, hud.TextBlock(np.zeros((int(len(items) * size * 1.45),
                                            int(size * 2.0 + wide), 4), np.uint8)),
              x, y - size * 0.1)
    for colour, label in items:
        hud.blit(base, hud.swatch(colour, int(size * 1.5), int(size * 0.7)), x, y + size * 0.3)
        boxes.append(hud.blit(base, hud.render_lines((hud.plain(label, t.text_dim),), size),
                              x + size * 2.0, y - size * 0.12))
        y += size * 1.45
    return boxes
