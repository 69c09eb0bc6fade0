"""``inkworm slides``: a run as a reveal.js deck, one slide per visit (manim-slides).

The deck is one self-contained HTML file (videos and reveal.js inlined), written atomically.
reveal.js is not downloaded at run time (no network): ``scripts/bootstrap.sh`` takes it from
the npm registry (``npm pack reveal.js@REVEAL_VERSION``) into the package
(``inkworm/render/reveal``, package data, so a wheel carries it), and this module hands those
files to manim-slides through its asset cache.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inkworm.errors import InputError, ToolError
from inkworm.output import atomic_path
from inkworm.render.options import RenderOptions
from inkworm.render.pair import Run
from inkworm.render.palette import THEMES, rgb_hex
from inkworm.render.timeline import Step, StepKind, duration_notice, slide_groups
from inkworm.render.video import manim_work
from inkworm.safe import html_text, with_csp
from inkworm.topology import Topology
from inkworm.trace import Trace
from inkworm.views import topology_diff, visit_order

if TYPE_CHECKING:  # manim is imported only by a command that draws
    from inkworm.render.scene import CompareScene, InkScene

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
        raise ToolError(f"reveal.js {REVEAL_VERSION} is not installed at {source} (missing "
                         f"{missing[0]}): run 'make setup', which takes it from the npm "
                         "registry", "reveal.js")
    cache = user_cache_path("manim-slides") / f"revealjs{REVEAL_VERSION}"
    cache.mkdir(parents=True, exist_ok=True)
    for name in REVEAL_FILES:
        target = cache / Path(name).name
        if not target.exists():
            shutil.copyfile(source / name, target)


def deck_template() -> Path:
    """inkworm's reveal.js template for manim-slides (see its first lines)."""
    return Path(str(resources.files("inkworm") / "render" / "deck.html"))


def speaker_view_script() -> str:
    """The script of reveal.js's speaker view: the notes plugin writes it into the window it
    opens, which inherits the deck's Content-Security-Policy, so the policy allows it by hash.
    It stands in ``notes.js`` as a JavaScript template literal, read here as JavaScript does."""
    source = (reveal_dir() / "dist/plugin/notes.js").read_text(encoding="utf-8")
    start = source.find("<script>")
    end = source.find("<\\/script>", start)
    if start < 0 or end < 0 or "${" in source[start:end]:
        raise ToolError(f"reveal.js's notes plugin at {reveal_dir()} is not the one of reveal.js "
                        f"{REVEAL_VERSION} (its speaker view script was not found)", "reveal.js")
    literal = source[start + len("<script>"):end]
    return re.sub(r"\\(.)", lambda m: _COOKED.get(m.group(1), m.group(1)), literal, flags=re.S)


_COOKED = {"n": "\n", "t": "\t", "r": "\r"}
"""A template literal's escapes that stand for another character (the others stand for the
character they escape: a backslash, a backtick, a dollar sign, a slash)."""


_SOURCES = {"beam": "recorded on a real BEAM cluster", "simulated": "simulated",
            "log": "imported from a console log"}


def title_lines(trace: Trace) -> tuple[str, str]:
    """The title slide: what the run is, in two lines."""
    h = trace.header
    graph = h.graph or "a cluster"
    return (f"A worm in {graph}",
            f"{h.mode.value} probe \u00b7 launched from {h.launch} \u00b7 "
            f"{_SOURCES.get(h.source.value, h.source.value)}")


def title_notes(trace: Trace) -> str:
    """Speaker notes of the title slide."""
    h = trace.header
    nodes = len(visit_order(trace))
    why = ("The naive probe runs each remote call with the caller's group leader: output from "
           "deeper nodes travels back to the launcher, and those nodes connect to it. Watch for "
           "orange channels: edges the measurement itself creates."
           if h.mode.value == "naive" else
           "The fixed probe resets its group leader to the local init process first, so the "
           "walk creates no connection of its own: the map should be exact.")
    return (f"A self-propagating probe maps a sparsely connected Erlang cluster from {h.launch}: "
            f"a sequential depth-first flood fill over {nodes} nodes, shipping its own code with "
            f":code.load_binary over :erpc. {why}")


_WHY = {
    StepKind.ETCH: ("This connection is the measurement's own doing: the probe's output goes to "
                    "the launcher's group leader, and with dist_auto_connect the node connects "
                    "to the launcher to deliver it."),
    StepKind.FAULT: "A call failed here.",
    StepKind.CRASH: ("The failure propagates up the call chain: the whole worm fails, and the "
                     "launcher gets no map at all."),
}


