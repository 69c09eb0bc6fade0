"""Stills: the frame at any moment of a run, as PNG, without a video (``render --at``).

A moment is ``seq=N`` (the event with that seq), an event pattern ``KIND[:NODE[:OTHER]]``
(``connect:f:a``, ``probe_start:d``, ``crash``: the first event that matches; OTHER is the
event's other node, ``to``/``from``/``peer``/``neighbor``), or ``final`` (the last frame, the
map held). The frame shows the step that draws that event, completed, with its caption.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from inkworm.errors import InputError
from inkworm.output import Inputs, atomic_path
from inkworm.render.board import Board, RenderOptions
from inkworm.render.timeline import steps_from_trace, time_steps
from inkworm.topology import Topology
from inkworm.trace import SCHEMA, FieldType, Kind, Trace

SIZES = {"l": (854, 480), "m": (1280, 720), "h": (1920, 1080), "k": (3840, 2160)}
"""Frame size of each quality (as manim's presets)."""


@dataclass(frozen=True)
class Moment:
    """One ``--at`` spec: as written, and the event it names (``None``: the final frame)."""

    spec: str
    seq: int | None

    @property
    def slug(self) -> str:
        """The spec as a file-name part: ``connect:f:a`` → ``connect-f-a``."""
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", self.spec).strip("-") or "at"


def moments(specs: str, trace: Trace) -> list[Moment]:
    """Parse a comma list of ``--at`` specs against ``trace``; :class:`InputError` for a spec
    that names no event of this run."""
    found = []
    for spec in (part.strip() for part in specs.split(",")):
        if not spec:
            raise InputError(f"--at {specs!r}: an empty spec")
        found.append(Moment(spec, _seq(spec, trace)))
    return found


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
    return name == wanted or name.split("@", 1)[0] == wanted


def frame_at(board: Board, seq: int | None) -> None:
    """Bring ``board`` to the moment ``seq`` is drawn (its step completed), or the end."""
    if seq is None:
        board.finish()
        return
    step = next((s for s in board.steps if s.seqs[-1] >= seq), None)
    if step is None:
        board.finish()
        return
    board.advance(step.end - 1e-6)  # the step's last instant: its own caption


def stills(topology: Topology, trace: Trace, specs: Sequence[Moment],
           out: str | os.PathLike[str], quality: str = "l",
           options: RenderOptions | None = None, inputs: Inputs = ()) -> list[Path]:
    """One PNG per moment: at ``out`` for a single one, else ``<out stem>-<spec>.png``."""
    from PIL import Image

    options = options or RenderOptions()
    width, height = SIZES[quality]
    steps = time_steps(steps_from_trace(trace), options.timing, options.duration,
                       pace=options.pace)
    target = Path(out)
    paths = ([target] if len(specs) == 1 else
             [target.with_name(f"{target.stem}-{m.slug}.png") for m in specs])
    written = []
    for moment, path in zip(specs, paths, strict=True):
        board = Board(trace, topology, steps, options, width, height)
        frame_at(board, moment.seq)
        pixels = board.chip.frame if options.transparent else board.chip.frame[..., :3]
        with atomic_path(path, suffix=".png", inputs=inputs) as tmp:
            Image.fromarray(pixels).save(tmp, format="PNG", optimize=True)
        written.append(path)
    return written
