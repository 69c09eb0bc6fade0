"""The manim scene: a worm run as ink in a microfluidic chip.

Only this module (and :mod:`inkworm.render.video`) import manim. The whole picture is one
:class:`InkLayer` that :class:`InkCamera` paints by copying the chip's frame (any other mobject
a user adds is laid over it): a frame costs one copy plus the pixels that changed, not the
chip's size. Each visit is a section (``next_section``) and one ``play``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from manim import Animation, Camera, Mobject, Scene, config

from inkworm.layout import layout
from inkworm.render import hud
from inkworm.render import palette as P
from inkworm.render.geometry import build, stretch
from inkworm.render.painter import Painter
from inkworm.render.raster import Chip
from inkworm.render.timeline import Step, StepKind, Timing, steps_from_trace, time_steps
from inkworm.topology import EdgeOrder, Topology, load_dot
from inkworm.trace import AutoConnect, Mode, ProbeEnd, ProbeStart, Result, Trace, load_trace
from inkworm.views import NameMatcher, map_edges
from inkworm.worm import simulate

ROOT = Path(__file__).resolve().parents[3]
LABELS_UP_TO = 40
"""Wells get name tags up to this many nodes (beyond, names would be unreadable)."""


@dataclass(frozen=True)
class RenderOptions:
    """How a trace becomes an animation."""

    timing: Timing = Timing.UNIFORM
    duration: float | None = None
    layout: str = "auto"
    seed: int = 0
    transparent: bool = False
    min_section: float = 0.5
    """Visits closer than this share a section (and a play)."""
    min_caption: float = 0.3
    """A caption stays at least this long (faster steps share it)."""
    hold: float = 1.6
    """Seconds the final frame is held."""


class InkLayer(Mobject):
    """The chip's raster; drawn by :class:`InkCamera`, never by Cairo."""

    def __init__(self, chip: Chip) -> None:
        super().__init__()
        self.chip = chip
        w, h = config.frame_width / 2, config.frame_height / 2
        # points only so that manim counts it as something to display (the frame's corners)
        self.points = np.array([[-w, -h, 0.0], [w, -h, 0.0], [w, h, 0.0], [-w, h, 0.0]])

    def __deepcopy__(self, memo: dict[int, Any]) -> InkLayer:
        return InkLayer(self.chip)  # the chip is shared, never copied (it is large)


class InkCamera(Camera):
    """A Cairo camera that paints :class:`InkLayer` by copying pixels, under other mobjects."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["background_opacity"] = 0.0  # the chip raster is the background
        super().__init__(*args, **kwargs)

    def capture_mobjects(self, mobjects: Any, **kwargs: Any) -> None:
        """As manim's (in order, in runs of one type), with :class:`InkLayer` runs ours."""

        def kind(mobject: Mobject) -> type:
            return InkLayer if isinstance(mobject, InkLayer) else self.type_or_raise(mobject)

        for group_type, group in itertools.groupby(
                self.get_mobjects_to_display(mobjects, **kwargs), kind):
            if group_type is InkLayer:
                self.display_ink([m for m in group if isinstance(m, InkLayer)],
                                 self.pixel_array)
            else:
                self.display_funcs[group_type](list(group), self.pixel_array)

    def display_ink(self, layers: list[InkLayer], pixel_array: np.ndarray) -> None:
        """Copy the chip's frame in, keeping what is already drawn (premultiplied) on top."""
        for layer in layers:
            layer.chip.composite()
            frame = layer.chip.frame
            over = pixel_array[..., 3] > 0
            if not over.any():
                pixel_array[...] = frame
                continue
            top = pixel_array[over].astype(np.float32)
            below = frame[over].astype(np.float32)
            alpha = top[:, 3:4] / 255.0
            top[:, :3] += below[:, :3] * (1 - alpha)
            top[:, 3] = np.maximum(top[:, 3], below[:, 3])
            pixel_array[...] = frame
            pixel_array[over] = np.clip(top + 0.5, 0, 255).astype(np.uint8)


class InkAdvance(Animation):
    """Moves the chip along the timeline: ``frames`` frames from timeline time ``t0``."""

    def __init__(self, layer: InkLayer, board: Board, t0: float, frames: int) -> None:
        # manim renders the times arange(0, run_time, 1/fps): half a frame short gives exactly
        # ``frames`` frames, each at its exact timeline time
        self.span = (frames - 0.5) / config.frame_rate
        self.layer = layer
        super().__init__(layer, run_time=self.span, rate_func=lambda x: x)
        self.board, self.t0 = board, t0

    def create_starting_mobject(self) -> Mobject:
        return self.layer  # nothing to interpolate from: the board keeps its own state

    def interpolate_mobject(self, alpha: float) -> None:
        self.board.advance(self.t0 + alpha * self.span)


