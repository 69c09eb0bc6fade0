"""The chip and its text, advanced along the timeline: everything a frame shows, without manim.

:class:`Board` owns the raster chip (:mod:`inkworm.render.raster`), the painter that plays the
steps on it and the text (title, legend, tags, caption, side panel). The manim scene
(:mod:`inkworm.render.scene`) only moves it in time and hands its frame to the camera; tests
and the pytest plugin use it directly to look at any moment of a run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from inkworm import collect
from inkworm.errors import InputError
from inkworm.layout import LAYOUTS, Positions, layout
from inkworm.render import hud
from inkworm.render import palette as P
from inkworm.render.camera import FOLLOW_ABOVE, Viewport, zoom_for
from inkworm.render.fronts import counted
from inkworm.render.geometry import build, stretch
from inkworm.render.labels import Box, Labels, short_names
from inkworm.render.painter import Painter
from inkworm.render.panel import growth_chart, names_fit, result_block
from inkworm.render.raster import Chip
from inkworm.render.timeline import (
    CONDENSE_ABOVE,
    Step,
    StepKind,
    Story,
    Timing,
    reading_time,
    steps_from_trace,
    time_steps,
)
from inkworm.run import AutoConnect
from inkworm.topology import Topology
from inkworm.trace import Crash, Error, Kill, Result, Trace
from inkworm.views import (
    DERIVED,
    Edge,
    NameMatcher,
    RunState,
    event_nodes,
    growth,
    pair,
    topology_diff,
    visit_order,
    walk,
)

SAFE = 0.95
"""The action-safe area's far edges, as shares of the frame (90 %: 5 % off each side):
captions, the panel and the legend stay inside it, where no player's controls lie."""
PANEL_EVERY = 0.2
"""Between two captions, the panel follows the steps at most this often (seconds)."""
MIN_TEXT_1080 = 14
"""No panel text is smaller than this many pixels at 1080p (in proportion at other sizes)."""
MIN_PAIR_TEXT_1080 = 18
"""...nor, side by side in a comparison (a talk's slide), than this."""
CAMERAS = ("auto", "follow", "whole")
"""``--camera``: see :mod:`inkworm.render.camera`."""
STYLES = ("ink", "schematic")
"""``--style``: how the ink is drawn (:class:`~inkworm.render.raster.Chip`)."""


def title_seconds(options: RenderOptions) -> float:
    """How long the title card (``--title``) stays before the run: its reading time, at
    least 2 s; 0 without a title."""
    if not options.title:
        return 0.0
    return max(2.0, reading_time(options.title, options.pace))


@dataclass(frozen=True)
class RenderOptions:
    """How a trace becomes an animation."""

    timing: Timing = Timing.UNIFORM
    duration: float | None = None
    layout: str = "auto"
    seed: int = 0
    transparent: bool = False
    pace: float = 1.0
    """Reading pace: 2 = twice as slow, 0.5 = brisk (every caption stays its reading time)."""
    min_section: float = 0.5
    """Visits closer than this share a section (and a play)."""
    hold: float = 4.0
    """Seconds the final frame (the map) is held."""
    theme: str = "dark"
    """The slide around the chip: ``dark`` or ``light`` (:data:`~inkworm.render.palette.THEMES`)."""
    style: str = "ink"
    """How the ink is drawn: ``ink`` (dye in a moulded chip) or ``schematic`` (flat fills)."""
    camera: str = "auto"
    """``follow`` the ink in a larger chip with a minimap, or show the ``whole`` chip;
    ``auto``: follow above 40 nodes."""
    story: Story | None = None
    """How much is told (:class:`~inkworm.render.timeline.Story`); ``None``: every step up
    to 40 visits, summarised visits beyond."""
    captions: bool = True
    """Captions drawn into the frames (``--captions burned``); ``False``: none on screen
    (subtitles and chapters are written all the same: a player or the speaker tells them)."""
    title: str | None = None
    """A title card before the run (``--title``): shown for its reading time, at least 2 s."""

    def __post_init__(self) -> None:
        """Options from a notebook or a script meet the CLI's checks: one line, not a
        traceback from deep inside numpy or manim."""
        if self.duration is not None and not _seconds(self.duration, 0.5):
            raise InputError(f"duration must be 0.5 to 3600 seconds, got {self.duration!r}")
        if type(self.seed) is not int or not 0 <= self.seed < 2**32:
            raise InputError(f"seed must be an integer from 0 to 2^32 - 1, got {self.seed!r}")
        if self.theme not in P.THEMES:
            raise InputError(f"unknown theme {self.theme!r} (one of {', '.join(P.THEMES)})")
        if self.camera not in CAMERAS:
            raise InputError(f"unknown camera {self.camera!r} (one of {', '.join(CAMERAS)})")
        if self.style not in STYLES:
            raise InputError(f"unknown style {self.style!r} (one of {', '.join(STYLES)})")
        if self.layout not in LAYOUTS:
            raise InputError(f"unknown layout {self.layout!r} (one of {', '.join(LAYOUTS)})")
        for name in ("pace", "min_section", "hold"):
            if not _seconds(getattr(self, name), 0):
                raise InputError(f"{name} must be a number from 0 to 3600, got "
                                 f"{getattr(self, name)!r}")


