"""The chip and its text, advanced along the timeline: everything a frame shows, without manim.

:class:`Board` owns the raster chip (:mod:`inkworm.render.raster`), the painter that plays the
steps on it and the text (title, legend, tags, caption, side panel). The manim scene
(:mod:`inkworm.render.scene`) only moves it in time and hands its frame to the camera; tests
and the pytest plugin use it directly to look at any moment of a run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from inkworm.layout import Positions
from inkworm.render import hud
from inkworm.render import palette as P
from inkworm.render.camera import Viewport
from inkworm.render.frame import Frame
from inkworm.render.legend import draw_legend, legend_items
from inkworm.render.options import (
    PANEL_EVERY,
    RenderOptions,
)
from inkworm.render.painter import Painter
from inkworm.render.panel import PANELS, names_fit, result_panel, with_chart
from inkworm.render.plan import plan_chip
from inkworm.render.raster import Chip
from inkworm.render.schedule import caption_schedule
from inkworm.render.tags import Tags
from inkworm.render.timeline import (
    CONDENSE_ABOVE,
    Step,
    StepKind,
)
from inkworm.run import AutoConnect, Strategy
from inkworm.topology import Topology
from inkworm.trace import Result, Trace
from inkworm.views import (
    Edge,
    RunState,
    growth,
    topology_diff,
    walk,
)

MIN_TEXT_1080 = 14
"""No panel text is smaller than this many pixels at 1080p (in proportion at other sizes)."""
MIN_PAIR_TEXT_1080 = 18
"""...nor, side by side in a comparison (a talk's slide), than this."""



class Board:
    """The chip plus its text: advances ink and captions together along the timeline."""

    def __init__(self, trace: Trace, topology: Topology, steps: Sequence[Step],
                 options: RenderOptions, width: int, height: int, *, compact: bool = False,
                 stacked: bool = False, title: str | None = None,
                 positions: Positions | None = None,
                 legend: Sequence[tuple[str, str]] | None = None,
                 measured: Mapping[str, list[tuple[int, int]]] | None = None,
                 spurious: Sequence[Edge] | None = None) -> None:
        """``compact``: one side of a comparison, titled ``title`` (``stacked``: one above the
        other, :class:`Frame`; ``legend``: its items, none, or by default
        :func:`legend_items` of this run); ``positions``: the
        layout to use (a comparison lays both sides out once); ``measured``: the tags'
        sizes, :func:`measure_tags` of this topology and frame (measured while the layout
        is worked out); ``spurious``: the edges the result panel counts,
        ``topology_diff(trace, topology).spurious`` (worked out then too)."""
        self._measured = measured
        self._spurious = spurious
        self.trace, self.topology, self.options = trace, topology, options
        self.legend = list(legend_items(trace, steps) if legend is None else legend)
        self.f = Frame(width, height, compact or stacked, stacked, bool(self.legend))
        self.title = title
        self.hold = options.hold
        """Seconds the final frame is held."""
        # names are the topology's already (views.renamed, when the run was loaded)
        self.launch = trace.header.launch
        plan = plan_chip(topology, steps, options, self.f, positions)
        self.steps, self.world = plan.steps, plan.world
        etched, zoom, box = plan.etched, plan.zoom, plan.box
        geometry = plan.geometry
        self.theme = P.THEMES[options.theme]
        self.chip = Chip(geometry, self.world, launch=self.launch,
                         transparent=options.transparent, extra_channels=etched,
                         background=self.theme.background, shadow=self.theme.shadow,
                         style=options.style)
        self.screen: Chip | Viewport = self.chip
        """What the frame shows: the chip, or a window onto it (:mod:`~inkworm.render.camera`)."""
        if zoom > 1:
            base = np.zeros((height, width, 4), dtype=np.uint8)
            if not options.transparent:
                base[...] = (*self.theme.background, 255)
            x0, y0, x1, y1 = box
            self.screen = Viewport(self.chip, (x0, y0, x1, y1), base, self.steps)
        self.painter = Painter(self.chip, self.steps)
        self.schedule = caption_schedule(self.steps)
        self.shown = -1
        f = self.f
        self._caption_top = (max(f.chip[3], f.panel_bottom) if f.compact and not f.stacked
                             else f.chip[3]) + 0.01 * f.height
        """No caption reaches above this (pixels): the chip, or a comparison's panels."""
        self._start_panel(trace)
        self._caption_box: tuple[int, int, int, int] | None = None
        self._draw_static()

    def _start_panel(self, trace: Trace) -> None:
        """The side panel's state: the step it shows, when it last moved, its text size."""
        self._panel_step = -1
        """The step whose state the panel shows (:meth:`_step_index`)."""
        self._panel_time = -math.inf
        """When (timeline seconds) the panel last moved to a later step."""
        self._panel_now: tuple[tuple[hud.Span, ...], ...] = ()
        self._panel_grown: tuple[int, ...] | None = None
        grown = growth(trace)  # (one fold: its length is the number of visits)
        self._growth = grown if len(grown) > CONDENSE_ABOVE and grown[-1] else None
        """A large run's connections made after each visit (the panel's chart), if it makes
        any."""
        self._fit: dict[bool, int] = {}
        """The text size the panels of each kind (lines, or a chart under them) have shrunk to:
        the next one starts there (a panel grows little from step to step, and its text then
        keeps one size instead of jumping between sizes)."""
        self._walk = walk(trace)
        self._state = RunState()
        self._panel_box: tuple[int, int, int, int] | None = None
        self._panel_args: tuple[Any, Callable[[int, int], bool] | None] | None = None
        """What the panel was last drawn from (:meth:`repanel`)."""
        self.panel_size = 0
        """The panel's text size as last drawn (pixels)."""

    # --- static text --------------------------------------------------------------------------

    def _draw_static(self) -> None:
        f, base = self.f, self.screen.base
        h = self.trace.header
        source = {"beam": "recorded on a real BEAM", "simulated": "simulated",
                  "log": "from a console log"}[h.source.value]
        never = "  ·  dist_auto_connect never" if h.auto_connect is AutoConnect.NEVER else ""
        probe = (h.strategy or Strategy.SEQUENTIAL).probes
        title = self.title or (f"{h.graph or 'cluster'}  ·  {h.mode.value} {probe}{never}  ·  "
                               f"launched from {h.launch}  ·  {source}")
        t = self.theme
        self.labels = [self.text(
            base, hud.render_lines((hud.plain(title, t.text if f.compact else t.text_dim),),
                                   f.size(0.034), max_width=int(0.96 * f.width)),
            0.015 * f.width, 0.022 * f.unit)]
        """Where the static text is (the title, the legend's labels): for tests of contrast."""
        self.labels += draw_legend(base, self.legend, f, self.theme,
                                   plate=self.text if self.options.transparent else None)
        self.tagging = Tags(self.chip, self.f, self.world, self.topology, self.trace,
                            self._measured)
        """The wells' name tags (:mod:`~inkworm.render.tags`)."""
        self.chip.refresh()
        if isinstance(self.screen, Viewport):
            self.screen.frame[...] = self.screen.base
            self.screen.changed()
            self.screen.composite()

    # --- moving text ------------------------------------------------------------------------

    def advance(self, tau: float) -> None:
        if isinstance(self.screen, Viewport):
            self.screen.time = max(tau, self.screen.time)
        self.painter.advance(tau)
        index = self._caption_index(tau)
        captioned = index != self.shown
        if captioned:
            self.shown = index
            self._show(self.schedule[index][1])
        at = self._step_index(tau)
        # the fold's state at the step on screen: with each caption, and between captions at
        # most every PANEL_EVERY seconds (a large run's steps pass faster than anyone reads)
        if at >= 0 and at != self._panel_step and (
                captioned or tau >= self._panel_time + PANEL_EVERY - 1e-9):
            self._panel_step, self._panel_time = at, tau
            lines = self._panel_lines(self.steps[at])
            grown = self._grown()
            if (lines, grown) != (self._panel_now, self._panel_grown):
                self._panel_now, self._panel_grown = lines, grown
                if grown is None or self._growth is None:
                    self._set_panel(lines)
                else:
                    self._set_panel(with_chart(lines, grown, self._growth, self.theme))

    def _grown(self) -> tuple[int, ...] | None:
        """The growth chart's series at the state last read (``None``: no chart)."""
        if self._growth is None:
            return None
        return self._growth[:max(1, len(self._state.visited))]

    def _step_index(self, tau: float) -> int:
        """The last step started by ``tau`` (-1: none): a condensed caption covers many
        steps, and the panel follows each of them, as the ink does."""
        index = self._panel_step
        while index + 1 < len(self.steps) and self.steps[index + 1].start <= tau + 1e-9:
            index += 1
        return index

    def _caption_index(self, tau: float) -> int:
        index = max(self.shown, 0)
        while index + 1 < len(self.schedule) and self.schedule[index + 1][0] <= tau + 1e-9:
            index += 1
        return index

    def _show(self, step: Step) -> None:
        f, frame = self.f, self.screen.frame
        t = self.theme
        colour = t.warn if (step.kind is StepKind.ETCH or "measurement" in step.caption) \
            else (t.error if not step.ok else t.text)
        self._restore(self._caption_box)
        if not self.options.captions:  # a player shows them (subtitles), or the speaker
            self._caption_box = None
            self.tagging.retag(step, self.state_after(step.seqs[-1]))
            return
        centre, bottom, width = f.caption  # inside the action-safe area
        room = bottom - self._caption_top  # between the chip (or panel) and the edge
        size = f.caption_size
        while True:
            block = hud.render_lines(hud.wrapped(step.caption, colour, size, width), size,
                                     spacing=1.15, max_width=width, centred=True)
            if block.height <= room or size <= 6:
                break
            size -= 1
        self._caption_box = self.text(frame, block, centre, bottom, anchor="mb")
        self.tagging.retag(step, self.state_after(step.seqs[-1]))

    def _set_panel(self, lines: tuple[tuple[hud.Span, ...], ...] | Callable[[int, int, bool],
                                                                          hud.TextBlock],
                   fits: Callable[[int, int], bool] | None = None) -> None:
        """Draw the panel: lines, or a function of (text size, width, condensed) that draws
        it. Text shrinks until the panel fits above the legend (or, compact, the caption),
        never below :data:`MIN_TEXT_1080` pixels at 1080p: past that the panel is condensed
        (a map as counts, lines cut with an ellipsis)."""
        f = self.f
        self._panel_args = (lines, fits)
        self._restore(self._panel_box)
        x, y, width = f.panel
        if callable(lines):
            build = lines
        else:
            fixed = lines

            def build(size: int, room: int, condensed: bool) -> hud.TextBlock:
                block = hud.render_lines(fixed, size, max_width=room)
                kept = len(fixed)
                while condensed and block.height > tall and kept > 1:
                    kept -= 1
                    cut = (*fixed[:kept], hud.plain("\u2026", self.theme.text_dim))
                    block = hud.render_lines(cut, size, max_width=room)
                return block

        tall = f.panel_bottom - y
        floor = max(6, round((MIN_PAIR_TEXT_1080 if f.compact else MIN_TEXT_1080)
                             * f.unit / 1080))
        largest = f.size(0.036 * f.text_scale)
        kind = callable(lines)
        start = self._fit.get(kind, largest)
        size, block = self._fitted(build, start, floor, width, tall, False, fits)
        self._fit[kind] = size  # one size for the run's panels of a kind: no text that jumps
        if block.height > tall:
            size, block = self._fitted(build, largest, floor, width, tall, True)
        self.panel_size = size
        self.panel_extent = (int(x), int(y), int(x) + block.width, int(y) + block.height)
        """Where the panel as last drawn reaches, unclipped by the frame (pixels)."""
        self._panel_box = self.text(self.screen.frame, block, x, y)

    def repanel(self) -> None:
        """Draw the panel again as last drawn, from the size its kind has shrunk to since
        (a comparison's other side needed a smaller one: both in one size)."""
        if self._panel_args is not None:
            self._set_panel(*self._panel_args)

    @staticmethod
    def _fitted(build: Callable[[int, int, bool], hud.TextBlock], size: int, floor: int,
                width: int, tall: float, condensed: bool,
                fits: Callable[[int, int], bool] | None = None) -> tuple[int, hud.TextBlock]:
        """The panel at the largest size from ``size`` down to ``floor`` that is at most
        ``tall`` pixels high and ``fits`` (a test of size and width: names shown whole), at
        ``floor`` if none is, with that size."""
        while fits is not None and size > floor and not fits(size, width):
            size -= 1
        block = build(size, width, condensed)
        if block.height > tall and size > floor:  # a long map: smaller text
            size = max(floor, int(size * tall / block.height))
            block = build(size, width, condensed)
            while block.height > tall and size > floor:
                size -= 1
                block = build(size, width, condensed)
        return size, block

    def text(self, frame: Any, block: hud.TextBlock, x: float, y: float,
             anchor: str = "lt") -> tuple[int, int, int, int]:
        """Blit a text block; on a transparent frame over a plate of the theme's colour, so
        that it reads on a white slide and on a black one."""
        if self.options.transparent:
            pad = max(3, round(0.008 * self.f.unit))
            block = hud.plated(block, self.theme.plate, P.PLATE_ALPHA, pad)
            x -= pad if anchor[0] == "l" else 0
            y += {"t": -pad, "b": pad, "m": 0}[anchor[1]]
        box = hud.blit(frame, block, x, y, anchor)
        if frame is self.screen.frame:
            self.screen.changed(box)  # the frame shows something new (its version says so)
        return box

    def _restore(self, box: tuple[int, int, int, int] | None) -> None:
        """Put the base back where a text block was."""
        if box is not None:
            x0, y0, x1, y1 = box
            self.screen.frame[y0:y1, x0:x1] = self.screen.base[y0:y1, x0:x1]
            self.screen.changed(box)

    def state_after(self, seq: int) -> RunState:
        """The run's state after event ``seq``, from the one fold (:func:`views.walk`), read
        forward as captions move forward."""
        state = self._state
        while state.event is None or state.event.seq < seq:
            step = next(self._walk, None)
            if step is None:
                break
            state = step[1]
        self._state = state
        return state

    def _panel_lines(self, step: Step) -> tuple[tuple[hud.Span, ...], ...]:
        """The walk's panel after ``step`` (captions only move forward)."""
        strategy = self.trace.header.strategy or Strategy.SEQUENTIAL
        return PANELS[strategy](self.state_after(step.seqs[-1]), self.theme)

    def highlight(self, step: Step) -> None:
        """Mark ``step`` on the chip (glowing rings on its wells) and in the caption."""
        for node in (step.node, step.peer):
            if node in self.chip.wells:
                self.chip.ring(node, 1.0, "glow")
        self.screen.composite()
        self._restore(self._caption_box)
        centre, bottom, width = self.f.caption
        block = hud.render_lines((hud.plain(f"\u25b6 seq {step.seqs[-1]}: {step.caption}",
                                            self.theme.warn),), self.f.caption_size,
                                 max_width=width)
        self._caption_box = self.text(self.screen.frame, block, centre, bottom, anchor="mb")

    def finish(self) -> None:
        """Draw the end state: all ink, and the result map next to the true topology."""
        self.painter.finish()
        if self.schedule:
            self.shown = len(self.schedule) - 1
            self._show(self.schedule[-1][1])
        outcome = self.trace.outcome
        if isinstance(outcome, Result):
            self._set_panel(self._result_lines(outcome),
                            fits=lambda size, width: names_fit(outcome.map, size, width))
        elif self.steps:  # a crash or a cut trace: the state at its end
            self._panel_step = len(self.steps) - 1
            self._set_panel(self._panel_lines(self.steps[-1]))
        if isinstance(self.screen, Viewport):
            self.screen.whole = True  # the end: the whole chip, the measurement's star
        self.screen.composite()

    def _result_lines(self, outcome: Result) -> Callable[[int, int, bool], hud.TextBlock]:
        """The result panel, the spurious edges counted exactly as ``check --graph`` counts
        them (:attr:`spurious`)."""
        self.spurious = list(self._spurious) if self._spurious is not None else \
            topology_diff(self.trace, self.topology).spurious  # topology names
        """The spurious edges the result panel counts (as ``check --graph`` lists them)."""
        return result_panel(outcome, self.trace, self.topology, self.spurious, self._growth,
                            self.theme)
