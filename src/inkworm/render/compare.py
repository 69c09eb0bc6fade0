"""Two runs side by side (``render A --compare B``): two chips in one frame, one layout, the
steps aligned by visit, and at the end the diff of the two maps.

The runs are aligned on their visits: each run's timeline is cut where a visit starts (and
before its outcome, the map or the crash), and the two lists of visits are matched in order
(:class:`difflib.SequenceMatcher`). Matched visits start together and last as long as the
longer of the two; a visit only one run makes plays while the other holds its last frame.
Every step keeps its own duration, so every caption keeps its reading time on both sides.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from inkworm.layout import Positions
from inkworm.render import hud
from inkworm.render import palette as P
from inkworm.render.board import Board
from inkworm.render.frame import Frame
from inkworm.render.geometry import min_distance, stretch
from inkworm.render.legend import legend_items
from inkworm.render.options import SAFE, RenderOptions
from inkworm.render.pair import Run, diff_edges, diff_text, shared_layout
from inkworm.render.plan import wells_box
from inkworm.render.subtitles import Cue, caption_cues, video_length
from inkworm.render.timeline import KEY_HOLD, Step, StepKind, reading_time, slide_groups
from inkworm.render.tracked import Tracked

STACK_GAIN = 1.15
"""Stack the sides when that makes the wells this much further apart than side by side."""


def stacks(positions: Positions, width: int, height: int) -> bool:
    """Whether the two chips go one above the other: when the layout is so wide that stacked
    chips (a frame wide) space its wells :data:`STACK_GAIN` times further apart than chips
    side by side (half a frame wide) do. With the stretch a chip allows (up to 1.6 times in
    one direction), that takes a layout about 3.5 times wider than high (a ladder of racks,
    a chain of sites); neato's and sfdp's layouts of the graphs in ``graphs/`` are at most
    1.7."""
    if len(positions) < 2:
        return False
    pts = list(positions)

    def spacing(frame: Frame) -> float:
        centers = stretch(positions, wells_box(frame.chip, frame))
        return min_distance(np.array([centers[n] for n in pts], dtype=np.float64))

    side = spacing(Frame(width // 2, height, compact=True))
    stacked = spacing(Frame(width, height // 2, compact=True, stacked=True))
    return stacked >= STACK_GAIN * side


def _segments(steps: Sequence[Step]) -> list[tuple[str, list[Step]]]:
    """A run's timed steps cut at each visit and before its outcome, each keyed by what it
    shows (``visit d``, ``outcome``)."""
    segments: list[tuple[str, list[Step]]] = []
    for step in steps:
        if step.kind in (StepKind.RESULT, StepKind.CRASH):
            segments.append(("outcome", [step]))
        elif step.visit is not None or not segments or segments[-1][0] == "outcome":
            segments.append((f"visit {step.visit}", [step]))
        else:
            segments[-1][1].append(step)
    return segments


def align(a: Sequence[Step], b: Sequence[Step]) -> tuple[list[Step], list[Step], list[float]]:
    """Both runs' timed steps on one clock, matched visits starting together (see the
    module's doc), and the slots' starts (plus the end). Durations are kept; only starts
    move."""
    sa, sb = _segments(a), _segments(b)
    matcher = difflib.SequenceMatcher(None, [k for k, _ in sa], [k for k, _ in sb],
                                      autojunk=False)
    out_a: list[Step] = []
    out_b: list[Step] = []
    clock = 0.0
    slots: list[float] = []

    def place(segment: list[Step], into: list[Step]) -> float:
        shift = clock - segment[0].start
        into.extend(replace(s, start=s.start + shift) for s in segment)
        return segment[-1].end - segment[0].start

    for tag, i0, i1, j0, j1 in matcher.get_opcodes():
        if tag == "equal":
            for (_, x), (_, y) in zip(sa[i0:i1], sb[j0:j1], strict=True):
                slots.append(clock)
                clock += max(place(x, out_a), place(y, out_b))
            continue
        for _, x in sa[i0:i1]:
            slots.append(clock)
            clock += place(x, out_a)
        for _, y in sb[j0:j1]:
            slots.append(clock)
            clock += place(y, out_b)
    return out_a, out_b, [*slots, clock]


class PairBoard:
    """Two :class:`Board` s side by side in one frame, on one clock. Quacks like a board
    for the scene and for stills: ``steps``, ``chip`` (``composite``, ``frame``),
    ``advance``, ``finish``."""

    def __init__(self, a: Run, b: Run, steps_a: Sequence[Step], steps_b: Sequence[Step],
                 options: RenderOptions, width: int, height: int) -> None:
        self.runs = (a, b)
        self.options = options
        *aligned, self.slots = align(steps_a, steps_b)
        positions = shared_layout(a, b, options.layout, options.seed)
        self.stacked = stacks(positions, width, height)
        """One side above the other (a wide layout), not side by side."""
        sizes = ([(width, height // 2), (width, height - height // 2)] if self.stacked else
                 [(width // 2, height), (width - width // 2, height)])
        legends: list[list[tuple[str, str]] | None] = [None, None]
        if self.stacked:  # one legend, the lower side's, of both sides' looks
            both = [*legend_items(a.trace, aligned[0]), *legend_items(b.trace, aligned[1])]
            legends = [[], list(dict.fromkeys(both))]
        self.boards = tuple(
            Board(run.trace, run.topology, timed, options, *size, compact=True,
                  stacked=self.stacked, title=run.title, positions=positions, legend=legend)
            for run, timed, size, legend in zip((a, b), aligned, sizes, legends, strict=True))
        self.boards[1]._fit = self.boards[0]._fit  # both sides' panels in one text size
        self.width, self.height = width, height
        self.diff = diff_text(a, b)
        self.hold = max(options.hold, reading_time(self.diff, options.pace) * KEY_HOLD)
        self.steps = merged_steps(self)
        self.chip = _PairChip(self)
        self.screen = self.chip
        """What the frame shows (as a board's)."""

    def advance(self, tau: float) -> None:
        for board in self.boards:
            board.advance(tau)
        self._one_size()

    def _one_size(self) -> None:
        """Both panels in one text size: the first side's again when the second needed a
        smaller one (their sizes are shared, :attr:`Board._fit`)."""
        first, second = self.boards
        if first.panel_size > second.panel_size > 0:
            first.repanel()

    def finish(self) -> None:
        """Both end states, the two maps in the panels, and the diff across the bottom."""
        for board in self.boards:
            board.finish()
            board._restore(board._caption_box)  # the diff takes the caption line
            board._caption_box = None
        self._one_size()
        self.chip.show_diff()

    def cues(self) -> list[Cue]:
        """Subtitles of the comparison: at every moment, one cue of both sides' captions
        (one line each, labelled), then the diff (cues never overlap, as players want)."""
        per_side = []
        for run, board in zip(self.runs, self.boards, strict=True):
            end = video_length(board.steps, 0.0)
            per_side.append([replace(c, end=min(c.end, end), text=f"{run.label}: {c.text}")
                             for c in caption_cues(board.steps, 0.0)])
        run_end = max(video_length(b.steps, 0.0) for b in self.boards)
        marks = sorted({0.0, run_end, *(t for cues in per_side for c in cues
                                        for t in (c.start, c.end) if t < run_end)})
        out: list[Cue] = []
        for start, end in itertools.pairwise(marks):
            lines = []
            seqs: tuple[int, ...] = ()
            for cues in per_side:
                # a side that waits (or ran out of steps) says nothing new: its last caption
                # is not repeated cue after cue
                active = [c for c in cues if c.start <= start + 1e-9 < c.end]
                for c in active:
                    lines.append(c.text)
                    seqs += c.seqs
            if not lines:
                continue
            text = "\n".join(lines)
            if out and out[-1].text == text and abs(out[-1].end - start) < 1e-9:
                out[-1] = replace(out[-1], end=end)
            else:
                out.append(Cue(start, end, text, seqs))
        out.append(Cue(run_end, run_end + self.hold, self.diff))
        return out


def slide_cuts(pair_board: PairBoard) -> list[list[Step]]:
    """The comparison cut into slides: one per aligned visit, each ending once both sides
    have shown their key event for it (:func:`~inkworm.render.timeline.slide_groups`)."""
    keys = sorted(group[-1].end for board in pair_board.boards
                  for group in slide_groups(board.steps))
    slots = pair_board.slots
    cuts = []
    for s0, s1 in itertools.pairwise(slots):
        inside = [k for k in keys if s0 < k <= s1 + 1e-9]
        if inside:
            cuts.append(max(inside))
    groups: list[list[Step]] = [[]]
    for step in pair_board.steps:
        if cuts and step.start >= cuts[0] - 1e-9:
            while cuts and step.start >= cuts[0] - 1e-9:
                cuts.pop(0)
            if groups[-1]:
                groups.append([])
        groups[-1].append(step)
    return [g for g in groups if g]


def merged_steps(pair_board: PairBoard) -> list[Step]:
    """Both sides' steps on one clock (A first at a tie), captions labelled: what sections,
    slides and speaker notes are cut from."""
    tagged = [(s.start, i, replace(s, caption=f"{run.label}: {s.caption}"))
              for i, (run, board) in enumerate(zip(pair_board.runs, pair_board.boards,
                                                   strict=True))
              for s in board.steps]
    return [s for _, _, s in sorted(tagged, key=lambda t: (t[0], t[1]))]


class _PairChip(Tracked):
    """The two chips' frames in one: what the camera copies."""

    def __init__(self, owner: PairBoard) -> None:
        self.owner = owner
        a, b = (board.screen.frame for board in owner.boards)
        self._axis = 0 if owner.stacked else 1
        self.frame: NDArray[np.uint8] = np.concatenate([a, b], axis=self._axis)
        self._divider = max(1, owner.height // 360)
        self._diff: hud.TextBlock | None = None
        self._track(height=self.frame.shape[0])
        self._shown: tuple[int, int, bool] | None = None
        """What the frame shows: both sides' versions, and whether the diff is drawn."""

    def composite(self) -> None:
        left, right = (board.screen for board in self.owner.boards)
        left.composite()
        right.composite()
        shown = (left.version, right.version, self._diff is not None)
        if shown == self._shown:
            return  # both sides as they were
        self._shown = shown
        self.changed()
        owner, d = self.owner, self._divider
        split = left.frame.shape[self._axis]
        dim = (*P.hex_rgb(owner.boards[0].theme.text_dim), 255)
        if self._axis:
            self.frame[:, :split] = left.frame
            self.frame[:, split:] = right.frame
            self.frame[int(0.07 * owner.height):int(0.88 * owner.height),
                       split - d:split + d] = dim
        else:
            self.frame[:split] = left.frame
            self.frame[split:] = right.frame
            self.frame[split - d:split + d,
                       int(0.015 * owner.width):int(SAFE * owner.width)] = dim
        if self._diff is not None:  # the end: the diff over both captions (or the lower's)
            x, y = owner.width / 2, SAFE * owner.height
            if not self._axis:
                centre, bottom, _ = owner.boards[1].f.caption
                x, y = centre, split + bottom
            owner.boards[0].text(self.frame, self._diff, x, y, anchor="mb")

    def show_diff(self) -> None:
        """From now on, draw the diff line (drawn once, laid over every frame after)."""
        owner = self.owner
        only_a, only_b = diff_edges(*owner.runs)
        theme = owner.boards[0].theme
        colour = theme.warn if only_a or only_b else theme.good
        if not owner.stacked:
            self._diff = hud.render_lines((hud.plain(owner.diff, colour),),
                                          max(9, round(0.042 * owner.height)),
                                          max_width=int((2 * SAFE - 1) * owner.width))
            return
        # stacked: under the lower chip, as its caption was, wrapped to the chip's width
        lower = owner.boards[1]
        _, bottom, width = lower.f.caption
        size = max(9, round(0.042 * owner.height))
        while True:
            block = hud.render_lines(hud.wrapped(owner.diff, colour, size, width), size,
                                     spacing=1.15, max_width=width, centred=True)
            if block.height <= bottom - lower._caption_top or size <= 9:
                break
            size -= 1
        self._diff = block