def slide_notes(group: Sequence[Step], trace: Trace) -> str:
    """Speaker notes of one slide: what happened, and why it matters."""
    said: list[str] = []
    for step in group:
        if step.kind in (StepKind.SKIP, StepKind.RETURN) and len(group) > 4:
            continue  # the slide's point, not every skip and answer
        line = step.caption if step.caption.endswith((".", "?", "!")) else step.caption + "."
        if step.kind in _WHY:
            line += " " + _WHY[step.kind]
        elif step.kind is StepKind.ASK and "artefact" in step.caption:
            line += (" The launcher is in this node's nodes() only because the walk connected "
                     "them: the map will report an edge the cluster does not have.")
        said.append(line)
    skips = sum(step.kind is StepKind.SKIP for step in group)
    answers = sum(step.kind is StepKind.RETURN for step in group)
    if len(group) > 4 and (skips or answers):
        said.append(f"({skips} skip{'s' if skips != 1 else ''} of visited nodes, {answers} "
                    f"answer{'s' if answers != 1 else ''} flowing back.)")
    return " ".join(said)


def result_notes(trace: Trace, topology: Topology) -> str:
    """Speaker notes of the last slide: the map, and what is wrong with it."""
    outcome = trace.outcome
    if outcome is None or outcome.kind.value != "result":
        return ("The worm failed: no map came back. One failed call anywhere ends the whole "
                "sequential walk.")
    spurious = topology_diff(trace, topology).spurious
    if not spurious:
        return (f"The launcher has the map of {len(visit_order(trace))} nodes, and it is the "
                "true topology: the walk created no connection of its own.")
    edges = ", ".join(f"{a}\u2013{b}" for a, b in spurious)
    return (f"The launcher has a map of {len(visit_order(trace))} nodes, with {len(spurious)} "
            f"edge{'s' if len(spurious) > 1 else ''} the cluster does not have: {edges}. "
            "Every visited node that is not the launcher's neighbour ended up connected to it. "
            "The fix: reset the group leader (:erlang.group_leader(:erlang.whereis(:init), "
            "self())) before anything prints.")


def compare_title(a: Run, b: Run) -> tuple[tuple[str, str], str]:
    """The title slide of a comparison and its notes."""
    h = a.trace.header
    lines = (f"A worm in {h.graph or 'a cluster'}: {a.label} | {b.label}",
             f"left: {a.title}  \u00b7  right: {b.title}")
    notes = (f"Two runs side by side, aligned visit by visit: {a.title} on the left, {b.title} "
             f"on the right. {title_notes(a.trace)}")
    return lines, notes


def compare_result_notes(a: Run, b: Run) -> str:
    """Speaker notes of a comparison's last slide: the diff, then each side's map."""
    from inkworm.render.pair import diff_text

    return (f"{diff_text(a, b)}. {a.label}: {result_notes(a.trace, a.topology)} "
            f"{b.label}: {result_notes(b.trace, b.topology)}")


def make_deck(topology: Topology, trace: Trace, out: str | os.PathLike[str],
              quality: str = "l", options: RenderOptions | None = None,
              progress: Callable[[int, int], None] | None = None,
              compare: tuple[Run, Run] | None = None,
              notice: Callable[[str], None] | None = None) -> Path:
    """Render the run as slides (one per visit, plus the result) into one HTML file;
    ``compare``: two runs side by side (the first is ``topology``/``trace``), one slide per
    aligned visit. ``notice``: told, in one line, when ``--duration`` cannot be kept."""
    from manim import tempconfig

    if Path(out).suffix.lower() != ".html":
        raise InputError(f"{out}: a deck is one HTML file: name it .html")
    prime_reveal_cache()
    ink_slides, pair_slides = _deck_scenes()  # (importing manim-slides sets its log level)
    logging.getLogger("manim-slides").setLevel(logging.WARNING)
    options = options or RenderOptions()
    with manim_work(out, quality, ".inkworm-slides-") as (work, target, settings):
        if options.transparent:  # the slide shows through: VP9 with alpha, as browsers play
            settings.update({"transparent": True, "format": "webm"})
        with tempconfig(settings):
            scene: InkScene = (
                ink_slides(topology, trace, options, output_folder=work / "slides")
                if compare is None else
                pair_slides(*compare, options, output_folder=work / "slides"))
            scene.on_progress = progress
            scene.render()
        said = duration_notice(scene.board.steps if scene.board else [], options.duration,
                               options.story)
        if said and notice:
            notice(said)
        _write_deck(work, type(scene).__name__, options, trace, target)
    return Path(out)