def _seconds(value: object, least: float) -> bool:
    """A finite number from ``least`` to an hour (nan and inf are refused)."""
    return isinstance(value, int | float) and least <= value <= 3600


@dataclass(frozen=True)
class Frame:
    """Where things go, in pixels of the output frame. ``compact``: one side of a comparison
    (half a frame wide): the chip on top, the panel and the legend below it. ``stacked``
    too: a side of a comparison stacked above the other (a frame wide, half a frame high,
    for a wide layout): the chip on the left, its caption under it, the panel and the legend
    on the right."""

    width: int
    height: int
    compact: bool = False
    stacked: bool = False
    keyed: bool = True
    """Whether the frame has a legend (the upper of stacked sides has none: the lower's is
    both sides')."""

    @property
    def unit(self) -> int:
        """The whole output frame's height: text sizes are shares of it."""
        return 2 * self.height if self.stacked else self.height

    @property
    def chip(self) -> tuple[float, float, float, float]:
        if self.stacked:
            return (0.015 * self.width, 0.12 * self.height, 0.6 * self.width,
                    0.72 * self.height)
        if self.compact:
            return (0.02 * self.width, 0.08 * self.height, 0.98 * self.width,
                    0.62 * self.height)
        return (0.015 * self.width, 0.085 * self.height, 0.675 * self.width,
                0.84 * self.height)

    @property
    def panel(self) -> tuple[float, float, int]:
        """The side panel's left, top and width."""
        if self.stacked:
            return 0.63 * self.width, 0.12 * self.height, int((SAFE - 0.63) * self.width)
        if self.compact:
            return 0.03 * self.width, 0.645 * self.height, int(0.54 * self.width)
        return 0.7 * self.width, 0.15 * self.height, int((SAFE - 0.7) * self.width)

    @property
    def panel_bottom(self) -> float:
        """The panel may not reach below this (the legend, or the caption, is there)."""
        if self.stacked:
            return 0.6 * self.height if self.keyed else self.safe_bottom
        return (0.875 if self.compact else 0.6) * self.height

    @property
    def legend(self) -> tuple[float, float]:
        """The legend's left and bottom."""
        if self.stacked:
            return 0.63 * self.width, self.safe_bottom
        if self.compact:
            return 0.58 * self.width, 0.87 * self.height
        return 0.7 * self.width, 0.86 * self.height

    @property
    def safe_bottom(self) -> float:
        """The lowest text may reach: the action-safe area's edge (a stacked side's: the whole
        frame's edge's distance from the bottom, as the lower side needs it)."""
        return self.height - (1 - SAFE) * self.unit

    @property
    def caption(self) -> tuple[float, float, int]:
        """The caption's centre, bottom and widest width: across the frame inside the
        action-safe area, or a stacked side's under its chip."""
        if self.stacked:
            left, _, right, _ = self.chip
            return (left + right) / 2, self.safe_bottom, int(right - left)
        return self.width / 2, self.safe_bottom, int((2 * SAFE - 1) * self.width)

    @property
    def text_scale(self) -> float:
        """Panel and legend text, relative to a full frame's."""
        return 0.66 if self.compact or self.stacked else 1.0

    @property
    def margin(self) -> float:
        """Room between the chip's edge and the wells (for their tags), as a share of the
        chip's smaller side."""
        return 0.14 if self.compact or self.stacked else 0.09

    @property
    def caption_size(self) -> int:
        return self.size(0.036 if self.compact or self.stacked else 0.045)

    def size(self, share: float) -> int:
        return max(9, round(share * self.unit))


