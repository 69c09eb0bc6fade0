"""Commands that draw a run: ``render`` (video, GIF, still) and ``slides`` (a deck)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from inkworm.cli.common import (
    SEED,
    EnumChoice,
    F,
    Finite,
    check_output,
    echo_err,
    warn_dot,
    warn_ignored_run_options,
    worm_options,
)
from inkworm.layout import LAYOUTS
from inkworm.output import check_target
from inkworm.render.choices import Camera, Format, Quality, Style, Theme, values
from inkworm.render.outputs import OUTPUTS
from inkworm.render.pacing import Story
from inkworm.render.steps import Timing
from inkworm.run import Mode
from inkworm.topology import Topology
from inkworm.trace import Trace

if TYPE_CHECKING:  # the commands import what draws only when they run
    from inkworm.render.options import RenderOptions
    from inkworm.render.pair import Run

GRAPH = click.option("--graph", metavar="DOT",
                     help="The topology of a trace INPUT (default: the DOT file its header "
                          "names, beside it; else derived from the trace).")
LAYOUT = click.option("--layout", "layout_name", type=click.Choice(list(LAYOUTS)),
                      default="auto", show_default=True,
                      help="auto: DOT pos, else neato (sfdp for large graphs).")
LAYOUT_SEED = click.option("--seed", type=SEED, default=0, show_default=True,
                           help="Layout seed (0 to 2^32 - 1).")
THEME = click.option("--theme", type=click.Choice(values(Theme)), default="dark",
                     show_default=True, help="The slide around the chip: dark or light.")
COMPARE = click.option("--compare", "compare_path", metavar="INPUT2",
                       help="Side by side with a second run (a DOT file, simulated, or a "
                            "trace): one layout, steps aligned by visit, the maps' diff at "
                            "the end.")
COMPARE_MODE = click.option("--compare-mode", type=EnumChoice(Mode),
                            help="The probe mode of INPUT2 when it is a DOT file (default: "
                                 "--mode).")
"""Options every command that draws a run declares alike (render, slides, view)."""


def picture_options(func: F) -> F:
    """Options shared by the commands that draw a run (render, slides)."""
    decorators: list[Callable[[Any], Any]] = [
        click.argument("input_path", metavar="INPUT"),
        worm_options,
        GRAPH,
        click.option("-q", "--quality", type=click.Choice(values(Quality)),
                     help=", ".join(q.preset.label for q in Quality) + " (default: l for a video, "
                          "h for a still and for slides)."),
        click.option("--pace", type=Finite(min=0.1, max=10), default=1.0, show_default=True,
                     help="Reading pace: 2 = twice as slow, 0.5 = brisk. No caption is on "
                          "screen for less than max(1.5 s, 0.3 s a word, 1 s per 17 "
                          "characters) times this."),
        click.option("--timing", type=click.Choice([t.value for t in Timing]), default="uniform",
                     show_default=True, help="Equal steps, or proportional to t_us."),
        click.option("--duration", type=Finite(min=0.5, max=3600), metavar="SECONDS",
                     help="Fit the whole run in this many seconds (0.5 to 3600)."),
        click.option("--camera", type=click.Choice(values(Camera)),
                     default="auto", show_default=True,
                     help="follow: a close view that follows the ink, with a minimap of the "
                          "chip (auto: above 40 nodes); whole: the whole chip throughout."),
        click.option("--story", type=click.Choice([s.value for s in Story]),
                     help="How much is told: every step (full), captions summarising the "
                          "walk (visits, 60 s), or the key moments (key, 30 s). Default: "
                          "full up to 40 visits, visits beyond."),
        LAYOUT,
        LAYOUT_SEED,
        click.option("--transparent", is_flag=True,
                     help="No background outside the chip (text on plates: legible on any "
                          "slide)."),
        THEME,
        click.option("--style", type=click.Choice(values(Style)), default="ink",
                     show_default=True,
                     help="ink: dye in a moulded chip; schematic: flat fills."),
        click.option("--captions", type=click.Choice(["burned", "none"]),
                     help="Captions drawn into the frames, or none on screen (subtitles and "
                          "chapters are still written). Default: burned; none with "
                          "--embed-subtitles (a player shows them)."),
        click.option("--title", metavar="TEXT",
                     help="A title card before the run (a video), the deck's title (slides)."),
        COMPARE,
        COMPARE_MODE,
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _picture(kw: dict[str, Any]) -> tuple[Topology, Trace, RenderOptions, tuple[Run, Run] | None]:
    """Load the run (and the one it is compared with) and build the render options from the
    shared picture options: ``(topology, trace, options, compare)``."""
    from inkworm.render.options import named_options
    from inkworm.runs import load_run

    topology, trace = load_run(kw["input_path"], kw["spec"], kw["graph"])
    warn_ignored_run_options(trace.path is not None)  # a trace read from a file
    warn_dot(topology)
    options = named_options(timing=kw["timing"], duration=kw["duration"], pace=kw["pace"],
                            layout=kw["layout_name"], seed=kw["seed"],
                            transparent=kw["transparent"], theme=kw["theme"],
                            style=kw["style"], camera=kw["camera"], story=kw["story"],
                            captions=kw["captions"] or "burned", title=kw["title"])
    return topology, trace, options, _compared(kw, topology, trace)


def _compared(kw: dict[str, Any], topology: Topology,
              trace: Trace) -> tuple[Run, Run] | None:
    """The two runs of ``--compare``, labelled (``None`` without it)."""
    from inkworm.render.pair import label_runs
    from inkworm.runs import load_run

    other = kw["compare_path"]
    if other is None:
        if kw["compare_mode"] is not None:
            raise click.UsageError("--compare-mode goes with --compare")
        return None
    spec = kw["spec"]
    if kw["compare_mode"] is not None:
        spec = dataclasses.replace(spec, mode=kw["compare_mode"])
    second_topology, second = load_run(other, spec)
    if second.path is not None and kw["compare_mode"] is not None:
        echo_err("warning: --compare-mode ignored: INPUT2 is a trace (a run already made)")
    warn_dot(second_topology)
    return label_runs((topology, trace), (second_topology, second))


def _inputs(kw: dict[str, Any], topology: Topology) -> tuple[str | None, ...]:
    """Every file a picture command reads (an output may be none of them)."""
    return (kw["input_path"], kw["graph"], topology.path, kw["compare_path"])


@click.command()
@picture_options
@click.option("--format", "fmt", type=click.Choice([*(f.value for f in OUTPUTS), "html"]),
              help="Default: from -o's extension, else mp4. webm and mov keep alpha with "
                   "--transparent (VP9; ProRes 4444); png: the last frame, 1080p unless -q; "
                   "html: the page to step through (inkworm view).")
@click.option("-o", "--output", metavar="FILE",
              help="Output file (default: renders/<input>-<mode>.<format>).")
@click.option("--subtitles", metavar="FILE.vtt",
              help="Also write every caption as a WebVTT cue, with its exact interval.")
@click.option("--chapters", metavar="FILE.vtt",
              help="Also write WebVTT chapters: one per visit, one for the result.")
@click.option("--embed-subtitles", is_flag=True,
              help="Put every caption into the MP4 as a subtitle track (players show it).")
@click.option("--at", "at", metavar="SPEC[,SPEC...]",
              help="With --format png: the frame at seq=N, at an event (connect:f:a, "
                   "probe_start:d, crash) or final; several: one PNG each, OUT-<spec>.png.")
@click.option("--sheet", is_flag=True,
              help="With --at: one contact sheet of all the moments, each labelled.")
@click.option("--cols", type=click.IntRange(1, 12), metavar="N",
              help="With --sheet: N tiles a row (default: the grid closest to 16:9).")
def render(fmt: str | None, output: str | None, subtitles: str | None, chapters: str | None,
           embed_subtitles: bool, at: str | None, sheet: bool, cols: int | None,
           **kw: Any) -> None:
    """Render INPUT (a DOT file, simulated, or a trace) as ink in a chip."""
    from inkworm.render.video import default_output, output_format, print_progress
    from inkworm.render.video import render as run

    check_output(output, kw["input_path"], kw["graph"], kw["compare_path"])
    if fmt == "html" or (fmt is None and output is not None
                         and output.lower().endswith(".html")):
        _only_view_options()
        _write_view(kw, output)
        return
    fmt = output_format(fmt, output, kw["transparent"])
    unburned = embed_subtitles and kw["captions"] is None
    if unburned:
        kw["captions"] = "none"
    if at is not None and fmt != "png":
        raise click.UsageError("--at goes with --format png")
    if sheet and at is None:
        raise click.UsageError("--sheet goes with --at")
    if cols is not None and not sheet:
        raise click.UsageError("--cols goes with --sheet")
    topology, trace, options, compare = _picture(kw)
    target = output or str(default_output(kw["input_path"], trace, fmt))
    if at is not None:
        from inkworm.render.stills import moments, stills

        traces = (trace,) if compare is None else (compare[0].trace, compare[1].trace)
        for path in stills(topology, trace, moments(at, *traces), target,
                           kw["quality"] or "h", options, inputs=_inputs(kw, topology),
                           compare=compare, sheet=sheet, cols=cols):
            echo_err(f"wrote {path}")
        return
    quality = kw["quality"] or OUTPUTS[Format(fmt)].quality  # a still is a slide's picture
    done = run(topology, trace, target, quality, fmt, options,
               progress=print_progress, inputs=_inputs(kw, topology),
               subtitles=subtitles, chapters=chapters, embed_subtitles=embed_subtitles,
               compare=compare, notice=lambda line: echo_err(f"note: {line}"))
    if unburned:  # said once it is done: a refused option stays one line
        echo_err("note: --embed-subtitles: no captions drawn into the frames (the player "
                  "shows the subtitle track; --captions burned draws them as well)")
    echo_err(f"wrote {done}")


@click.command()
@picture_options
@click.option("-o", "--output", metavar="FILE.html",
              help="The deck (default: renders/<input>-<mode>.html).")
def slides(output: str | None, **kw: Any) -> None:
    """Turn INPUT into a self-contained reveal.js deck, one slide per visit."""
    from inkworm.render.slides import make_deck
    from inkworm.render.video import default_output, print_progress, with_stop_points

    check_output(output, kw["input_path"], kw["graph"], kw["compare_path"])
    topology, trace, options, compare = _picture(kw)
    target = output or str(default_output(kw["input_path"], trace, "html"))
    check_target(target, _inputs(kw, topology))
    done = make_deck(topology, trace, target, kw["quality"] or "h", options,
                     progress=with_stop_points(print_progress), compare=compare,
                     notice=lambda line: echo_err(f"note: {line}"))
    echo_err(f"wrote {done}")


@click.command()
@click.argument("input_path", metavar="INPUT")
@worm_options
@GRAPH
@THEME
@LAYOUT
@LAYOUT_SEED
@COMPARE
@COMPARE_MODE
@click.option("-o", "--output", metavar="FILE.html", help="Write here (default: INPUT's name "
              "with .html, in renders/).")
def view(output: str | None, **kw: Any) -> None:
    """A page to step through INPUT (a DOT file, simulated, or a trace): the chip, the panel
    and space-time lanes, event by event (space, arrows, Shift+arrows, Home/End, +/-); with
    --compare, two runs side by side on one track of steps aligned by visit."""
    check_output(output, kw["input_path"], kw["graph"], kw["compare_path"])
    _write_view(kw, output)


VIEW_OPTIONS = {"input_path", "launch", "mode", "edge_order", "auto_connect", "strategy",
                "collect", "graph", "theme", "layout_name", "seed", "compare_path",
                "compare_mode", "fmt", "output"}
"""What ``render --format html`` takes: the options of ``inkworm view``."""


def _only_view_options() -> None:
    """``render --format html`` makes the viewer: an option given that it cannot honour
    (a video's: quality, pace, subtitles, ...) is one line, not silence."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    for param in ctx.command.params:
        if param.name and param.name not in VIEW_OPTIONS and \
                ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE:
            flag = param.opts[-1] if param.opts else param.name
            raise click.UsageError(f"{flag} does not apply to --format html (the viewer: "
                                   "inkworm view takes --theme, --layout, --seed, --compare)")


def _write_view(kw: dict[str, Any], output: str | None) -> None:
    """The viewer's page of INPUT (and of INPUT2 with ``--compare``), written atomically."""
    from inkworm.output import atomic_text
    from inkworm.render.viewer import view_html
    from inkworm.runs import load_run

    if output is not None and not output.lower().endswith(".html"):
        raise click.UsageError(f"{output}: the viewer is one HTML file: name it .html")
    topology, trace = load_run(kw["input_path"], kw["spec"], kw["graph"])
    warn_ignored_run_options(trace.path is not None)
    warn_dot(topology)
    compare = _compared(kw, topology, trace)
    page = view_html(topology, trace, kw["theme"], kw["layout_name"], kw["seed"], compare)
    target = output or str(Path("renders") / (Path(kw["input_path"]).stem + ".html"))
    with atomic_text(target, _inputs(kw, topology)) as stream:
        stream.write(page)
    echo_err(f"wrote {target}")
