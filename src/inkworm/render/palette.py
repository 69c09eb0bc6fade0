"""Colours of the chip, chosen for a projector: a pale glass chip on a dark slate, deep ink,
a light return dye, and one warning colour reserved for what the measurement created."""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[int, int, int]


def hex_rgb(code: str) -> RGB:
    code = code.lstrip("#")
    return (int(code[0:2], 16), int(code[2:4], 16), int(code[4:6], 16))


def rgb_hex(rgb: RGB) -> str:
    """``#rrggbb`` of an RGB triple."""
    return "#{:02x}{:02x}{:02x}".format(*rgb)


BACKGROUND = hex_rgb("#151b24")
SHADOW = hex_rgb("#0b0f14")
SUBSTRATE = hex_rgb("#e3e9ee")
CHIP_EDGE = hex_rgb("#aeb9c3")
WALL = hex_rgb("#8d9aa7")
CHANNEL = hex_rgb("#f8fafc")
WELL = hex_rgb("#fdfeff")

INK = "#1d3bb8"          # the probe's ink: calls and visited wells
FRONT = "#08124a"        # the code travelling ahead of the call (a darker bolus)
DYE = "#b9efff"          # the answer flowing back: much lighter than the ink, mixing in
TINT = "#9aa8e8"         # a skipped channel: probed, not visited
PULSE = "#ffffff"        # a skip's probe pulse, bouncing off the visited well...
PULSE_RIM = "#5b2bb5"    # ...with a dark violet rim, visible on glass and on ink alike
WARN = "#ff7a1a"         # made by the measurement: etched channel, leaking ink
LEAK = "#e8590c"
CUT = "#fff4ea"          # the interior of an etched channel
FAULT = "#7d8590"        # a failed node greys out
CLOT = "#8b1414"         # a blocked channel
DUP = "#d6336c"          # a second probe's ink, meeting the first in a visited well

GHOST_OPACITY = 0.55
"""An orphaned branch's ink: the probe's ink, faded (lighter than the ink, darker than a
skipped channel's tint), still moving after the worm failed."""
GHOST = "#{:02x}{:02x}{:02x}".format(*(round(GHOST_OPACITY * i + (1 - GHOST_OPACITY) * w)
                                       for i, w in zip(hex_rgb(INK), WELL, strict=True)))
"""The ghost ink as it shows in a well (for the legend)."""

LAYER_STYLE: tuple[tuple[str, RGB, float], ...] = (
    ("etch", hex_rgb(WARN), 1.0),
    ("cut", hex_rgb(CUT), 1.0),
    ("tint", hex_rgb(TINT), 0.55),
    ("ink", hex_rgb(INK), 0.92),
    ("ghost", hex_rgb(INK), GHOST_OPACITY),  # an orphaned branch's ink: its answer is lost
    ("leak", hex_rgb(LEAK), 0.9),
    ("dup", hex_rgb(DUP), 0.9),  # duplicate work: it covers the ink it meets
    ("dye", hex_rgb(DYE), 0.85),
    ("front", hex_rgb(FRONT), 0.95),
    ("pulse_rim", hex_rgb(PULSE_RIM), 1.0),
    ("pulse", hex_rgb(PULSE), 1.0),
    ("glow", hex_rgb(WARN), 1.0),
    ("grey", hex_rgb(FAULT), 1.0),
    ("clot", hex_rgb(CLOT), 1.0),
)
"""Ink layers in compositing order: (layer, colour, opacity)."""

MULTIPLY = frozenset({"tint", "ink", "ghost", "leak", "front"})
"""``--style ink``: layers that stain what is below them, like dye in a glass channel (the
chip's moulding shows through), instead of covering it. The answer dye, lighter than the ink,
covers: it displaces the ink it mixes with."""

TEXT = "#e8edf2"
ERROR = "#ff9b9b"
GOOD = "#8fd694"
TEXT_DIM = "#9aa6b2"


@dataclass(frozen=True)
class Theme:
    """The colours around the chip: the slide and its text. The chip itself (a pale glass
    plate, the ink, the dye, the measurement's orange) is the same in every theme, like a
    physical object photographed on a dark or a light table."""

    name: str
    background: RGB
    shadow: RGB
    text: str
    text_dim: str
    warn: str
    """The measurement's orange as text (darker on a light slide, to stay readable)."""
    error: str
    good: str
    plate: RGB
    """Behind every text block of a transparent frame, so it reads on any slide."""


THEMES = {
    "dark": Theme("dark", BACKGROUND, SHADOW, TEXT, TEXT_DIM, WARN, ERROR, GOOD,
                  plate=BACKGROUND),
    "light": Theme("light", hex_rgb("#ffffff"), hex_rgb("#b9c2cc"), "#17202b", "#4b5563",
                   "#b34409", "#b42318", "#1d6f31", plate=hex_rgb("#ffffff")),
}
"""``--theme``: dark (a slate slide, the default) or light (a white one)."""
PLATE_ALPHA = 0.94
"""Opacity of the plate behind text on a transparent frame."""


def luminance(colour: str | RGB) -> float:
    """WCAG relative luminance of an sRGB colour."""
    rgb = hex_rgb(colour) if isinstance(colour, str) else colour

    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str | RGB, two: str | RGB) -> float:
    """WCAG contrast ratio (1 to 21)."""
    a, b = sorted((luminance(one), luminance(two)), reverse=True)
    return (a + 0.05) / (b + 0.05)
