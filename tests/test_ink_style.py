"""``--style ink``: dye that behaves like dye in a moulded chip, measured on the layers and
frames (each test fails on the flat ``schematic`` drawing), and ``schematic`` unchanged.

Ink tests look at 1280x720, where a channel is about eleven pixels wide: enough to tell its
centre line from its walls.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from conftest import GRAPHS
from inkworm import Mode, load_dot, simulate
from inkworm.render.board import Board
from inkworm.render.mould import LIGHT
from inkworm.render.options import RenderOptions
from inkworm.render.painter import CALL_TRAVEL, Painter
from inkworm.render.raster import Chip
from inkworm.render.regions import Region
from inkworm.render.timeline import Step, StepKind, steps_from_trace, time_steps
from inkworm.run import RunSpec

GOLDEN = Path(__file__).resolve().parent / "golden"


def board(style: str = "ink", width: int = 1280, height: int = 720) -> Board:
    topology = load_dot(GRAPHS / "bowtie.dot")
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    return Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(style=style),
                 width, height)


def call(b: Board, node: str, peer: str) -> Step:
    return next(s for s in b.steps if s.kind is StepKind.CALL and (s.node, s.peer) == (node, peer))


def at_travel(step: Step, travel: float) -> float:
    """The moment the call's ink front is ``travel`` of the way down its channel."""
    return step.start + travel * CALL_TRAVEL * step.duration


def concentration(b: Board, region: Region, layer: str = "ink") -> NDArray[np.float32]:
    values: NDArray[np.float32] = b.chip.layers[layer][region.idx] / np.maximum(region.cover,
                                                                                1e-6)
    return values


def along_px(b: Board, a: str, c: str) -> tuple[Region, NDArray[np.float32]]:
    """Channel a-c and each pixel's distance from ``a`` along it, in pixels."""
    region, backwards = b.chip.channel(a, c)
    s = 1 - region.param if backwards else region.param
    return region, s * region.length


def lightness(rgb: NDArray[np.uint8]) -> NDArray[np.float64]:
    """CIE L* of sRGB pixels (0 black .. 100 white)."""
    c = rgb.astype(np.float64) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = lin @ np.array([0.2126, 0.7152, 0.0722])
    out: NDArray[np.float64] = np.where(y > 216 / 24389, 116 * np.cbrt(y) - 16, y * 24389 / 27)
    return out


def front_px(b: Board, region: Region, s: NDArray[np.float32],
             keep: NDArray[np.bool_]) -> float:
    """How far the ink has come on the pixels ``keep``: the furthest one with any ink."""
    inked = keep & (concentration(b, region) > 0.05) & (region.cover > 0.5)
    assert inked.any()
    return float(s[inked].max())


@pytest.mark.parametrize("style", ["ink", pytest.param("schematic", marks=pytest.mark.xfail(
    raises=AssertionError, strict=True, reason="the flat drawing has a straight front"))])
def test_the_front_leads_on_the_centre_line_and_lags_at_the_walls(style: str) -> None:
    b = board(style)
    step = call(b, "b", "d")
    b.advance(at_travel(step, 0.5))
    region, s = along_px(b, "b", "d")
    assert region.across is not None
    centre = front_px(b, region, s, region.across < 0.25)
    walls = front_px(b, region, s, (region.across > 0.7) & (region.across < 0.95))
    assert centre - walls > 0.8 * b.chip.g.channel, (centre, walls, b.chip.g.channel)


def gradient_px(b: Board, region: Region, s: NDArray[np.float32]) -> float:
    """On the centre line: from the front back to where the ink is 85% strong, in pixels."""
    assert region.across is not None
    line = (region.across < 0.3) & (region.cover > 0.99)
    conc = concentration(b, region)[line]
    where = s[line]
    front = float(where[conc > 0.05].max())
    strong = where[conc >= 0.85]
    assert strong.size, "the ink never gets strong behind the front"
    return front - float(strong.max())


@pytest.mark.parametrize("style", ["ink", pytest.param("schematic", marks=pytest.mark.xfail(
    raises=AssertionError, strict=True, reason="the flat drawing has a hard edge"))])
