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
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inkworm.errors import InputError
from inkworm.render.choices import Format, pick
from inkworm.run import AutoConnect, EdgeOrder, Mode, RunSpec, Strategy

if TYPE_CHECKING:
    from inkworm.render.pair import Run
    from inkworm.topology import Topology
    from inkworm.trace import Trace

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
         edge_order: str = "dot", auto_connect: str = "always", strategy: str = "sequential",
         collect: str = "", graph: str | None = None, format: str = "mp4",
         quality: str | None = None, pace: float = 1.0, timing: str = "uniform",
         duration: float | None = None, camera: str = "auto", story: str | None = None,
         layout: str = "auto", seed: int = 0, transparent: bool = False, theme: str = "dark",
         style: str = "ink", captions: str = "burned", title: str | None = None,
         compare: str | os.PathLike[str] | None = None, compare_mode: str | None = None,
         output: str | os.PathLike[str] | None = None, verbose: bool = False) -> Any:
    """Render ``source`` (a DOT file or a trace) and return an IPython display object: every
    option of ``inkworm render`` that makes a picture, by its command-line name (``quality``:
    ``l`` for a video, ``h`` for a still, as the command's default).

    ``output`` also keeps the file there; by default it is rendered in a temporary folder and
    embedded in the notebook. ``format="mov"`` (ProRes, for video editors) is refused: no
    notebook plays it. ``format="html"``: the viewer (``inkworm view``) in the cell, to step
    through.
    """
    from IPython.display import Image, Video

    from inkworm.collect import parse_names
    from inkworm.render.options import named_options
    from inkworm.render.outputs import OUTPUTS
    from inkworm.render.video import render
    from inkworm.runs import load_run

    spec = RunSpec(launch, pick(Mode, mode, "mode"), pick(EdgeOrder, edge_order, "edge order"),
                   pick(AutoConnect, auto_connect, "auto-connect"),
                   pick(Strategy, strategy, "strategy"), parse_names(collect))
    if format == "html":  # the viewer, stepped through in the cell
        video = {"quality": (quality, None), "pace": (pace, 1.0), "timing": (timing, "uniform"),
                 "duration": (duration, None), "camera": (camera, "auto"), "story": (story, None),
                 "transparent": (transparent, False), "style": (style, "ink"),
                 "captions": (captions, "burned"), "title": (title, None),
                 "output": (output, None)}
        given = [name for name, (value, default) in video.items() if value != default]
        if given:
            raise InputError(f"format html: {', '.join(given)} does not apply to the viewer "
                             "(it takes theme, layout, seed, compare, compare_mode)")
        return _viewer(source, spec, graph, layout, seed, theme, verbose,
                       compare, compare_mode)
    chosen = pick(Format, format, "format")
    if chosen is Format.MOV:
        raise InputError("format mov: a notebook cannot play ProRes; show mp4 or webm, or "
                         "write the .mov with output= and open it in an editor")
    options = named_options(timing=timing, duration=duration, pace=pace, layout=layout,
                            seed=seed, transparent=transparent, theme=theme, style=style,
                            camera=camera, story=story, captions=captions, title=title)
    with _quiet(verbose), tempfile.TemporaryDirectory(prefix="inkworm-show-") as work:
        topology, trace = load_run(str(source), spec, graph)
        runs = _compared(topology, trace, spec, compare, compare_mode)
        target = Path(output) if output is not None else Path(work) / f"run.{chosen}"
        render(topology, trace, target, quality or OUTPUTS[chosen].quality,
               chosen, options, inputs=(source, graph, topology.path, compare), compare=runs)
        data = target.read_bytes()
    if chosen in _MIME:
        return Video(data=data, embed=True, mimetype=_MIME[chosen])  # type: ignore[no-untyped-call]
    return Image(data=data, format=chosen.value)  # type: ignore[no-untyped-call]


def _viewer(source: str | os.PathLike[str], spec: RunSpec, graph: str | None, layout: str,
            seed: int, theme: str, verbose: bool, compare: str | os.PathLike[str] | None,
            compare_mode: str | None) -> Any:
    """The viewer's page in an isolated frame of the cell (its own document, its own policy)."""
    from inkworm.render.viewer import view_html
    from inkworm.runs import load_run
    from inkworm.safe import html_text

    with _quiet(verbose):
        topology, trace = load_run(str(source), spec, graph)
        runs = _compared(topology, trace, spec, compare, compare_mode)
        page = view_html(topology, trace, theme, layout, seed, runs)
    return Framed(f'<iframe srcdoc="{html_text(page)}" style="width:100%;height:720px;'
                  'border:0"></iframe>')


def _compared(topology: Topology, trace: Trace, spec: RunSpec,
              compare: str | os.PathLike[str] | None,
              compare_mode: str | None) -> tuple[Run, Run] | None:
    """The two runs of ``compare`` (its mode ``compare_mode``, default ``spec``'s), labelled."""
    from inkworm.render.pair import label_runs
    from inkworm.runs import load_run

    if compare is None:
        return None
    other = replace(spec, mode=pick(Mode, compare_mode, "mode")) if compare_mode else spec
    return label_runs((topology, trace), load_run(str(compare), other))


class Framed:
    """HTML Jupyter shows as it is (the viewer in a frame of its own)."""

    def __init__(self, html: str) -> None:
        self.html = html

    def _repr_html_(self) -> str:
        return self.html
