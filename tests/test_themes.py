"""Text that reads on any slide, and colours that stay apart for colour-blind viewers:
measured on rendered frames."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from numpy.typing import NDArray

from conftest import GRAPHS
from inkworm import Mode, load_dot, simulate
from inkworm.render import palette as P
from inkworm.render.board import Board
from inkworm.render.options import RenderOptions
from inkworm.render.timeline import StepKind, steps_from_trace, time_steps
from inkworm.run import AutoConnect, RunSpec, Strategy
from inkworm.trace import Trace

BOWTIE = load_dot(GRAPHS / "bowtie.dot")
SLIDES = {"white": (255, 255, 255), "black": (0, 0, 0)}


def board(trace: Trace, **options: object) -> Board:
    opts = RenderOptions(**options)  # type: ignore[arg-type]
    return Board(trace, BOWTIE, time_steps(steps_from_trace(trace)), opts, 1280, 720)


def on_slide(frame: NDArray[np.uint8], slide: tuple[int, int, int]) -> NDArray[np.uint8]:
    """An RGBA frame over a slide of one colour, as a presenter's software shows it."""
    alpha = frame[..., 3:4].astype(np.float32) / 255
    out = frame[..., :3] * alpha + np.array(slide, np.float32) * (1 - alpha)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def text_contrasts(image: NDArray[np.uint8], box: tuple[int, int, int, int],
                   theme: P.Theme) -> dict[str, float]:
    """For each of the theme's text colours drawn in ``box``: the contrast of the glyphs as
    rendered (pixels at that colour) against the background as rendered (the box's most
    common colour)."""
    x0, y0, x1, y1 = box
    region = image[y0:y1, x0:x1].reshape(-1, 3).astype(np.int16)
    colours, counts = np.unique(region, axis=0, return_counts=True)
    background = tuple(int(c) for c in colours[counts.argmax()])
    found = {}
    for name in ("text", "text_dim", "warn", "error", "good"):
        want = np.array(P.hex_rgb(getattr(theme, name)), np.int16)
        near = region[np.abs(region - want).max(axis=1) <= 6]
        if len(near) >= 12:  # glyph cores at that colour: the colour is used here
            rendered = tuple(int(c) for c in np.median(near, axis=0))
            found[name] = P.contrast(rendered, background)
    return found


CASES = [(theme, transparent, slide) for theme in P.THEMES
         for transparent, slide in ((False, None), (True, "white"), (True, "black"))]


@pytest.mark.parametrize(("theme", "transparent", "slide"), CASES)
def test_every_text_reads_at_4_5_to_1(theme: str, transparent: bool, slide: str | None) -> None:
    trace = simulate(BOWTIE, RunSpec(mode=Mode.NAIVE))
    b = board(trace, theme=theme, transparent=transparent)
    seen: dict[str, float] = {}
    boxes_checked = 0
    moments = [s for s in b.steps if s.kind in (StepKind.ETCH, StepKind.CALL)][:3]
    for step in [*moments, None]:
        if step is None:
            b.finish()
        else:
            b.advance(step.end - 1e-6)
        frame = b.chip.frame
        image = on_slide(frame, SLIDES[slide]) if slide else frame[..., :3]
        for box in [*b.labels, b._caption_box, b._panel_box]:
            assert box is not None
            found = text_contrasts(image, box, P.THEMES[theme])
            assert found, f"no text found in {box}"
            boxes_checked += 1
            for name, ratio in found.items():
                seen[name] = min(ratio, seen.get(name, 99.0))
    assert boxes_checked >= 10
    assert {"text", "text_dim", "warn"} <= set(seen)
    for name, ratio in seen.items():
        assert ratio >= 4.5, f"{theme}{' on ' + slide if slide else ''}: {name} {ratio:.2f}:1"


# Machado, Oliveira & Fernandes (2009), severity 1.0, on linear RGB
_SIMULATE = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "none": np.eye(3),
}


def _linear(rgb: NDArray[np.float64]) -> NDArray[np.float64]:
    v = rgb / 255
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _lab(linear: NDArray[np.float64]) -> NDArray[np.float64]:
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = np.clip(linear, 0, 1) @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def layer_colour(b: Board, layer: str) -> NDArray[np.float64]:
    """The median rendered colour where ``layer`` is strongest (and nothing above it)."""
    chip = b.chip
    frame = chip.frame[..., :3].reshape(-1, 3).astype(np.float64)
    strong = chip.layers[layer] > 0.85
    for name, _, _ in P.LAYER_STYLE[[n for n, _, _ in P.LAYER_STYLE].index(layer) + 1:]:
        strong &= chip.layers[name] < 0.05
    assert strong.sum() > 50, layer
    result: NDArray[np.float64] = np.median(frame[strong], axis=0)
    return result


@pytest.mark.parametrize("vision", list(_SIMULATE))
def test_ink_dye_and_the_measurements_orange_stay_apart(vision: str) -> None:
    trace = simulate(BOWTIE, RunSpec(mode=Mode.NAIVE, auto_connect=AutoConnect.ALWAYS))
    b = board(trace)
    b.finish()
    colours = {name: layer_colour(b, layer) for name, layer in
               (("probe ink", "ink"), ("answer dye", "dye"), ("measurement", "etch"))}
    lab = {name: _lab(_linear(rgb) @ _SIMULATE[vision].T) for name, rgb in colours.items()}
    for one, two in itertools.combinations(lab, 2):
        distance = float(np.linalg.norm(lab[one] - lab[two]))
        assert distance >= 20, f"{vision}: {one} and {two} are {distance:.1f} apart (CIELAB)"
    # the answer differs from the ink in lightness, not only in hue
    assert lab["answer dye"][0] - lab["probe ink"][0] >= 30


@pytest.mark.parametrize("vision", list(_SIMULATE))
def test_the_second_ink_of_duplicate_work_stays_apart(vision: str) -> None:
    """A parallel run's duplicate probe blooms a second ink beside the first in a well, and
    the measurement's orange is on the same chip: all three apart, and from the answer dye."""
    ring = load_dot(GRAPHS / "ring_chords.dot")
    trace = simulate(ring, RunSpec(mode=Mode.NAIVE, strategy=Strategy.PARALLEL))
    b = Board(trace, ring, time_steps(steps_from_trace(trace)), RenderOptions(), 1280, 720)
    b.finish()
    colours = {name: layer_colour(b, layer) for name, layer in
               (("probe ink", "ink"), ("answer dye", "dye"), ("measurement", "etch"),
                ("second ink", "dup"))}
    lab = {name: _lab(_linear(rgb) @ _SIMULATE[vision].T) for name, rgb in colours.items()}
    for other in ("probe ink", "answer dye", "measurement"):
        distance = float(np.linalg.norm(lab["second ink"] - lab[other]))
        assert distance >= 20, f"{vision}: the second ink and {other} are {distance:.1f} apart"