def test_the_gradient_behind_the_front_grows_with_the_distance_travelled(style: str) -> None:
    b = board(style)
    step = call(b, "b", "d")
    region, s = along_px(b, "b", "d")
    lengths = []
    for travel in (0.35, 0.75):
        b.advance(at_travel(step, travel))
        lengths.append(gradient_px(b, region, s))
    early, late = lengths
    assert early > b.chip.g.channel, lengths  # a gradient, not an edge
    assert late > 1.3 * early, lengths


@pytest.mark.parametrize("style", ["ink", pytest.param("schematic", marks=pytest.mark.xfail(
    raises=AssertionError, strict=True, reason="the flat drawing blooms from the centre"))])
def test_a_well_fills_from_the_side_its_caller_comes_in(style: str) -> None:
    b = board(style)
    step = call(b, "b", "d")
    b.advance(step.start + (CALL_TRAVEL + 0.45 * (1 - CALL_TRAVEL)) * step.duration)
    g, well = b.chip.g, b.chip.wells["d"]
    cx, cy = g.centers["d"]
    toward = g.route("d", "b")[1] - (cx, cy)
    toward /= np.hypot(*toward)
    x = well.idx % g.width + 0.5 - cx
    y = well.idx // g.width + 0.5 - cy
    side = (x * toward[0] + y * toward[1]) / g.radius  # 1 at the inlet, -1 across the well
    ink = b.chip.layers["ink"][well.idx]
    near, far = float(ink[side > 0.4].mean()), float(ink[side < -0.4].mean())
    assert near - far > 0.3, (near, far)


def _middle(b: Board, a: str, c: str, keep: str = "centre") -> NDArray[np.uint8]:
    region, s = along_px(b, a, c)
    assert region.across is not None
    mid = (s > 0.3 * region.length) & (s < 0.7 * region.length) & (region.cover > 0.99)
    mid &= region.across < 0.5 if keep == "centre" else region.across > 0.75
    pixels: NDArray[np.uint8] = b.chip.frame.reshape(-1, 4)[region.idx[mid], :3]
    return pixels


def test_the_answer_is_far_lighter_than_the_ink() -> None:
    """Return dye and probe ink differ in lightness (a projector and colour-blind viewers)."""
    b = board("ink", 854, 480)
    back = next(s for s in b.steps if s.caption.startswith("c reports back to b"))
    b.advance(back.end)
    answered = float(np.median(lightness(_middle(b, "b", "c"))))
    inked = float(np.median(lightness(_middle(b, "a", "b"))))  # still only ink
    assert answered - inked > 35, (answered, inked)


@pytest.mark.parametrize("style", ["ink", pytest.param("schematic", marks=pytest.mark.xfail(
    raises=AssertionError, strict=True, reason="the flat dye is a uniform stripe"))])
def test_the_answer_mixes_in_and_the_ink_lingers_at_the_walls(style: str) -> None:
    b = board(style)
    back = next(s for s in b.steps if s.caption.startswith("c reports back to b"))
    b.advance(back.end)
    region, _ = along_px(b, "b", "c")
    assert region.across is not None
    dye = concentration(b, region, "dye")
    full = region.cover > 0.99
    centre = float(np.median(dye[full & (region.across < 0.4)]))
    walls = float(np.median(dye[full & (region.across > 0.8)]))
    assert centre - walls > 0.2, (centre, walls)
    # and on the frame: darker (ink) at the walls than on the centre line
    assert np.median(lightness(_middle(b, "b", "c", "walls"))) < \
        np.median(lightness(_middle(b, "b", "c"))) - 5


@pytest.mark.parametrize("style", ["ink", pytest.param("schematic", marks=pytest.mark.xfail(
    raises=AssertionError, strict=True, reason="flat etched walls, alike on both sides"))])
def test_an_etched_channel_is_a_cut_lit_from_the_top_left(style: str) -> None:
    """The measurement's cut: its upper-left side in shadow, its lower-right side lit."""
    b = board(style)
    b.finish()
    frame = b.chip.frame.reshape(-1, 4)[:, :3]
    for key, walls in b.chip.walls.items():
        inner = set(b.chip.channels[key].idx.tolist())
        assert walls.side is not None
        band = np.array([i not in inner for i in walls.idx.tolist()]) & (walls.cover > 0.99)
        shaded = lightness(frame[walls.idx[band & (walls.side > 0.5)]])
        lit = lightness(frame[walls.idx[band & (walls.side < -0.5)]])
        assert np.median(lit) - np.median(shaded) > 8, key


