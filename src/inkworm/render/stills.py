"""Stills: the frame at any moment of a run, as PNG, without a video (``render --at``).

A moment is ``seq=N`` (the event with that seq), an event pattern ``KIND[:NODE[:OTHER]]``
(``connect:f:a``, ``probe_start:d``, ``crash``: the first event that matches; OTHER is the
event's other node, ``to``/``from``/``peer``/``neighbor``), or ``final`` (the last frame, the
map held). The frame shows the step that draws that event, completed, with its caption (for
an event no step draws of its own, the one on screen right after it).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from inkworm.errors import InputError
from inkworm.output import Inputs, atomic_path
from inkworm.render import palette as P
from inkworm.render.board import Board
from inkworm.render.choices import Quality, pick
from inkworm.render.compare import PairBoard
from inkworm.render.options import RenderOptions
from inkworm.render.pair import Run
from inkworm.render.schedule import timeline
from inkworm.render.timeline import Step
from inkworm.topology import Topology
from inkworm.trace import SCHEMA, FieldType, Kind, Trace


@dataclass(frozen=True)
class Moment:
    """One ``--at`` spec: as written, and the event it names (``None``: the final frame)."""

    spec: str
    seq: int | None
    side: int = 0
    """Which run the event is in (a comparison: 0 for the first, 1 for the second)."""

    @property
    def slug(self) -> str:
        """The spec as a file-name part: ``connect:f:a`` → ``connect-f-a``."""
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", self.spec).strip("-") or "at"


def moments(specs: str, trace: Trace, *more: Trace) -> list[Moment]:
    """Parse a comma list of ``--at`` specs against ``trace`` (a comparison: the first run,
    then the second); :class:`InputError` for a spec that names no event of any run."""
    found = []
    for spec in (part.strip() for part in specs.split(",")):
        if not spec:
            raise InputError(f"--at {specs!r}: an empty spec")
        found.append(_moment(spec, (trace, *more)))
    return found


def _moment(spec: str, traces: Sequence[Trace]) -> Moment:
    first: InputError | None = None
    for side, trace in enumerate(traces):
        try:
            return Moment(spec, _seq(spec, trace), side)
        except InputError as error:
            first = first or error
    assert first is not None
    raise first


def _seq(spec: str, trace: Trace) -> int | None:
    if spec == "final":
        return None
    if spec.startswith("seq="):
        number = spec[4:]
        if not re.fullmatch(r"[0-9]{1,12}", number):
            raise InputError(f"--at {spec}: expected seq=N, a whole number")
        seqs = {e.seq for e in trace.events}
        if int(number) not in seqs:
            raise InputError(f"--at {spec}: the run has no event {number} (its seqs run "
                             f"{min(seqs)} to {max(seqs)})")
        return int(number)
    kind, *names = spec.split(":")
    try:
        wanted = Kind(kind)
    except ValueError:
        raise InputError(f"--at {spec}: unknown event kind {kind!r} (one of "
                         f"{', '.join(k.value for k in Kind)}, or seq=N, or final)") from None
    if len(names) > 2:
        raise InputError(f"--at {spec}: expected KIND[:NODE[:OTHER]]")
    others = [f.attr for f in SCHEMA[wanted] if f.type is FieldType.NODE]
    for e in trace.events:
        if e.kind is not wanted or (names and not _same(e.node, names[0])):
            continue
        if len(names) == 2 and not any(_same(getattr(e, a), names[1]) for a in others):
            continue
        return e.seq
    raise InputError(f"--at {spec}: no event of this run matches")


def _same(name: str, wanted: str) -> bool:
    """``name`` (as the picture shows it) is the node ``wanted`` names: in full, before its
    ``@``, or in full with the domain the picture leaves out (:mod:`inkworm.names`)."""
    return (name == wanted or name.split("@", 1)[0] == wanted
            or ("@" in name and wanted.startswith(name + ".")))


def frame_at(board: Board | PairBoard, moment: Moment) -> None:
    """Bring ``board`` to the moment (the step drawing its event completed), or the end."""
    side = board.boards[moment.side] if isinstance(board, PairBoard) else board
    step = None if moment.seq is None else _drawing(side.steps, moment.seq)
    if step is None:
        board.finish()
    else:
        board.advance(step.end - 1e-6)  # the step's last instant: its own caption
    board.screen.composite()


def _drawing(steps: Sequence[Step], seq: int) -> Step | None:
    """The step that draws event ``seq``; for an event no step draws (the second half of a
    connection, a probe's end), the last step before it: what is on screen just after it."""
    drawn = next((s for s in steps if seq in s.seqs), None)
    if drawn is not None:
        return drawn
    before = [s for s in steps if s.seqs[-1] < seq]
    return before[-1] if before else (steps[0] if steps else None)


def stills(topology: Topology, trace: Trace, specs: Sequence[Moment],
           out: str | os.PathLike[str], quality: str = "l",
           options: RenderOptions | None = None, inputs: Inputs = (),
           compare: tuple[Run, Run] | None = None, sheet: bool = False,
           cols: int | None = None) -> list[Path]:
    """One PNG per moment: at ``out`` for a single one, else ``<out stem>-<spec>.png``;
    ``sheet``: one contact sheet of them all at ``out`` (``cols`` tiles a row; default: the
    grid closest to 16:9). ``compare``: the frames of two runs
    side by side (the first is ``topology``/``trace``)."""
    options = options or RenderOptions()
    preset = pick(Quality, quality, "quality").preset
    width, height = preset.width, preset.height
    target = Path(out)
    frames = (still(topology, trace, moment, options, width, height, compare)
              for moment in specs)
    if sheet:
        runs = (trace,) if compare is None else (compare[0].trace, compare[1].trace)
        labels = [moment_label(m, runs[m.side]) for m in specs]
        _save(contact_sheet(list(frames), labels, options.transparent,
                            P.THEMES[options.theme], columns=cols), target, inputs)
        return [target]
    paths = ([target] if len(specs) == 1 else
             [target.with_name(f"{target.stem}-{m.slug}.png") for m in specs])
    for frame, path in zip(frames, paths, strict=True):
        _save(frame if options.transparent else frame[..., :3], path, inputs)
    return paths


def _save(pixels: NDArray[np.uint8], path: Path, inputs: Inputs) -> None:
    from PIL import Image

    with atomic_path(path, suffix=".png", inputs=inputs) as tmp:
        Image.fromarray(pixels).save(tmp, format="PNG", optimize=True)


SHEET_WIDTH = 3840
"""A contact sheet is at most this wide (tiles are scaled down to fit)."""


_WHAT = {
    Kind.PROBE_START: "{node} starts its probe", Kind.NEIGHBORS: "{node} lists its peers",
    Kind.SKIP: "{node} skips {other}", Kind.LOAD_BINARY: "{node} ships the probe to {other}",
    Kind.CALL: "{node} calls {other}", Kind.RETURN: "{other} answers {node}",
    Kind.PROBE_END: "{node}'s probe ends", Kind.CONNECT: "{node} connects to {other}",
    Kind.DISCONNECT: "{node} loses {other}", Kind.ERROR: "{node}'s call to {other} fails",
    Kind.KILL: "{node} is stopped", Kind.COLLECT: "{node}'s collectors report",
    Kind.RESULT: "{node} has the map", Kind.CRASH: "the worm crashes at {node}",
}
"""What a contact sheet's label says of the moment's event."""


def moment_label(moment: Moment, trace: Trace) -> str:
    """A contact sheet's label: what happens at the moment, in words ('d starts its probe',
    'f connects to a'; 'the end: the map' for ``final``)."""
    if moment.seq is None:
        return "the end: the map" if trace.outcome is None or \
            trace.outcome.kind is Kind.RESULT else "the end"
    event = next(e for e in trace.events if e.seq == moment.seq)
    others = [getattr(event, f.attr) for f in SCHEMA[event.kind] if f.type is FieldType.NODE]
    return _WHAT[event.kind].format(node=event.node, other=others[0] if others else "")


def sheet_columns(count: int, aspect: float, target: float = 16 / 9) -> int:
    """How many tiles of ``aspect`` (width over height, label included) a row makes the sheet
    closest to ``target``."""
    def off(columns: int) -> float:
        rows = -(-count // columns)
        return abs(math.log(columns * aspect / rows / target))

    return min(range(1, count + 1), key=off)


def contact_sheet(frames: Sequence[NDArray[np.uint8]], labels: Sequence[str],
                  transparent: bool = False,
                  theme: P.Theme = P.THEMES["dark"],
                  columns: int | None = None) -> NDArray[np.uint8]:
    """Frames in a grid, in order, each labelled underneath: ``columns`` a row (default:
    the grid closest to 16:9, :func:`sheet_columns`)."""
    from PIL import Image

    from inkworm.render import hud

    height, width = frames[0].shape[:2]
    columns = min(columns or sheet_columns(len(frames), width / (height * 15 / 14)),
                  len(frames))
    rows = -(-len(frames) // columns)
    scale = min(1.0, SHEET_WIDTH / (columns * width))
    tile_w, tile_h = round(width * scale), round(height * scale)
    gap = max(6, tile_h // 40)
    label_h = max(14, tile_h // 14)
    sheet = np.zeros((rows * (tile_h + label_h + gap) + gap, columns * (tile_w + gap) + gap, 4),
                     np.uint8)
    if not transparent:
        sheet[...] = (*theme.background, 255)
    for index, (frame, label) in enumerate(zip(frames, labels, strict=True)):
        row, column = divmod(index, columns)
        x, y = gap + column * (tile_w + gap), gap + row * (tile_h + label_h + gap)
        tile = Image.fromarray(frame).resize((tile_w, tile_h), Image.Resampling.LANCZOS)
        sheet[y:y + tile_h, x:x + tile_w] = np.asarray(tile.convert("RGBA"))
        text = hud.render_lines((hud.plain(label, theme.text),), round(label_h * 0.7),
                                max_width=tile_w)
        if transparent:
            text = hud.plated(text, theme.plate, P.PLATE_ALPHA, 3)
        hud.blit(sheet, text, x + tile_w / 2, y + tile_h + label_h / 2, anchor="mm")
    return sheet if transparent else sheet[..., :3].copy()


def still(topology: Topology, trace: Trace, moment: Moment, options: RenderOptions,
          width: int, height: int,
          compare: tuple[Run, Run] | None = None) -> NDArray[np.uint8]:
    """The RGBA frame at ``moment`` (of one run, or of a comparison)."""
    board: Board | PairBoard
    if compare is None:
        board = Board(trace, topology, timeline(trace, options), options, width, height)
    else:
        a, b = compare
        board = PairBoard(a, b, timeline(a.trace, options), timeline(b.trace, options),
                          options, width, height)
    frame_at(board, moment)
    return board.screen.frame