@dataclass(frozen=True)
class Frame:
    """Where things go, in pixels of the output frame."""

    width: int
    height: int

    @property
    def chip(self) -> tuple[float, float, float, float]:
        return (0.015 * self.width, 0.085 * self.height, 0.675 * self.width,
                0.86 * self.height)

    @property
    def panel_x(self) -> float:
        return 0.7 * self.width

    def size(self, share: float) -> int:
        return max(9, round(share * self.height))


class Board:
    """The chip plus its text: advances ink and captions together along the timeline."""

    def __init__(self, trace: Trace, topology: Topology, steps: Sequence[Step],
                 options: RenderOptions, width: int, height: int) -> None:
        self.trace, self.topology, self.options = trace, topology, options
        self.f = Frame(width, height)
        match = NameMatcher(topology.nodes)
        self.launch = match(trace.header.launch) or trace.header.launch
        self.steps = [_rename(s, match) for s in steps]
        etched = [(s.node, s.peer) for s in self.steps if s.kind is StepKind.ETCH and s.peer]
        truth = topology.edge_set()
        edges = [*topology.edges, *[e for e in etched if frozenset(e) not in truth]]
        left, top, right, bottom = self.f.chip
        margin = 0.09 * min(right - left, bottom - top)
        inner = (left + margin, top + margin, right - margin, bottom - margin)
        centers = stretch(layout(topology, options.layout, options.seed), inner)
        geometry = build(centers, edges, width, height, max_radius=height * 0.045)
        self.chip = Chip(geometry, self.f.chip, launch=self.launch,
                         transparent=options.transparent, extra_channels=etched)
        self.painter = Painter(self.chip, self.steps, self.launch)
        self.schedule = caption_schedule(self.steps, options.min_caption)
        self.shown = -1
        self._cursor = 0
        self._visited: list[str] = []
        self._stack: list[str] = []
        self._panel_box: tuple[int, int, int, int] | None = None
        self._caption_box: tuple[int, int, int, int] | None = None
        self._draw_static(geometry.centers, geometry.radius)

    # --- static text --------------------------------------------------------------------------

    def _draw_static(self, centers: Any, radius: float) -> None:
        f, base = self.f, self.chip.base
        h = self.trace.header
        source = {"beam": "recorded on a real BEAM", "simulated": "simulated",
                  "log": "from a console log"}[h.source.value]
        never = "  ·  dist_auto_connect never" if h.auto_connect is AutoConnect.NEVER else ""
        title = f"{h.graph or 'cluster'}  ·  {h.mode.value} probe{never}  ·  launched from " \
                f"{h.launch}  ·  {source}"
        hud.blit(base, hud.render_lines((hud.plain(title, P.TEXT_DIM),), f.size(0.034)),
                 0.015 * f.width, 0.022 * f.height)
        items = [(P.INK, "probe ink: a visit"), (P.DYE, "answer flowing back"),
                 (P.TINT, "skipped: already visited"), (P.WARN, "made by the measurement")]
        if any(e.kind.value in ("error", "kill", "crash") for e in self.trace.events):
            items.append((P.FAULT, "failed / stopped"))
        size = f.size(0.032)
        y = 0.86 * f.height - len(items) * size * 1.45
        for colour, label in items:
            hud.blit(base, hud.swatch(colour, int(size * 1.5), int(size * 0.7)), f.panel_x,
                     y + size * 0.3)
            hud.blit(base, hud.render_lines((hud.plain(label, P.TEXT_DIM),), size),
                     f.panel_x + size * 2.0, y - size * 0.12)
            y += size * 1.45
        if len(centers) <= LABELS_UP_TO:
            for node, (x, y0) in centers.items():
                hud.blit(self.chip.top, hud.tag(node, f.size(0.03)), x + radius * 0.55,
                         y0 - radius * 0.55, anchor="lb")
        self.chip.refresh()

    # --- moving text ------------------------------------------------------------------------

    def advance(self, tau: float) -> None:
        self.painter.advance(tau)
        index = self._caption_index(tau)
        if index != self.shown:
            self.shown = index
            self._show(self.schedule[index][1])

    def _caption_index(self, tau: float) -> int:
        index = max(self.shown, 0)
        while index + 1 < len(self.schedule) and self.schedule[index + 1][0] <= tau + 1e-9:
            index += 1
        return index

    def _show(self, step: Step) -> None:
        f, frame = self.f, self.chip.frame
        colour = P.WARN if (step.kind is StepKind.ETCH or "measurement" in step.caption) \
            else (P.ERROR if not step.ok else P.TEXT)
        self._restore(self._caption_box)
        block = hud.render_lines((hud.plain(step.caption, colour),), f.size(0.05),
                                 max_width=int(0.96 * f.width))
        self._caption_box = hud.blit(frame, block, f.width / 2, 0.935 * f.height, anchor="mm")
        self._set_panel(self._panel_lines(step))

    def _set_panel(self, lines: tuple[tuple[hud.Span, ...], ...]) -> None:
        f = self.f
        self._restore(self._panel_box)
        block = hud.render_lines(lines, f.size(0.036), max_width=int(0.29 * f.width))
        self._panel_box = hud.blit(self.chip.frame, block, f.panel_x, 0.15 * f.height)

    def _restore(self, box: tuple[int, int, int, int] | None) -> None:
        """Put the base back where a text block was."""
        if box is not None:
            x0, y0, x1, y1 = box
            self.chip.frame[y0:y1, x0:x1] = self.chip.base[y0:y1, x0:x1]

    def _panel_lines(self, step: Step) -> tuple[tuple[hud.Span, ...], ...]:
        """The visited set and the call stack after ``step`` (captions only move forward)."""
        upto = step.seqs[-1]
        visited, stack, events = self._visited, self._stack, self.trace.events
        while self._cursor < len(events) and events[self._cursor].seq <= upto:
            e = events[self._cursor]
            self._cursor += 1
            if isinstance(e, ProbeStart):
                visited.append(e.node)
                stack.append(e.node)
            elif isinstance(e, ProbeEnd) and stack and stack[-1] == e.node:
                stack.pop()
        return (
            hud.plain(f"visited ({len(visited)})", P.TEXT_DIM),
            *[hud.plain(row) for row in _rows(visited, " ", 24, 3)],
            hud.plain(""),
            hud.plain(f"call stack (depth {len(stack)})", P.TEXT_DIM),
            *[hud.plain(row) for row in _rows(stack, " → ", 24, 3)],
        )

    def finish(self) -> None:
        """Draw the end state: all ink, and the result map next to the true topology."""
        self.painter.finish()
        if self.schedule:
            self.shown = len(self.schedule) - 1
            self._show(self.schedule[-1][1])
        outcome = self.trace.outcome
        if isinstance(outcome, Result):
            self._set_panel(self._result_lines(outcome))
        self.chip.composite()

    def _result_lines(self, outcome: Result) -> tuple[tuple[hud.Span, ...], ...]:
        truth = self.topology.edge_set()
        match = NameMatcher(self.topology.nodes)

        def real(a: str, b: str) -> bool:
            return frozenset((match(a) or a, match(b) or b)) in truth

        extra = sorted(e for e in map_edges(outcome.map) if not real(*e))
        lines: list[tuple[hud.Span, ...]] = [hud.plain(f"{outcome.node}'s map", P.TEXT_DIM)]
        if len(outcome.map) <= 9:
            for node in sorted(outcome.map):
                spans: list[hud.Span] = [(f"{node}:", P.TEXT)]
                spans += [(f" {p}", P.TEXT if real(node, p) else P.WARN)
                          for p in outcome.map[node]]
                lines.append(tuple(spans))
        else:
            lines.append(hud.plain(f"{len(outcome.map)} nodes, "
                                   f"{len(map_edges(outcome.map))} edges"))
        lines.append(hud.plain(""))
        if extra:
            lines.append(hud.plain(f"{len(extra)} edge{'s' if len(extra) > 1 else ''} not in "
                                   "the topology:", P.WARN))
            lines += [hud.plain(row, P.WARN)
                      for row in _rows([f"{a}\u2013{b}" for a, b in extra], ", ", 24, 2)]
        else:
            lines.append(hud.plain("= the true topology", P.GOOD))
        return tuple(lines)


