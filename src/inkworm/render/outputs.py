"""What ``inkworm render`` writes, one entry a format (:data:`OUTPUTS`): what manim is asked
for, what a finished movie still goes through, which extras it can carry, the quality it is
made at by default. The CLI's and ``inkworm.show``'s choices come from it; a new format is an
entry here (and, for a new codec, one in :func:`inkworm.render.writer.encoding`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inkworm.render.choices import Format, Quality
from inkworm.render.gif import mp4_to_gif


@dataclass(frozen=True)
class Output:
    """One format's making."""

    format: Format
    still: bool = False
    """The last frame alone (manim saves it, no movie)."""
    manim_format: str | None = None
    """manim's ``format`` setting (``None``: its MP4, or no movie)."""
    extension: str | None = None
    """manim's movie file extension, when not ``.mp4``."""
    finish: Callable[[Path], Path] | None = None
    """What the movie manim wrote still goes through (the GIF from its MP4)."""
    embeds: bool = False
    """Its container carries a subtitle track (``--embed-subtitles``)."""
    quality: Quality = Quality.LOW
    """The quality it is made at when none is asked for (a still is a slide's picture)."""

    @property
    def cues(self) -> bool:
        """Whether subtitles and chapters go with it (a video; not a still)."""
        return not self.still


def _gif(movie: Path) -> Path:
    return mp4_to_gif(movie, movie.with_suffix(".gif"))


OUTPUTS: dict[Format, Output] = {
    Format.MP4: Output(Format.MP4, manim_format="mp4", embeds=True),
    Format.WEBM: Output(Format.WEBM, manim_format="webm", extension=".webm"),
    Format.MOV: Output(Format.MOV, manim_format="mov", extension=".mov"),
    Format.GIF: Output(Format.GIF, finish=_gif),
    Format.PNG: Output(Format.PNG, still=True, quality=Quality.HIGH),
}
"""Every format ``inkworm render`` writes (:class:`~inkworm.render.choices.Format`)."""
