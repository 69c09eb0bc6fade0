"""Every enumerated choice of a picture, declared once: quality (with manim's preset of each),
output format, style, camera, theme. Each is a ``str`` enum, so a plain string from a
notebook or a script (``style="ink"``) is one too; the CLI's choice lists and the notebook's
parameters are derived from these (:func:`values`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeVar

from inkworm.errors import InputError


class Quality(enum.StrEnum):
    LOW = "l"
    MEDIUM = "m"
    HIGH = "h"
    FOURK = "k"

    @property
    def preset(self) -> Preset:
        return PRESETS[self]


@dataclass(frozen=True)
class Preset:
    """A quality's frame: manim's preset name, its size and rate."""

    manim: str
    width: int
    height: int
    fps: float

    @property
    def label(self) -> str:
        return f"{self.height}p{self.fps:g}"


PRESETS = {
    Quality.LOW: Preset("low_quality", 854, 480, 15.0),
    Quality.MEDIUM: Preset("medium_quality", 1280, 720, 30.0),
    Quality.HIGH: Preset("high_quality", 1920, 1080, 60.0),
    Quality.FOURK: Preset("fourk_quality", 3840, 2160, 60.0),
}
"""manim's preset of each quality (a board made ahead for a size manim does not render at is
not used)."""


class Format(enum.StrEnum):
    """What ``inkworm render`` writes: H.264, VP9 (with alpha when transparent), ProRes 4444
    (with alpha when transparent, for video editors), an animated GIF, a still."""

    MP4 = "mp4"
    WEBM = "webm"
    MOV = "mov"
    GIF = "gif"
    PNG = "png"

    @property
    def alpha(self) -> bool:
        """Whether the format keeps an alpha channel (``--transparent``)."""
        return self in (Format.WEBM, Format.MOV, Format.PNG)


class Style(enum.StrEnum):
    """How the ink is drawn: dye in a moulded chip, or flat fills."""

    INK = "ink"
    SCHEMATIC = "schematic"


class Camera(enum.StrEnum):
    """``follow`` the ink in a larger chip with a minimap, show the ``whole`` chip, or
    ``auto``: follow above 40 nodes (:mod:`inkworm.render.camera`)."""

    AUTO = "auto"
    FOLLOW = "follow"
    WHOLE = "whole"


class Theme(enum.StrEnum):
    """The slide around the chip (:data:`inkworm.render.palette.THEMES`)."""

    DARK = "dark"
    LIGHT = "light"


class Captions(enum.StrEnum):
    """Captions drawn into the frames, or none on screen (a player shows the subtitles)."""

    BURNED = "burned"
    NONE = "none"


def values(choice: type[enum.Enum]) -> list[str]:
    """The values of a choice, in order: a CLI's choice list."""
    return [str(member.value) for member in choice]


E = TypeVar("E", bound=enum.Enum)


def pick(choice: type[E], value: object, name: str) -> E:
    """``value`` as a member of ``choice``, or one line naming the choices."""
    try:
        return choice(value)
    except ValueError:
        raise InputError(f"unknown {name} {value!r} (one of {', '.join(values(choice))})") \
            from None
