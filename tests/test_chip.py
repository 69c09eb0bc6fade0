"""The raster chip (:class:`inkworm.render.raster.Chip`) on its own: a fresh chip shows its
substrate, ink changes exactly the pixels of the channel it flows in, composite reports the
rows it changed and nothing when nothing did, and both styles draw the same regions."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import GRAPHS
from inkworm import load_dot
from inkworm.layout import layout
from inkworm.render.geometry import build, stretch
from inkworm.render.raster import Chip

BOWTIE = load_dot(GRAPHS / "bowtie.dot")
BOX = (20.0, 20.0, 620.0, 340.0)


def chip(style: str = "ink", etched: tuple[tuple[str, str], ...] = ()) -> Chip:
    centers = stretch(layout(BOWTIE, "auto", 0), (80.0, 70.0, 560.0, 290.0))
    geometry = build(centers, [*BOWTIE.edges, *etched], 640, 360, max_radius=20.0,
                     apart=etched, bounds=BOX)
    return Chip(geometry, BOX, launch="a", extra_channels=etched, style=style)


@pytest.mark.parametrize("style", ["ink", "schematic"])
def test_a_fresh_chip_shows_its_substrate_and_reports_every_row_once(style: str) -> None:
    c = chip(style)
    assert np.array_equal(c.frame, c.base)
    assert c.take_rows() == (0, 360) and c.take_rows() is None
    version = c.version
    c.composite()  # nothing changed: the same frame, the same version, no rows
    assert c.version == version and c.take_rows() is None


@pytest.mark.parametrize("style", ["ink", "schematic"])
def test_ink_changes_the_pixels_of_its_channel_and_no_others(style: str) -> None:
    c = chip(style)
    before = c.frame.copy()
    c.take_rows()
    c.flow("ink", "b", "d", 1.0)
    c.composite()
    changed = np.flatnonzero((c.frame != before).any(axis=2).ravel())
    region, _ = c.channel("b", "d")
    assert changed.size > 0 and set(changed) <= set(region.idx.tolist())
    rows = c.take_rows()
    ys = changed // c.g.width
    assert rows is not None and rows[0] <= ys.min() and ys.max() < rows[1]


def test_half_a_flow_inks_the_half_nearer_its_start() -> None:
    c = chip()
    c.flow("ink", "b", "d", 0.5, soft_px=0.5)
    region, backwards = c.channel("b", "d")
    s = 1.0 - region.param if backwards else region.param
    alpha = c.layers["ink"][region.idx]
    assert alpha[s < 0.4].min() > 0.0 and alpha[s > 0.6].max() == 0.0


def test_an_unknown_style_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown style 'pastel'"):
        chip("pastel")


def test_the_same_chip_is_drawn_the_same_twice() -> None:
    etched = (("a", "d"), ("a", "e"))
    one, two = chip(etched=etched), chip(etched=etched)
    for c in (one, two):
        c.etch("a", "e", 1.0)
        c.flow("ink", "a", "b", 0.7)
        c.composite()
    assert np.array_equal(one.frame, two.frame)
