"""``inkworm render``: any DOT file or trace to a video, GIF or still, written atomically."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from inkworm.ahead import Ahead
from inkworm.errors import InputError, ToolError, deferred_stop, stop_point
from inkworm.layout import layout
from inkworm.output import (
    Inputs,
    atomic_path,
    check_target,
    leftover_prefix,
    made_parents,
    sweep_leftovers,
)
from inkworm.render.board import Board
from inkworm.render.compare import PairBoard, Run
from inkworm.render.frame import Frame, measure_tags
from inkworm.render.options import RenderOptions, title_seconds
from inkworm.render.schedule import timeline
from inkworm.render.subtitles import after_title, caption_cues, chapter_cues, embed, write_vtt
from inkworm.render.timeline import duration_notice
from inkworm.topology import Topology
from inkworm.trace import Trace
from inkworm.views import renamed, topology_diff

QUALITIES = {"l": "low_quality", "m": "medium_quality", "h": "high_quality",
             "k": "fourk_quality"}
SIZES = {"l": (854, 480, 15.0), "m": (1280, 720, 30.0), "h": (1920, 1080, 60.0),
         "k": (3840, 2160, 60.0)}
"""manim's frame size and rate of each quality (a board made ahead for a size manim does not
render at is not used)."""
FORMATS = ("mp4", "webm", "mov", "gif", "png")
"""What ``inkworm render`` writes: H.264, VP9 (with alpha when transparent), ProRes 4444
(with alpha when transparent, for video editors), an animated GIF, a still."""
TRANSPARENT_FORMATS = ("webm", "mov", "png")
"""The formats that keep an alpha channel."""


def output_format(fmt: str | None, output: str | os.PathLike[str] | None,
                  transparent: bool = False) -> str:
    """The format to write: ``fmt``, else what ``output``'s extension names, else mp4. An
    output is what its name says: an extension that names another format (or none inkworm
    writes) is refused, and so is ``transparent`` in a format without alpha."""
    suffix = Path(output).suffix.lower().lstrip(".") if output is not None else ""
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if suffix == "html":
        raise InputError(f"{output}: render writes {', '.join(FORMATS)}; a deck is "
                         "'inkworm slides -o FILE.html'")
    if suffix and suffix not in FORMATS:
        raise InputError(f"{output}: no format has the extension .{suffix} (render writes "
                         f"{', '.join('.' + f for f in FORMATS)})")
    if fmt is not None and suffix and suffix != fmt:
        raise InputError(f"{output}: --format {fmt} would write {fmt.upper()} into a file "
                         f"named .{suffix}: name it .{fmt}, or drop --format")
    chosen = fmt or suffix or "mp4"
    if transparent and chosen not in TRANSPARENT_FORMATS:
        raise InputError(f"--transparent needs a format with alpha: --format webm (VP9, plays "
                         f"in browsers and reveal.js) or --format mov (ProRes 4444, for video "
                         f"editors); {chosen} has none")
    return chosen


def default_output(input_path: str, trace: Trace, fmt: str) -> Path:
    stem = Path(input_path).name.split(".")[0] or "run"
    return Path("renders") / f"{stem}-{trace.header.mode.value}.{fmt}"


def render(topology: Topology, trace: Trace, out: str | os.PathLike[str], quality: str = "l",
           fmt: str = "mp4", options: RenderOptions | None = None,
           progress: Callable[[int, int], None] | None = None, inputs: Inputs = (),
           subtitles: str | os.PathLike[str] | None = None,
           chapters: str | os.PathLike[str] | None = None, embed_subtitles: bool = False,
           compare: tuple[Run, Run] | None = None,
           notice: Callable[[str], None] | None = None) -> Path:
    """Render the run to ``out``; the file appears only when complete. ``out`` may not be
    one of ``inputs`` (the files the run was read from). ``subtitles`` and ``chapters`` get
    WebVTT files of the captions and the visits, each cue exactly when the video shows it
    (they come from the very steps the board drew); ``embed_subtitles`` puts the captions
    into the MP4 as a subtitle track. ``compare``: two runs side by side (the first is
    ``topology``/``trace``), see :mod:`inkworm.render.compare`. ``notice``: told, in one
    line, when an option cannot be kept (a ``--duration`` too short to read the run in)."""
    fmt = output_format(fmt, out, options is not None and options.transparent)
    if fmt == "png" and (subtitles or chapters or embed_subtitles):
        raise InputError("--subtitles, --chapters and --embed-subtitles go with a video, not "
                         "--format png")
    if embed_subtitles and fmt != "mp4":  # (a transparent MP4 is refused by output_format)
        raise InputError("--embed-subtitles goes with an MP4 (not a GIF, WebM or MOV: use "
                         "--subtitles FILE.vtt beside those)")
    options = options or RenderOptions()
    ahead = None
    if compare is None and quality in SIZES:
        # the chip is made while manim imports (inkworm.ahead); the scene takes it if manim
        # then renders at this size and rate
        width, height, fps = SIZES[quality]

        def board() -> Board:
            # the layout (graphviz: a process of its own) while the timeline is worked out,
            # the tags are measured and the result's spurious edges counted
            where = Ahead(lambda: layout(topology, options.layout, options.seed),
                          "inkworm-layout")
            named = renamed(trace, topology)
            try:
                steps = timeline(named, options, fps)
                measured = measure_tags(topology, Frame(width, height))
                spurious = topology_diff(named, topology).spurious
            finally:
                where.join()
            return Board(named, topology, steps, options, width, height, positions=where.take(),
                         measured=measured, spurious=spurious)

        ahead = (Ahead(board, "inkworm-board"), SIZES[quality])
    try:
        return _render(topology, trace, out, quality, fmt, options, progress, inputs,
                       subtitles, chapters, embed_subtitles, compare, ahead, notice)
    finally:
        if ahead is not None:
            ahead[0].join()  # nothing it started outlives the render


def _render(topology: Topology, trace: Trace, out: str | os.PathLike[str], quality: str,
            fmt: str, options: RenderOptions, progress: Callable[[int, int], None] | None,
            inputs: Inputs, subtitles: str | os.PathLike[str] | None,
            chapters: str | os.PathLike[str] | None, embed_subtitles: bool,
            compare: tuple[Run, Run] | None,
            ahead: tuple[Ahead[Board], tuple[int, int, float]] | None,
            notice: Callable[[str], None] | None = None) -> Path:
    from manim import tempconfig  # while the board is made (ahead)

    from inkworm.render.scene import CompareScene, InkScene

    for extra in (subtitles, chapters):
        if extra is not None:
            check_target(extra, inputs=(*inputs, out))
    with manim_work(out, quality, ".inkworm-render-", inputs) as (_, target, settings):
        settings.update({
            "output_file": "render",
            "transparent": options.transparent,
            # GIFs are made from the MP4 below: manim's own are ~100x larger
            "format": None if fmt in ("png", "gif") else fmt,
            "write_to_movie": fmt != "png",
            "save_last_frame": fmt == "png",
        })
        if fmt in ("webm", "mov"):
            settings["movie_file_extension"] = f".{fmt}"
        with tempconfig(settings):
            scene = (InkScene(topology, trace, options) if compare is None else
                     CompareScene(*compare, options))
            scene.ahead = ahead
            scene.one_stream = True  # nothing cached, no section saved: one encoder
            scene.on_progress = with_stop_points(progress)
            scene.render()
            writer = scene.renderer.file_writer
            produced = Path(writer.image_file_path if fmt == "png" else writer.movie_file_path)
        if not produced.is_file():
            raise ToolError(f"manim produced no file (expected {produced})", "manim")
        board = scene.board
        said = duration_notice(board.steps if board else [], options.duration, options.story)
        if said and notice and fmt != "png":
            notice(said)
        cues = board.cues() if isinstance(board, PairBoard) else caption_cues(
            board.steps if board else [], options.hold)
        title = title_seconds(options)
        cues = after_title(cues, title, options.title)
        if fmt == "gif":
            produced = mp4_to_gif(produced, produced.with_suffix(".gif"))
        if embed_subtitles:
            produced = embed(produced, cues, produced.with_name("subtitled.mp4"))
        with atomic_path(out, suffix=target.suffix, inputs=inputs) as tmp:
            shutil.move(produced, tmp)
        if subtitles is not None:
            write_vtt(cues, subtitles)
        if chapters is not None and board is not None:
            write_vtt(after_title(chapter_cues(board.steps, board.hold), title, "title"),
                      chapters)
    return Path(out)


@contextlib.contextmanager
def manim_work(out: str | os.PathLike[str], quality: str, prefix: str,
               inputs: Inputs = ()) -> Iterator[tuple[Path, Path, dict[str, Any]]]:
    """A scratch folder beside the output and manim settings for it: ``(work, target,
    settings)``. The output path is checked first, so a bad ``-o`` fails before rendering.

    The folder is ``<prefix><pid>-XXXX``: removed on any exception (SIGTERM included, see
    :mod:`inkworm.cli`); when a process is killed outright (SIGKILL) its folder stays, and the
    next render beside the same target sweeps it (:func:`~inkworm.output.sweep_leftovers`).
    """
    if quality not in QUALITIES:
        raise InputError(f"unknown quality {quality!r} (one of {', '.join(QUALITIES)})")
    target = check_target(out, inputs)
    with made_parents(target.parent, out):
        sweep_leftovers(target.parent, prefix)
        with tempfile.TemporaryDirectory(prefix=leftover_prefix(prefix),
                                         dir=target.parent) as work:
            settings: dict[str, Any] = {
                "quality": QUALITIES[quality], "media_dir": str(Path(work) / "media"),
                "disable_caching": True, "verbosity": "WARNING", "progress_bar": "none",
            }
            with deferred_stop():  # SIGTERM stops at a section (with_stop_points), see there
                yield Path(work), target, settings


def with_stop_points(progress: Callable[[int, int], None] | None) -> Callable[[int, int], None]:
    """The scene's progress callback, made a stop point: a SIGTERM or SIGHUP received while
    manim draws (:func:`~inkworm.errors.deferred_stop`) stops the render at the next section,
    inside manim's own clean-up of its encoder threads."""

    def on_progress(done: int, total: int) -> None:
        stop_point()
        if progress is not None:
            progress(done, total)

    return on_progress