@functools.cache
def _deck() -> type[Any]:
    """The deck's part of a slides scene: a title slide, one slide per visit ending on its
    key event, each with speaker notes, the map held on the last (a manim-slides ``Slide``;
    made once: manim-slides is imported only by a command that makes a deck)."""
    from manim_slides.slide import Slide

    from inkworm.render.scene import title_card as card_and_backdrop

    class Deck(Slide):
        """The ink scene as a deck: a title slide, one slide per visit ending on its key
        event, each with speaker notes, and the map held on the last."""

        skip_reversing = True
        title_card: list[Any] = []  # noqa: RUF012 - set per instance by title_slide
        trace: Trace
        topology: Topology
        render_options: RenderOptions

        def title_text(self) -> tuple[tuple[str, str], str]:
            title, subtitle = title_lines(self.trace)
            return (self.render_options.title or title, subtitle), title_notes(self.trace)

        def show_title_card(self) -> None:
            """The deck's own title slide (:meth:`title_slide`) is the card."""

        def final_notes(self) -> str:
            return result_notes(self.trace, self.topology)

        def construct(self) -> None:
            self.title_slide()
            super().construct()

        def title_slide(self) -> None:
            from manim import FadeIn, FadeOut

            (title, subtitle), notes = self.title_text()
            text, backdrop = card_and_backdrop(title, subtitle, self.render_options.theme)
            self.next_slide(notes=notes)  # the notes of the slide it opens
            self.add(backdrop)
            self.play(FadeIn(text), run_time=0.6)
            self.wait(0.5)
            self.title_card = [FadeOut(text), FadeOut(backdrop)]

        def sections(self, steps: list[Step]) -> list[list[Step]]:
            return slide_groups(steps)

        def open_section(self, group: list[Step]) -> None:
            visits = [step.visit for step in group if step.visit]
            name = "visit " + " ".join(dict.fromkeys(visits)) if visits else "answers"
            self.next_slide(name, notes=slide_notes(group, self.trace))
            if self.title_card:
                self.play(*self.title_card, run_time=0.5)
                self.title_card = []

        def close(self, board: Any) -> None:
            self.next_slide("result", notes=self.final_notes())
            self.wait(board.hold)

    return Deck


@functools.cache
def _deck_scenes() -> tuple[type[InkScene], type[CompareScene]]:
    """The deck's scene classes, a run's and a comparison's."""
    from inkworm.render.compare import PairBoard, slide_cuts
    from inkworm.render.scene import CompareScene, InkScene

    Deck = _deck()

    class InkSlides(Deck, InkScene):  # type: ignore[misc,valid-type]
        """A run as a deck."""

    class PairSlides(Deck, CompareScene):  # type: ignore[misc,valid-type]
        """Two runs side by side as a deck: one slide per aligned visit."""

        def title_text(self) -> tuple[tuple[str, str], str]:
            (title, subtitle), notes = compare_title(*self.runs)
            return (self.render_options.title or title, subtitle), notes

        def final_notes(self) -> str:
            return compare_result_notes(*self.runs)

        def sections(self, steps: list[Step]) -> list[list[Step]]:
            assert isinstance(self.board, PairBoard)
            return slide_cuts(self.board)

    return InkSlides, PairSlides


def _write_deck(work: Path, scene: str, options: RenderOptions, trace: Trace,
                target: Path) -> None:
    """The rendered slides of ``scene`` into one offline HTML file at ``target`` (atomically),
    its notes as plain text, under a Content-Security-Policy."""
    from manim_slides.config import PresentationConfig
    from manim_slides.convert import RevealJS
    from pydantic_extra_types.color import Color

    config = PresentationConfig.from_file(work / "slides" / f"{scene}.json")
    for slide in config.slides:
        slide.notes = html_text(slide.notes)  # our template writes them as they are
    # the slide's own colour (a transparent deck's videos show it)
    config.background_color = Color(rgb_hex(THEMES[options.theme].background))
    deck = work / "deck.html"
    RevealJS.model_validate({
        "presentation_configs": [config], "one_file": True, "offline": True,
        "title": html_text(options.title or f"inkworm: {trace.header.graph or 'cluster'}"),
        "template": deck_template(),
    }).convert_to(deck)
    with atomic_path(target, suffix=target.suffix) as tmp:
        Path(tmp).write_text(with_csp(deck.read_text(encoding="utf-8"),
                                      [speaker_view_script()]), encoding="utf-8")
