"""``inkworm render``: any DOT file or trace to a video, GIF or still, written atomically."""

from __future__ import annotations

import contextlib
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
from inkworm.render.choices import PRESETS, Format, Quality, pick
from inkworm.render.compare import PairBoard
from inkworm.render.frame import Frame, measure_tags
from inkworm.render.options import RenderOptions, title_seconds
from inkworm.render.outputs import OUTPUTS
from inkworm.render.pair import Run
from inkworm.render.schedule import timeline
from inkworm.render.subtitles import after_title, caption_cues, chapter_cues, embed, write_vtt
from inkworm.render.timeline import duration_notice
from inkworm.topology import Topology
from inkworm.trace import Trace
from inkworm.views import renamed, topology_diff

_FORMATS = [f.value for f in OUTPUTS]
SIZES = {q.value: (p.width, p.height, p.fps) for q, p in PRESETS.items()}
"""The frame size and rate of each quality a board is made ahead for (of
:data:`~inkworm.render.choices.PRESETS`: a board made ahead for a size manim does not render
at is not used)."""


def output_format(fmt: str | None, output: str | os.PathLike[str] | None,
                  transparent: bool = False) -> str:
    """The format to write: ``fmt``, else what ``output``'s extension names, else mp4. An
    output is what its name says: an extension that names another format (or none inkworm
    writes) is refused, and so is ``transparent`` in a format without alpha."""
    suffix = Path(output).suffix.lower().lstrip(".") if output is not None else ""
    if fmt is not None:
        pick(Format, fmt, "format")
    if suffix == "html":
        raise InputError(f"{output}: a video writes {', '.join(_FORMATS)}; a page is "
                         "'inkworm view' (or render --format html), a deck is "
                         "'inkworm slides -o FILE.html'")
    if suffix and suffix not in _FORMATS:
        raise InputError(f"{output}: no format has the extension .{suffix} (render writes "
                         f"{', '.join('.' + f for f in _FORMATS)})")
    if fmt is not None and suffix and suffix != fmt:
        raise InputError(f"{output}: --format {fmt} would write {fmt.upper()} into a file "
                         f"named .{suffix}: name it .{fmt}, or drop --format")
    chosen = fmt or suffix or "mp4"
    if transparent and not Format(chosen).alpha:
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
    made = OUTPUTS[Format(fmt)]
    if not made.cues and (subtitles or chapters or embed_subtitles):
        raise InputError("--subtitles, --chapters and --embed-subtitles go with a video, not "
                         f"--format {fmt}")
    if embed_subtitles and not made.embeds:  # (a transparent MP4 is refused by output_format)
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

    made = OUTPUTS[Format(fmt)]
    for extra in (subtitles, chapters):
        if extra is not None:
            check_target(extra, inputs=(*inputs, out))
    with manim_work(out, quality, ".inkworm-render-", inputs) as (_, target, settings):
        settings.update({
            "output_file": "render",
            "transparent": options.transparent,
            "format": made.manim_format,
            "write_to_movie": not made.still,
            "save_last_frame": made.still,
        })
        if made.extension is not None:
            settings["movie_file_extension"] = made.extension
        with tempconfig(settings):
            scene = (InkScene(topology, trace, options) if compare is None else
                     CompareScene(*compare, options))
            scene.ahead = ahead
            scene.one_stream = True  # nothing cached, no section saved: one encoder
            scene.on_progress = with_stop_points(progress)
            scene.render()
            writer = scene.renderer.file_writer
            produced = Path(writer.image_file_path if made.still else writer.movie_file_path)
        if not produced.is_file():
            raise ToolError(f"manim produced no file (expected {produced})", "manim")
        board = scene.board
        said = duration_notice(board.steps if board else [], options.duration, options.story)
        if said and notice and not made.still:
            notice(said)
        cues = board.cues() if isinstance(board, PairBoard) else caption_cues(
            board.steps if board else [], options.hold)
        title = title_seconds(options)
        cues = after_title(cues, title, options.title)
        if made.finish is not None:
            produced = made.finish(produced)
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
    preset = pick(Quality, quality, "quality").preset
    target = check_target(out, inputs)
    with made_parents(target.parent, out):
        sweep_leftovers(target.parent, prefix)
        with tempfile.TemporaryDirectory(prefix=leftover_prefix(prefix),
                                         dir=target.parent) as work:
            settings: dict[str, Any] = {
                "quality": preset.manim, "media_dir": str(Path(work) / "media"),
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


def print_progress(done: int, total: int) -> None:
    """Progress on stderr: one line redrawn on a terminal, one line a section in a log."""
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        sys.stderr.write(f"\rrendering: section {done}/{total}{end}")
    else:
        sys.stderr.write(f"rendering: section {done}/{total}\n")
    sys.stderr.flush()