def legend_items(trace: Trace, steps: Sequence[Step]) -> list[tuple[str, str]]:
    """The legend of a run: (colour, label) of each look its chip can show."""
    items = [(P.INK, "probe ink: a visit"), (P.DYE, "answer flowing back"),
             (P.TINT, "skipped: already visited"), (P.WARN, "made by the measurement")]
    if any(isinstance(e, Error | Kill | Crash) for e in trace.events):
        items.append((P.FAULT, "failed / stopped"))
    if any(s.orphan for s in steps):
        items.append((P.GHOST, "faded: an orphan's walk"))
    if any(s.duplicate for s in steps):
        items.append((P.DUP, "probed again (duplicate)"))
    return items


def tag_fonts(f: Frame) -> tuple[int, int, int, int]:
    """A tag's font size at each of the tag placer's size indices (:mod:`.labels`)."""
    return (f.size(0.03), f.size(0.022), f.size(0.016), f.size(0.013))


def measure_tags(topology: Topology, f: Frame) -> dict[str, list[tuple[int, int]]]:
    """Every node's tag's (width, height) at each of :func:`tag_fonts`, measured without
    drawing (no layout needed: a render measures them while graphviz lays the chip out)."""
    names = short_names(topology.nodes)
    fonts = tag_fonts(f)
    return {node: [hud.tag_size(names[node], size) for size in fonts]
            for node in topology.nodes}


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
        truth = topology.edge_set()
        # a connection over an existing channel (a reconnect) etches nothing new
        self.steps = [_unetch(s, truth) for s in steps]
        etched = [(s.node, s.peer) for s in self.steps if s.kind is StepKind.ETCH and s.peer]
        edges = [*topology.edges, *etched]
        follow = options.camera == "follow" or (options.camera == "auto" and
                                                 len(topology.nodes) > FOLLOW_ABOVE)
        zoom = zoom_for(len(topology.nodes)) if follow else 1.0
        box = tuple(round(v) for v in self.f.chip)
        size = (box[2] - box[0], box[3] - box[1])
        # the chip in its own pixels: the frame's, or a larger world the camera looks into
        self.world = (0.0, 0.0, size[0] * zoom, size[1] * zoom) if zoom > 1 else self.f.chip
        left, top, right, bottom = self.world
        canvas = (round(right), round(bottom)) if zoom > 1 else (width, height)
        margin = self.f.margin * min(right - left, bottom - top)
        inner = (left + margin, top + margin, right - margin, bottom - margin)
        if positions is None:
            positions = layout(topology, options.layout, options.seed)
        centers = stretch(positions, inner)
        pad = 0.025 * min(right - left, bottom - top)
        geometry = build(centers, edges, *canvas, max_radius=height * 0.045,
                         apart=etched, bounds=(left + pad, top + pad, right - pad, bottom - pad))
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
        self._caption_box: tuple[int, int, int, int] | None = None
        self._draw_static()

    # --- static text --------------------------------------------------------------------------

    def _draw_static(self) -> None:
        f, base = self.f, self.screen.base
        h = self.trace.header
        source = {"beam": "recorded on a real BEAM", "simulated": "simulated",
                  "log": "from a console log"}[h.source.value]
        never = "  ·  dist_auto_connect never" if h.auto_connect is AutoConnect.NEVER else ""
        probe = "probes in parallel" if h.parallel else "probe"
        title = self.title or (f"{h.graph or 'cluster'}  ·  {h.mode.value} {probe}{never}  ·  "
                               f"launched from {h.launch}  ·  {source}")
        t = self.theme
        self.labels = [self.text(
            base, hud.render_lines((hud.plain(title, t.text if f.compact else t.text_dim),),
                                   f.size(0.034), max_width=int(0.96 * f.width)),
            0.015 * f.width, 0.022 * f.unit)]
        """Where the static text is (the title, the legend's labels): for tests of contrast."""
        self._draw_legend(base)
        self._place_tags()
        self.chip.refresh()
        if isinstance(self.screen, Viewport):
            self.screen.frame[...] = self.screen.base
            self.screen.changed()
            self.screen.composite()

    def _draw_legend(self, base: NDArray[np.uint8]) -> None:
        """The legend's swatches and labels, inside the action-safe area."""
        items, f, t = self.legend, self.f, self.theme
        if not items:
            return
        size = f.size(0.032 * f.text_scale)
        x, bottom = f.legend
        room = (0.97 if f.compact and not f.stacked else SAFE) * f.width - x  # action-safe

        def widest(size: int) -> int:
            return max(hud.render_lines((hud.plain(label, t.text_dim),), size).width
                       for _, label in items)

        if size * 2.0 + widest(size) > room:
            size = max(6, int(size * room / (size * 2.0 + widest(size))))
        y = bottom - len(items) * size * 1.45
        if self.options.transparent:  # one plate behind the whole legend
            wide = widest(size)
            self.text(base, hud.TextBlock(np.zeros((int(len(items) * size * 1.45),
                                                    int(size * 2.0 + wide), 4), np.uint8)),
                      x, y - size * 0.1)
        for colour, label in items:
            hud.blit(base, hud.swatch(colour, int(size * 1.5), int(size * 0.7)), x,
                     y + size * 0.3)
            self.labels.append(hud.blit(base, hud.render_lines((hud.plain(label, t.text_dim),),
                                                               size),
                                        x + size * 2.0, y - size * 0.12))
            y += size * 1.45

    # --- name tags ---------------------------------------------------------------------------

    def _place_tags(self) -> None:
        """Every node's tag if all fit (drawn once); else the tags follow the story
        (:meth:`_retag`): see :mod:`inkworm.render.labels`."""
        f, g = self.f, self.chip.g
        self.names = short_names(self.topology.nodes)
        self._tag_sizes = tag_fonts(f)
        """A tag's font size at each of the placer's size indices (drawn when first shown)."""
        measured = self._measured or measure_tags(self.topology, f)
        left, top, right, bottom = self.world
        self.tagger = Labels(g, (left + 3, top + 3, right - 3, bottom - 3),
                             {node: measured[node] for node in g.centers})
        order = list(dict.fromkeys([self.launch, *visit_order(self.trace),
                                    *self.topology.nodes]))
        self.tags: dict[str, tuple[Box, int]] = {}
        """The tags shown: each node's box and size."""
        self._top = self.chip.top.copy()  # the chip's own top layer, before any tag
        self._drawn: dict[str, Box] = {}
        self._leaders: dict[tuple[str, Box], tuple[hud.TextBlock, int, int, Box]] = {}
        self._footprints: dict[tuple[str, Box], NDArray[np.int64]] = {}
        wanted = [n for n in order if n in g.centers]
        near = set(g.centers) - {self.launch}
        everyone = self.tagger.place(wanted, near=near, every=True)
        self.all_tagged = len(everyone) == len(g.centers)
        if self.all_tagged and len({size for _, size in everyone.values()}) > 1:
            # tags in one size, the largest at which they all fit (mixed sizes read as a
            # tag cloud): the mixed placement only where no single size fits them all
            for k, font in enumerate(self._tag_sizes):
                one = Labels(g, (left + 3, top + 3, right - 3, bottom - 3),
                             {node: [measured[node][k]] for node in g.centers})
                placed = one.place(wanted, near=near, every=True)
                if len(placed) == len(g.centers):
                    self.tagger, everyone = one, placed
                    self._tag_sizes = (font, font, font, font)
                    break
        self._set_tags(everyone if self.all_tagged else
                       self.tagger.place([self.launch] if self.launch in g.centers else []))
        self._events = {e.seq: e for e in self.trace.events}
        names = sorted(g.centers, key=len, reverse=True)
        self._named = re.compile(r"(?<![\w@.-])(" + "|".join(map(re.escape, names)) +
                                 r")(?![\w@.-])")
        """Finds the nodes a caption names (a condensed caption names other steps' nodes)."""

    def _retag(self, step: Step, state: RunState) -> None:
        """Tag what the story is about now: the launcher, the node probed, the nodes the
        caption names, the call stack (its top first)."""
        if self.all_tagged:
            return
        named = [*self._named.findall(step.caption),
                 *(n for seq in step.seqs if seq in self._events
                   for n in event_nodes(self._events[seq]))]
        order = [self.launch, step.node, step.peer or "", *named, *reversed(state.stack)]
        wanted = [n for n in dict.fromkeys(order) if n in self.chip.g.centers]
        primary = {self.launch, step.node, step.peer, *named}
        self._set_tags(self.tagger.place(wanted, near=[n for n in wanted if n not in primary]))

    def _set_tags(self, tags: dict[str, tuple[Box, int]]) -> None:
        """Draw ``tags`` on the chip's top layer (a leader line to a tag set away from its
        well), in place of the ones shown. What shows depends on the tags alone, never on the
        ones before: the tags that change are redrawn, with every tag whose pixels meet
        theirs, over what the chip had there; the others stay as drawn (the same pixels as
        redrawing them all, overlapping tags in the same order)."""
        if tags == self.tags and len(self._drawn) == len(tags):
            return
        top = self.chip.top
        flat, below = top.reshape(-1, 4), self._top.reshape(-1, 4)
        before = top.copy()
        kept = [n for n, place in self.tags.items() if tags.get(n) == place and n in self._drawn]
        stays = set(kept)
        dirty = np.zeros(len(flat), dtype=bool)
        if kept != [n for n in tags if n in stays]:
            # the story reordered the tags that stay: where two of them meet, the one drawn
            # last shows; the pixels where that changes are redrawn (and so the tags there)
            prints = [self._footprint(n, tags[n][0]) for n in kept]
            pixels = np.concatenate(prints)
            owner = np.repeat(np.arange(len(kept)), [len(p) for p in prints])
            shared = np.bincount(pixels, minlength=len(flat))[pixels] > 1
            pixels, owner = pixels[shared], owner[shared]
            order = np.lexsort((owner, pixels))  # each pixel's tags in their old order
            pixels, owner = pixels[order], owner[order]
            rank = {n: i for i, n in enumerate(n for n in tags if n in stays)}
            new = np.array([rank[n] for n in kept], dtype=np.int64)[owner]
            swapped = (pixels[1:] == pixels[:-1]) & (new[1:] < new[:-1])
            dirty[pixels[1:][swapped]] = True
        for node, (box, _) in self.tags.items():
            if node not in stays and node in self._drawn:
                dirty[self._footprint(node, box)] = True
        for node, (box, _) in tags.items():
            if node not in stays:
                dirty[self._footprint(node, box)] = True
        grown = True
        while grown:  # a tag that stays but meets a redrawn one is redrawn too
            grown = False
            for node in [n for n in kept if n in stays]:
                pixels = self._footprint(node, tags[node][0])
                if dirty[pixels].any():
                    stays.discard(node)
                    dirty[pixels] = True
                    grown = True
        again = np.flatnonzero(dirty)
        flat[again] = below[again]  # what the chip had there (a port)
        for node, (box, size) in tags.items():
            if node in stays:
                continue
            drawn = self._leader(node, box) if self.tagger.far(node, box) else box
            hud.blit(top, hud.tag(self.names[node], self._tag_sizes[size]), box[0], box[1])
            self._drawn[node] = drawn
        self._drawn = {n: self._drawn[n] for n in tags}
        self.tags = dict(tags)
        # recomposite only the pixels that changed: most tags stay where they were, and a
        # leader's box is mostly empty (the boxes were 29 million pixels of a 1,000-node
        # render's compositing, the ink 0.75 million)
        self.chip.touch_top(np.flatnonzero(top.view(np.uint32) != before.view(np.uint32)))

    def _footprint(self, node: str, box: Box) -> NDArray[np.int64]:
        """The pixels (flat indices into the chip) drawing ``node``'s tag at ``box`` may
        change: its pill's box and its leader line's pixels."""
        if (node, box) not in self._footprints:
            width, height = self.chip.g.width, self.chip.g.height
            parts = [_box_pixels(box, width, height)]
            if self.tagger.far(node, box):
                self._covers(node, box)
                patch, left, upper, _ = self._leaders[(node, box)]
                parts.append(hud.blit_pixels(self.chip.top.shape, patch, left, upper))
            self._footprints[(node, box)] = np.concatenate(parts)
        return self._footprints[(node, box)]

    def _covers(self, node: str, box: Box) -> Box:
        """The box a tag at ``box`` covers when drawn: its own, or with its leader line's."""
        if not self.tagger.far(node, box):
            return box
        if (node, box) not in self._leaders:
            self._leaders[(node, box)] = self._draw_leader(node, box)
        return self._leaders[(node, box)][3]

    def _leader(self, node: str, box: Box) -> Box:
        """A thin line from ``node``'s well to its tag at ``box``; the box both cover."""
        covered = self._covers(node, box)
        patch, left, upper, _ = self._leaders[(node, box)]
        hud.blit(self.chip.top, patch, left, upper)
        return covered

    def _draw_leader(self, node: str, box: Box) -> tuple[hud.TextBlock, int, int, Box]:
        from PIL import Image, ImageDraw

        cx, cy = self.chip.g.centers[node]
        x0, y0, x1, y1 = box
        tx, ty = min(max(cx, x0), x1 - 1), min(max(cy, y0), y1 - 1)  # the tag's nearest point
        length = max(math.hypot(tx - cx, ty - cy), 1e-6)
        r = self.chip.g.radius * 0.95
        sx, sy = cx + (tx - cx) * r / length, cy + (ty - cy) * r / length
        left, upper = int(min(sx, tx)) - 2, int(min(sy, ty)) - 2
        right, lower = int(max(sx, tx)) + 3, int(max(sy, ty)) + 3
        patch = Image.new("RGBA", (right - left, lower - upper), (0, 0, 0, 0))
        ImageDraw.Draw(patch).line((sx - left, sy - upper, tx - left, ty - upper),
                                   fill=(*P.BACKGROUND, 220),
                                   width=max(1, round(self.f.unit / 540)))
        return (hud.TextBlock(np.asarray(patch, dtype=np.uint8)), left, upper,
                (max(min(left, x0), 0), max(min(upper, y0), 0),
                 min(max(right, x1), self.chip.g.width), min(max(lower, y1),
                                                          self.chip.g.height)))

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
                self._set_panel(lines if grown is None else self._with_chart(lines, grown))

    def _grown(self) -> tuple[int, ...] | None:
        """The growth chart's series at the state last read (``None``: no chart)."""
        if self._growth is None:
            return None
        return self._growth[:max(1, len(self._state.visited))]

    def _with_chart(self, lines: tuple[tuple[hud.Span, ...], ...],
                    series: tuple[int, ...]) -> Callable[[int, int, bool], hud.TextBlock]:
        """The panel's lines with the growth chart under them (condensed: without it)."""
        assert self._growth is not None
        visits, most = len(self._growth), self._growth[-1]  # (a count only grows)

        def build(size: int, room: int, condensed: bool) -> hud.TextBlock:
            text = hud.render_lines(lines, size, max_width=room)
            if condensed:
                return text
            gap = hud.render_lines((hud.plain(""),), size)
            return hud.stack([text, gap, growth_chart(series, visits, most, self.theme, size,
                                                           room)])

        return build

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
            self._retag(step, self.state_after(step.seqs[-1]))
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
        self._retag(step, self.state_after(step.seqs[-1]))

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
        """The visited set and the call stack after ``step`` (captions only move forward);
        a parallel run has no one stack: its running probes, and its duplicate work."""
        state = self.state_after(step.seqs[-1])
        visited, stack = state.visited, state.stack
        if self.trace.header.parallel:
            return self._fronts_lines(state)
        return (
            hud.plain(f"visited ({len(visited)})", self.theme.text_dim),
            *[hud.plain(row, self.theme.text) for row in _rows(visited, " ", 24, 3)],
            hud.plain(""),
            hud.plain(f"call stack (depth {len(stack)})", self.theme.text_dim),
            *[hud.plain(row, self.theme.text) for row in _rows(stack, " → ", 24, 3)],
        )

    def _fronts_lines(self, state: RunState) -> tuple[tuple[hud.Span, ...], ...]:
        """A parallel run's panel: what was visited (and how many probes landed on a node
        already visited), and the probes running now: the fronts (at work), then those
        waiting for their calls' answers, each node once with its count."""
        t, twice = self.theme, state.duplicates
        paths = list(state.running)
        waiting = {p.rpartition(".")[0] for p in paths if "." in p}
        fronts = counted([state.running[p] for p in paths if p not in waiting], "\u00d7{}")
        parents = counted([state.running[p] for p in paths if p in waiting], "\u00d7{}")
        return (
            hud.plain(f"visited ({len(state.visited)})", t.text_dim),
            *[hud.plain(row, t.text) for row in _rows(state.visited, " ", 24, 3)],
            *([hud.plain(f"+ {twice} duplicate probe{'s' if twice > 1 else ''}", t.text)]
              if twice else []),
            hud.plain(""),
            hud.plain(f"running probes ({len(paths)})", t.text_dim),
            *[hud.plain(row, t.text) for row in _rows(fronts, " ", 24, 3)],
            *([hud.plain(_waiting(parents, sum(p in waiting for p in paths)), t.text_dim)]
              if parents else []),
        )

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
        """The result panel (:mod:`inkworm.render.panel`): the map, the spurious edges
        counted exactly as ``check --graph`` counts them."""
        match = NameMatcher(self.topology.nodes)
        extra = (list(self._spurious) if self._spurious is not None else
                 topology_diff(self.trace, self.topology).spurious)  # topology names
        spurious = set(extra)
        self.spurious = list(extra)
        """The spurious edges the result panel counts (as ``check --graph`` lists them)."""

        def real(a: str, b: str) -> bool:
            return pair(match(a) or a, match(b) or b) not in spurious

        found = collect.lines(collect.collected(self.trace.events))
        # no DOT file: the topology was read off this very run, so no "true topology" claim
        derived = ("log" if self.trace.header.source.value == "log" else "trace") \
            if self.topology.name == DERIVED else None

        growth = self._growth

        def build(size: int, width: int, condensed: bool) -> hud.TextBlock:
            block = result_block(outcome.node, outcome.map, extra, real, self.theme, size,
                                 width, found, derived_from=derived, condensed=condensed)
            if growth is None or condensed:
                return block
            gap = hud.render_lines((hud.plain(""),), size)  # the hairball, grown in full
            chart = growth_chart(growth, len(growth), growth[-1], self.theme, size, width)
            return hud.stack([block, gap, chart])

        return build