def rim_lightness(b: Board, a: str, c: str) -> tuple[float, float]:
    """Median L* of the unlit chip (its base) along channel a-c's two rims: (the rim on the
    light's side, the other)."""
    g = b.chip.g
    (x0, y0), (x1, y1) = g.route(a, c)[0], g.route(a, c)[-1]
    length = float(np.hypot(x1 - x0, y1 - y0))
    normal = np.array([-(y1 - y0), x1 - x0]) / length
    wall = max(1.0, g.channel * 0.28)
    ys, xs = np.mgrid[0 : g.height, 0 : g.width]
    px, py = xs + 0.5 - x0, ys + 0.5 - y0
    t = (px * (x1 - x0) + py * (y1 - y0)) / length
    cross = px * normal[0] + py * normal[1]
    middle = (t > 0.3 * length) & (t < 0.7 * length)
    rim = middle & (np.abs(cross) > g.channel / 2) & (np.abs(cross) < g.channel / 2 + wall)
    towards = np.sign(cross) * float(normal @ LIGHT) > 0
    base = b.chip.base[..., :3]
    return (float(np.median(lightness(base[rim & towards]))),
            float(np.median(lightness(base[rim & ~towards]))))


@pytest.mark.parametrize("style", ["ink", pytest.param("schematic", marks=pytest.mark.xfail(
    raises=AssertionError, strict=True, reason="the flat chip has no light"))])
def test_the_chip_is_moulded(style: str) -> None:
    """Engraved channels: the rim on the light's side is in shadow (it faces away from the
    light), the other lit; the launcher's well has a dark inlet port in the middle."""
    b = board(style)
    for a, c in [("b", "d"), ("e", "f"), ("a", "b")]:
        shadow, lit = rim_lightness(b, a, c)
        assert lit - shadow > 8, (a, c, shadow, lit)
    g = b.chip.g
    ys, xs = np.mgrid[0 : g.height, 0 : g.width]

    def middle_of(node: str) -> float:
        x, y = g.centers[node]
        near = np.hypot(xs + 0.5 - x, ys + 0.5 - y) < 0.15 * g.radius
        return float(np.median(lightness(b.chip.base[..., :3][near])))

    assert middle_of(b.launch) < middle_of("e") - 40


def bare_chip(style: str, moment: str) -> NDArray[np.uint8]:
    """The chip alone (no text) at a golden moment, 427x240."""
    b = board(style, 427, 240)
    etched = [(s.node, s.peer) for s in b.steps if s.kind is StepKind.ETCH and s.peer]
    chip = Chip(b.chip.g, b.f.chip, launch=b.launch, extra_channels=etched, style=style)
    chip.refresh()
    painter = Painter(chip, b.steps)
    if moment == "last":
        painter.finish()
    else:
        step = next(s for s in b.steps if s.kind is StepKind.ETCH and s.emphasis)
        painter.advance(step.start + 0.7 * step.duration)
    return chip.frame[..., :3]


@pytest.mark.parametrize("moment", ["etch-a-f", "last"])
def test_schematic_is_the_drawing_from_before_the_ink_style(moment: str) -> None:
    """Pixel for pixel: the flat drawing from before ``--style`` existed (these files were
    rendered by that code, but for three pixels of the bent etched channel a-f, holes PIL's
    wide polyline had left at its joints; drawn again at the chip's size since the chip made
    room for captions inside the action-safe area, #22)."""
    golden = np.asarray(Image.open(GOLDEN / f"bowtie-naive-bare-schematic-{moment}.png")
                        .convert("RGB"))
    frame = bare_chip("schematic", moment)
    assert frame.shape == golden.shape
    differ = int((frame != golden).any(axis=2).sum())
    assert differ == 0, f"{differ} pixels differ from the drawing before --style ink"
    assert not np.array_equal(bare_chip("ink", moment), golden)  # and ink is another look