def mp4_to_gif(video: Path, gif: Path, colours: int = 96, noise: int = 10) -> Path:
    """Every frame of ``video`` as a small looping GIF, each shown as long as in the video
    (a held frame is one frame of the MP4, :mod:`inkworm.render.writer`).

    One palette (from the last frame, which holds every colour of the run); pixels that moved
    less than ``noise`` (video compression noise) keep the previous frame's value, so each GIF
    frame stores only what really changed.
    """
    import av
    import numpy as np
    from PIL import Image

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        shown = [(float(frame.time or 0.0), frame.to_ndarray(format="rgb24"))
                 for frame in container.decode(stream)]
        if stream.duration is not None and stream.time_base is not None:
            end = float(stream.duration * stream.time_base)
        else:
            end = shown[-1][0] + 1 / float(stream.average_rate or 15)
    # GIF delays are whole centiseconds: each frame starts at its time, rounded; a frame
    # rounded to its successor's start is never seen
    ticks = [round(t * 100) * 10 for t, _ in shown] + [round(end * 100) * 10]
    frames = [rgb for (_, rgb), a, b in zip(shown, ticks, ticks[1:], strict=False) if b > a]
    ticks = [a for a, b in itertools.pairwise(ticks) if b > a] + [ticks[-1]]
    palette = Image.fromarray(frames[-1]).quantize(colours, method=Image.Quantize.MEDIANCUT)
    images = []
    previous = None
    for rgb in frames:
        if previous is not None:
            still = (np.abs(rgb.astype(np.int16) - previous).max(axis=2) < noise)
            rgb = np.where(still[..., None], previous, rgb).astype(np.uint8)
        previous = rgb.astype(np.int16)
        images.append(Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.NONE))
    delays = [b - a for a, b in itertools.pairwise(ticks)]
    images[0].save(gif, save_all=True, append_images=images[1:], loop=0, duration=delays,
                   disposal=1)
    return gif


def print_progress(done: int, total: int) -> None:
    """Progress on stderr: one line redrawn on a terminal, one line a section in a log."""
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        sys.stderr.write(f"\rrendering: section {done}/{total}{end}")
    else:
        sys.stderr.write(f"rendering: section {done}/{total}\n")
    sys.stderr.flush()
