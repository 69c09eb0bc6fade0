"""How a run becomes a picture: :class:`RenderOptions`, checked when made, and the choices
they name (cameras, styles), the action-safe area and the title card's time."""

from __future__ import annotations

from dataclasses import dataclass

from inkworm.errors import InputError
from inkworm.layout import LAYOUTS
from inkworm.render.choices import Camera, Captions, Style, Theme, pick
from inkworm.render.pacing import Story, reading_time
from inkworm.render.steps import Timing

SAFE = 0.95
"""The action-safe area's far edges, as shares of the frame (90 %: 5 % off each side):
captions, the panel and the legend stay inside it, where no player's controls lie."""
PANEL_EVERY = 0.2
"""Between two captions, the panel follows the steps at most this often (seconds)."""



def title_seconds(options: RenderOptions) -> float:
    """How long the title card (``--title``) stays before the run: its reading time, at
    least 2 s; 0 without a title."""
    if not options.title:
        return 0.0
    return max(2.0, reading_time(options.title, options.pace))


@dataclass(frozen=True)
class RenderOptions:
    """How a trace becomes an animation."""

    timing: Timing = Timing.UNIFORM
    duration: float | None = None
    layout: str = "auto"
    seed: int = 0
    transparent: bool = False
    pace: float = 1.0
    """Reading pace: 2 = twice as slow, 0.5 = brisk (every caption stays its reading time)."""
    min_section: float = 0.5
    """Visits closer than this share a section (and a play)."""
    hold: float = 4.0
    """Seconds the final frame (the map) is held."""
    theme: Theme = Theme.DARK
    """The slide around the chip: ``dark`` or ``light`` (:data:`~inkworm.render.palette.THEMES`)."""
    style: Style = Style.INK
    """How the ink is drawn: ``ink`` (dye in a moulded chip) or ``schematic`` (flat fills)."""
    camera: Camera = Camera.AUTO
    """``follow`` the ink in a larger chip with a minimap, or show the ``whole`` chip;
    ``auto``: follow above 40 nodes. (A plain string of a choice's value is taken too.)"""
    story: Story | None = None
    """How much is told (:class:`~inkworm.render.timeline.Story`); ``None``: every step up
    to 40 visits, summarised visits beyond."""
    captions: bool = True
    """Captions drawn into the frames (``--captions burned``); ``False``: none on screen
    (subtitles and chapters are written all the same: a player or the speaker tells them)."""
    title: str | None = None
    """A title card before the run (``--title``): shown for its reading time, at least 2 s."""

    def __post_init__(self) -> None:
        """Options from a notebook or a script meet the CLI's checks: one line, not a
        traceback from deep inside numpy or manim."""
        if self.duration is not None and not _seconds(self.duration, 0.5):
            raise InputError(f"duration must be 0.5 to 3600 seconds, got {self.duration!r}")
        if type(self.seed) is not int or not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be an integer from 0 to 2^32 - 1, got {self.seed!r}")
        for name, choice in (("theme", Theme), ("camera", Camera), ("style", Style)):
            object.__setattr__(self, name, pick(choice, getattr(self, name), name))
        if self.layout not in LAYOUTS:
            raise InputError(f"unknown layout {self.layout!r} (one of {', '.join(LAYOUTS)})")
        for name in ("pace", "min_section", "hold"):
            if not _seconds(getattr(self, name), 0):
                raise InputError(f"{name} must be a number from 0 to 3600, got "
                                 f"{getattr(self, name)!r}")


def _seconds(value: object, least: float) -> bool:
    """A finite number from ``least`` to an hour (nan and inf are refused)."""
    return isinstance(value, int | float) and least <= value <= 3600


def named_options(*, timing: str = "uniform", duration: float | None = None, pace: float = 1.0,
                  layout: str = "auto", seed: int = 0, transparent: bool = False,
                  theme: str = "dark", style: str = "ink", camera: str = "auto",
                  story: str | None = None, captions: str = "burned",
                  title: str | None = None) -> RenderOptions:
    """:class:`RenderOptions` from the picture options as the command line names them (and
    ``inkworm.show`` takes them): one place that turns those names into options."""
    return RenderOptions(timing=pick(Timing, timing, "timing"), duration=duration, pace=pace,
                         layout=layout, seed=seed, transparent=transparent,
                         theme=pick(Theme, theme, "theme"), style=pick(Style, style, "style"),
                         camera=pick(Camera, camera, "camera"),
                         story=pick(Story, story, "story") if story else None,
                         captions=pick(Captions, captions, "captions") is Captions.BURNED,
                         title=title or None)