def timeline(trace: Trace, options: RenderOptions, fps: float | None = None) -> list[Step]:
    """The run's steps timed as ``options`` say (``fps``: each starting on a frame)."""
    return time_steps(steps_from_trace(trace), options.timing, options.duration,
                      pace=options.pace, story=options.story, fps=fps)


def caption_schedule(steps: Sequence[Step]) -> list[tuple[float, Step]]:
    """When each caption appears: with its step, every one (the timeline gives each caption at
    least its reading time, so none is ever dropped; a condensed run's group shows once)."""
    from inkworm.render.subtitles import first_of_each_cue

    return [(step.start, step) for step in first_of_each_cue(steps)]


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


def _waiting(nodes: Sequence[str], probes: int) -> str:
    """The probes waiting for their calls' answers: named on one line, else counted."""
    named = " ".join(["waiting:", *nodes])
    return named if len(named) <= 24 else f"{probes} waiting for answers"


def _unetch(step: Step, truth: frozenset[frozenset[str]]) -> Step:
    if step.kind is StepKind.ETCH and step.peer and frozenset((step.node, step.peer)) in truth:
        return replace(step, peer=None)
    return step


def _box_pixels(box: Box, width: int, height: int) -> NDArray[np.int64]:
    """The pixels of ``box`` inside a ``width`` x ``height`` image, as flat indices."""
    x0, y0 = max(box[0], 0), max(box[1], 0)
    x1, y1 = min(box[2], width), min(box[3], height)
    if x1 <= x0 or y1 <= y0:
        return np.zeros(0, dtype=np.int64)
    ys, xs = np.mgrid[y0:y1, x0:x1]
    pixels: NDArray[np.int64] = (ys * width + xs).ravel().astype(np.int64)
    return pixels