def caption_schedule(steps: Sequence[Step], min_caption: float) -> list[tuple[float, Step]]:
    """When each caption appears: every step, unless the previous caption is younger than
    ``min_caption`` (then a measurement artefact or fault still takes its place)."""
    urgent = (StepKind.ETCH, StepKind.FAULT, StepKind.CRASH, StepKind.RESULT)
    schedule: list[tuple[float, Step]] = []
    for step in steps:
        if not schedule or step.start >= schedule[-1][0] + min_caption:
            schedule.append((step.start, step))
        elif step.kind in urgent and schedule[-1][1].kind not in urgent:
            schedule[-1] = (schedule[-1][0], step)
    return schedule


def section_groups(steps: Sequence[Step], min_section: float) -> list[list[Step]]:
    """Steps cut into sections at each visit; visits closer than ``min_section`` share one."""
    groups: list[list[Step]] = []
    for step in steps:
        starts_visit = step.visit is not None
        long_enough = bool(groups) and step.start - groups[-1][0].start >= min_section
        if not groups or (starts_visit and long_enough):
            groups.append([step])
        else:
            groups[-1].append(step)
    return groups


class InkScene(Scene):
    """A worm run as ink in a chip. Give it a topology and a trace (from Python or Jupyter),
    or set the class attributes (``graph``, ``trace_file``, ``mode``, ...) in a subclass for
    ``manim render``."""

    graph: ClassVar[str | None] = None
    trace_file: ClassVar[str | None] = None
    mode: ClassVar[Mode] = Mode.NAIVE
    edge_order: ClassVar[EdgeOrder] = EdgeOrder.DOT
    auto_connect: ClassVar[AutoConnect] = AutoConnect.ALWAYS
    launch: ClassVar[str | None] = None
    options: ClassVar[RenderOptions] = RenderOptions()

    def __init__(self, topology: Topology | None = None, trace: Trace | None = None,
                 options: RenderOptions | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("camera_class", InkCamera)
        super().__init__(**kwargs)
        self.topology, self.trace = _resolve(type(self), topology, trace)
        self.render_options = options or type(self).options
        self.on_progress: Any = None
        self.board: Board | None = None

    def construct(self) -> None:
        opts = self.render_options
        steps = time_steps(steps_from_trace(self.trace), opts.timing, opts.duration)
        board = self.board = Board(self.trace, self.topology, steps, opts,
                                   config.pixel_width, config.pixel_height)
        layer = InkLayer(board.chip)
        self.add(layer)
        groups = section_groups(board.steps, opts.min_section)
        fps = config.frame_rate
        for number, group in enumerate(groups):
            visits = [s.visit for s in group if s.visit]
            if visits:
                names = " ".join(visits[:6]) + (" \u2026" if len(visits) > 6 else "")
                self.next_section(f"visit {names}")
            # sections start on frame boundaries, so the run lasts exactly its duration
            first, last = round(group[0].start * fps), round(group[-1].end * fps)
            if last > first:
                self.play(InkAdvance(layer, board, first / fps, last - first))
            if self.on_progress:
                self.on_progress(number + 1, len(groups))
        board.finish()
        self.next_section("result")
        self.wait(opts.hold)


def _rows(items: Sequence[str], sep: str, width: int, max_rows: int) -> list[str]:
    """``items`` joined and wrapped at ``width`` characters; the oldest rows elided."""
    rows, row = [], ""
    for item in items:
        if row and len(row) + len(sep) + len(item) > width:
            rows.append(row + sep.rstrip())
            row = item
        else:
            row = f"{row}{sep}{item}" if row else item
    rows.append(row or "—")
    if len(rows) > max_rows:
        rows = ["…", *rows[-(max_rows - 1):]]
    return rows


def _rename(step: Step, match: NameMatcher) -> Step:
    return replace(step, node=match(step.node) or step.node,
                   peer=(match(step.peer) or step.peer) if step.peer else None)


def _resolve(cls: type[InkScene], topology: Topology | None,
             trace: Trace | None) -> tuple[Topology, Trace]:
    """Topology and trace from the arguments, or from the scene class's attributes."""
    if topology is None and cls.graph:
        topology = load_dot(ROOT / cls.graph)
    if trace is None and cls.trace_file:
        trace = load_trace(ROOT / cls.trace_file)
    if topology is None:
        raise ValueError("InkScene needs a topology (argument or class attribute 'graph')")
    if trace is None:
        trace = simulate(topology, cls.launch, cls.mode, cls.edge_order, cls.auto_connect)
    return topology, trace
