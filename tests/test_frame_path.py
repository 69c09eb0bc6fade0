"""The frame path into the encoder (:mod:`inkworm.render.writer`): a frame is encoded when its
pixels change, the video lasts exactly as long as manim's own, anything over the ink goes
through manim's camera, and sections, WebM and transparent MOV keep their length."""

from __future__ import annotations

import hashlib

import numpy as np

from conftest import GRAPHS
from inkworm import Mode, load_dot, simulate
from inkworm.render.board import RenderOptions, timeline
from inkworm.run import RunSpec
from inkworm.topology import Topology
from inkworm.trace import Trace

FPS = 15


def triangle() -> tuple[Topology, Trace]:
    topology = load_dot(GRAPHS / "triangle.dot")
    return topology, simulate(topology, RunSpec(mode=Mode.NAIVE))


def test_a_surface_counts_what_it_draws() -> None:
    """The version moves with the pixels: not when the board is advanced to the same moment
    (nothing is repainted), but when text is drawn over the frame, and when a followed
    camera's window moves; drawing on the base (under the frame) is no change yet."""
    from inkworm.gen import sparse_cluster
    from inkworm.render import hud
    from inkworm.render.board import Board
    from inkworm.render.camera import Viewport

    topology, trace = triangle()
    board = Board(trace, topology, timeline(trace, RenderOptions(), FPS), RenderOptions(),
                  427, 240)
    screen = board.screen
    board.advance(1.0)
    screen.composite()
    version, frame = screen.version, screen.frame.copy()
    board.advance(1.0)
    screen.composite()
    assert screen.version == version and np.array_equal(screen.frame, frame)
    block = hud.render_lines((hud.plain("over the ink", (255, 255, 255)),), 12)
    board.text(screen.base, block, 5, 5)
    assert screen.version == version
    board.text(screen.frame, block, 5, 5)
    assert screen.version != version
    board.advance(1.5)
    screen.composite()
    assert not np.array_equal(screen.frame, frame)

    big = sparse_cluster(120, seed=4)
    run = simulate(big, RunSpec(mode=Mode.FIXED))
    followed = Board(run, big, timeline(run, RenderOptions(), FPS), RenderOptions(), 427, 240)
    view = followed.screen
    assert isinstance(view, Viewport)
    seen: dict[int, str] = {}
    for slot in range(0, 20 * FPS):
        if slot < 10 * FPS:  # the ink and the window move
            followed.advance(slot / FPS)
        else:  # the window alone (the chip stays as it was at 10 s)
            view.time = slot / FPS
        view.composite()
        picture = hashlib.sha1(view.frame.tobytes()).hexdigest()
        assert seen.setdefault(view.version, picture) == picture, f"slot {slot}"
        (x0, y0, x1, y1), (left, top) = view.box, view.window(view.time)
        half = (y1 - y0) // 2  # the window's upper half (the minimap is in a lower corner)
        assert np.array_equal(view.frame[y0:y0 + half, x0:x1],
                              followed.chip.frame[top:top + half, left:left + x1 - x0])
    assert len(set(seen.values())) > 2 * FPS
