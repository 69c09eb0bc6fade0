"""Notebooks: ``inkworm.show(...)`` renders a run quietly and returns something Jupyter shows.

The keyword arguments are the render options named as on the command line (``mode="naive"``,
``format="png"``, ``quality="h"``, ``launch="a"``, ...). A relative ``source`` is read from the
working folder (the notebook's own). Nothing is printed unless ``verbose=True``: no manim log,
no progress bar. The result is an IPython display object: an embedded video (mp4, webm), or an
image (png, gif).
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from inkworm.run import AutoConnect, EdgeOrder, Mode, RunSpec

Format = Literal["mp4", "webm", "gif", "png"]
Quality = Literal["l", "m", "h", "k"]

_MIME = {"mp4": "video/mp4", "webm": "video/webm"}


@contextlib.contextmanager
def _quiet(verbose: bool) -> Iterator[None]:
    """manim's logger (and its rich handler) silenced for the duration, unless ``verbose``."""
    if verbose:
        yield
        return
    logger = logging.getLogger("manim")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def show(source: str | os.PathLike[str], *, mode: str = "naive", launch: str | None = None,
         edge_order: str = "dot", auto_connect: str = "always", graph: str | None = None,
         format: Format = "mp4", quality: Quality = "l", timing: str = "uniform",
         duration: float | None = None, layout: str = "auto", seed: int = 0,
         transparent: bool = False, output: str | os.PathLike[str] | None = None,
         verbose: bool = False) -> Any:
    """Render ``source`` (a DOT file or a trace) and return an IPython display object.

    ``output`` also keeps the file there; by default it is rendered in a temporary folder and
    embedded in the notebook.
    """
    from IPython.display import Image, Video

    from inkworm.render.options import RenderOptions
    from inkworm.render.timeline import Timing
    from inkworm.render.video import render
    from inkworm.runs import load_run

    spec = RunSpec(launch, Mode(mode), EdgeOrder(edge_order), AutoConnect(auto_connect))
    options = RenderOptions(timing=Timing(timing), duration=duration, layout=layout, seed=seed,
                            transparent=transparent)
    with _quiet(verbose), tempfile.TemporaryDirectory(prefix="inkworm-show-") as work:
        topology, trace = load_run(str(source), spec, graph)
        target = Path(output) if output is not None else Path(work) / f"run.{format}"
        render(topology, trace, target, quality, format, options,
               inputs=(source, graph, topology.path))  # never over what it read
        data = target.read_bytes()
    if format in _MIME:
        return Video(data=data, embed=True, mimetype=_MIME[format])  # type: ignore[no-untyped-call]
    return Image(data=data, format=format)  # type: ignore[no-untyped-call]
