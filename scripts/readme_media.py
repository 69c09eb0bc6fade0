"""Regenerate the README's pictures: a still at the moment a-f is etched, and a short GIF."""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

from inkworm import Mode, load_dot, simulate
from inkworm.render.board import Board, RenderOptions
from inkworm.render.timeline import StepKind, steps_from_trace, time_steps
from inkworm.render.video import render
from inkworm.run import RunSpec

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    topology = load_dot(ROOT / "graphs" / "bowtie.dot")
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    steps = time_steps(steps_from_trace(trace))
    board = Board(trace, topology, steps, RenderOptions(), 854, 480)
    etch = next(s for s in board.steps if s.kind is StepKind.ETCH and s.emphasis)
    board.advance(etch.start + 0.75 * etch.duration)
    still = DOCS / "bowtie-naive-a-f.png"
    Image.fromarray(board.chip.frame[..., :3]).save(still, optimize=True)
    gif = render(topology, trace, DOCS / "bowtie-naive.gif", "l", "gif",
                 RenderOptions(duration=12.0))
    for path in (still, gif):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
