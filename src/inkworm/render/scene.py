"""The manim scene: a worm run as ink in a microfluidic chip.

The whole picture is one :class:`InkLayer`. While nothing else is on screen, the renderer
(:class:`~inkworm.render.writer.InkRenderer`) hands the chip's frame to the encoder as it is,
converted and encoded only when it changed; any other mobject a user adds goes manim's way,
laid over the ink by :class:`InkCamera`, which copies the chip's frame in. Each visit is a
section (``next_section``) and one ``play``.
"""

from __future__ import annotations

import itertools
from typing import Any, ClassVar

import numpy as np
from manim import Animation, Camera, Mobject, Scene, config
from manim.constants import RendererType
from manim.utils.family import extract_mobject_family_members

from inkworm.ahead import Ahead
from inkworm.render.board import Board
from inkworm.render.compare import PairBoard
from inkworm.render.options import RenderOptions, title_seconds
from inkworm.render.pair import Run
from inkworm.render.schedule import section_groups, timeline
from inkworm.render.timeline import Step
from inkworm.render.writer import InkRenderer, Surface
from inkworm.run import AutoConnect, EdgeOrder, Mode, RunSpec
from inkworm.runs import scene_run
from inkworm.topology import Topology
from inkworm.trace import Trace

__all__ = ["Board", "CompareScene", "InkAdvance", "InkCamera", "InkLayer", "InkScene",
           "RenderOptions", "Surface"]


class InkLayer(Mobject):
    """The chip's raster; drawn by :class:`InkCamera`, never by Cairo."""

    def __init__(self, chip: Surface) -> None:
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
        if config.renderer == RendererType.CAIRO and kwargs.get("renderer") is None:
            kwargs["renderer"] = InkRenderer(kwargs["camera_class"],
                                             kwargs.get("skip_animations", False))
        super().__init__(**kwargs)
        cls = type(self)
        self.topology, self.trace = scene_run(
            cls.graph, cls.trace_file, RunSpec(launch=cls.launch, mode=cls.mode,
                                               edge_order=cls.edge_order,
                                               auto_connect=cls.auto_connect),
            topology, trace)
        self.render_options = options or type(self).options
        self.on_progress: Any = None
        self.board: Board | None = None
        self.ahead: tuple[Ahead[Board], tuple[int, int, float]] | None = None
        """A board being made in a thread, and the frame size and rate it is made for."""
        self.one_stream = False
        """Whether the plays go on in one stream, one encoder for the scene (``inkworm
        render`` sets it; manim's caching, saved sections and slides want a file a play):
        :meth:`~inkworm.render.writer.InkFileWriter.one_stream`."""

    def construct(self) -> None:
        board = self.board = self.make_board()
        self.show_title_card()
        layer = InkLayer(board.screen)
        self.add(layer)
        groups = self.sections(board.steps)
        fps = config.frame_rate
        # each section plays from its first step's start to the next section's (the last:
        # to the run's end), on frame boundaries, so the run lasts exactly its duration: a
        # comparison's steps (both sides on one clock) overlap, and the last step to start
        # is not always the last to end
        bounds = [round(group[0].start * fps) for group in groups]
        bounds.append(round(max((s.end for s in board.steps), default=0.0) * fps))
        for number, group in enumerate(groups):
            self.open_section(group)
            first, last = bounds[number], bounds[number + 1]
            if last > first:
                self.play(InkAdvance(layer, board, first / fps, last - first))
            if self.on_progress:
                self.on_progress(number + 1, len(groups))
        board.finish()
        self.close(board)

    def show_title_card(self) -> None:
        """``--title``: a card of its own before the run (:func:`title_seconds`), in the
        theme's colours; the run's subtitles and chapters start after it."""
        seconds = title_seconds(self.render_options)
        if not seconds:
            return
        h = self.trace.header
        card, backdrop = title_card(self.render_options.title or "",
                                    f"{h.graph or 'a cluster'}  \u00b7  {h.mode.value} probe  "
                                    f"\u00b7  launched from {h.launch}",
                                    self.render_options.theme)
        self.next_section("title")
        if not self.render_options.transparent:
            self.add(backdrop)
        self.add(card)
        self.wait(seconds)
        self.remove(card, backdrop)

    def shown_surface(self) -> Surface | None:
        """The chip, when the frame shows nothing else (the renderer then encodes its frame
        as it is); ``None`` when other mobjects are on screen (manim's camera draws them)."""
        # what the camera would draw: mobjects with points (a Wait's empty one draws nothing)
        shown = extract_mobject_family_members([*self.mobjects, *self.foreground_mobjects],
                                               only_those_with_points=True)
        if len(shown) == 1 and isinstance(shown[0], InkLayer):
            return shown[0].chip
        return None

    def make_board(self) -> Any:
        """The board this scene moves along its timeline (made ahead, in a thread, when the
        render started: :attr:`ahead`, if made for this frame size and rate)."""
        opts = self.render_options
        size = (config.pixel_width, config.pixel_height, config.frame_rate)
        if self.ahead is not None:
            made, self.ahead = self.ahead, None
            if made[1] == size:
                return made[0].take()
            made[0].join()
        return Board(self.trace, self.topology, timeline(self.trace, opts, config.frame_rate), opts,
                     config.pixel_width, config.pixel_height)

    def sections(self, steps: list[Step]) -> list[list[Step]]:
        """The steps cut into sections: one per visit (close visits share one)."""
        return section_groups(steps, self.render_options.min_section)

    def open_section(self, group: list[Step]) -> None:
        """Start a section for ``group`` (named after the visits it starts)."""
        visits = [s.visit for s in group if s.visit]
        if visits:
            names = " ".join(visits[:6]) + (" \u2026" if len(visits) > 6 else "")
            self.next_section(f"visit {names}")

    def close(self, board: Board) -> None:
        """The last section: the final map, held."""
        self.next_section("result")
        self.wait(board.hold)


class CompareScene(InkScene):
    """Two runs side by side (:mod:`inkworm.render.compare`): ``a`` and ``b`` labelled."""

    def __init__(self, a: Run, b: Run, options: RenderOptions | None = None,
                 **kwargs: Any) -> None:
        super().__init__(a.topology, a.trace, options, **kwargs)
        self.runs = (a, b)

    def make_board(self) -> PairBoard:
        opts = self.render_options
        a, b = self.runs
        return PairBoard(a, b, timeline(a.trace, opts, config.frame_rate),
                         timeline(b.trace, opts, config.frame_rate), opts,
                         config.pixel_width, config.pixel_height)


def title_card(title: str, subtitle: str, theme: str) -> tuple[Mobject, Mobject]:
    """A title over its subtitle in the theme's colours, at most 92 % of the frame wide, and
    the frame-sized backdrop of the theme's slide behind them: the video's title card and the
    deck's title slide."""
    from manim import DOWN, Rectangle, Text, VGroup

    from inkworm.render import palette as P

    colours = P.THEMES[theme]
    card = VGroup(Text(title, font="DejaVu Sans", font_size=54, color=colours.text),
                  Text(subtitle, font="DejaVu Sans", font_size=28, color=colours.text_dim))
    card.arrange(DOWN, buff=0.45)
    card.scale_to_fit_width(min(card.width, config.frame_width * 0.92))
    backdrop = Rectangle(width=config.frame_width, height=config.frame_height,
                         fill_color=P.rgb_hex(colours.background), fill_opacity=1,
                         stroke_width=0)
    return card, backdrop
