"""``inkworm slides``: a run as a reveal.js deck, one slide per visit (manim-slides).

The deck is one self-contained HTML file (videos and reveal.js inlined), written atomically.
reveal.js is not downloaded at run time (no network): ``scripts/bootstrap.sh`` takes it from
the npm registry (``npm pack reveal.js@REVEAL_VERSION``) into the package
(``inkworm/render/reveal``, package data, so a wheel carries it), and this module hands those
files to manim-slides through its asset cache.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from inkworm.errors import InputError
from inkworm.output import atomic_path
from inkworm.render.board import RenderOptions
from inkworm.render.video import manim_work
from inkworm.topology import Topology
from inkworm.trace import Trace

REVEAL_VERSION = "6.0.1"
"""The reveal.js release manim-slides 5.7.0 templates for."""
REVEAL_FILES = ("dist/reveal.css", "dist/theme/black.css", "dist/plugin/highlight/zenburn.css",
                "dist/reveal.js", "dist/plugin/notes.js", "dist/plugin/markdown.js")


def reveal_dir() -> Path:
    """reveal.js inside the package (``INKWORM_REVEAL_DIR`` overrides)."""
    override = os.environ.get("INKWORM_REVEAL_DIR")
    if override:
        return Path(override)
    return Path(str(resources.files("inkworm") / "render" / "reveal"))


def prime_reveal_cache() -> None:
    """Copy the local reveal.js files into manim-slides' asset cache (by file name, as it
    looks them up), so that ``--offline`` conversion never reaches for the network."""
    from platformdirs import user_cache_path

    source = reveal_dir()
    missing = [f for f in REVEAL_FILES if not (source / f).is_file()]
    if missing:
        raise InputError(f"reveal.js {REVEAL_VERSION} is not installed at {source} (missing "
                         f"{missing[0]}): run 'make setup', which takes it from the npm "
                         "registry")
    cache = user_cache_path("manim-slides") / f"revealjs{REVEAL_VERSION}"
    cache.mkdir(parents=True, exist_ok=True)
    for name in REVEAL_FILES:
        target = cache / Path(name).name
        if not target.exists():
            shutil.copyfile(source / name, target)


def make_deck(topology: Topology, trace: Trace, out: str | os.PathLike[str],
              quality: str = "l", options: RenderOptions | None = None,
              progress: Callable[[int, int], None] | None = None) -> Path:
    """Render the run as slides (one per visit, plus the result) into one HTML file."""
    from manim import tempconfig
    from manim_slides.config import PresentationConfig
    from manim_slides.convert import RevealJS
    from manim_slides.slide import Slide

    from inkworm.render.scene import InkScene

    prime_reveal_cache()
    logging.getLogger("manim-slides").setLevel(logging.WARNING)

    class InkSlides(InkScene, Slide):
        """The ink scene, each section a slide."""

        skip_reversing = True

    with manim_work(out, quality, ".inkworm-slides-") as (work, target, settings):
        with tempconfig(settings):
            scene = InkSlides(topology, trace, options or RenderOptions(),
                              output_folder=work / "slides")
            scene.on_progress = progress
            scene.render()
        config = PresentationConfig.from_file(work / "slides" / "InkSlides.json")
        deck = work / "deck.html"
        RevealJS.model_validate({
            "presentation_configs": [config], "one_file": True, "offline": True,
            "title": f"inkworm: {trace.header.graph or 'cluster'}",
        }).convert_to(deck)
        with atomic_path(target, suffix=target.suffix) as tmp:
            shutil.move(deck, tmp)
    return Path(out)
