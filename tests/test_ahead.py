"""The chip made ahead (:mod:`inkworm.ahead`): a render starts its board in a thread before it
imports manim; the video is the same as with the board made in the scene, an error in it is
raised where the board is needed, and nothing of it outlives the render."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import GRAPHS
from inkworm import Mode, load_dot, simulate
from inkworm.ahead import Ahead
from inkworm.errors import InputError
from inkworm.gen import sparse_cluster
from inkworm.layout import layout
from inkworm.render import video
from inkworm.render.board import Board
from inkworm.run import RunSpec

pytestmark = pytest.mark.render


def _children() -> list[str]:
    """The names of this process's child processes."""
    names = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if int(rest.split()[1]) == os.getpid():
            names.append(name)
    return names


def _frames(path: Path) -> list[tuple[int, bytes]]:
    with av.open(str(path)) as container:
        return [(int(frame.pts), frame.to_ndarray(format="rgb24").tobytes())
                for frame in container.decode(video=0)]


def test_layouts_are_deterministic() -> None:
    """neato for the bowtie, sfdp past 300 nodes: the same positions from the same seed."""
    for make in (lambda: load_dot(GRAPHS / "bowtie.dot"), lambda: sparse_cluster(400, seed=4)):
        assert layout(make(), "auto", 3) == layout(make(), "auto", 3)


def test_a_board_made_ahead_makes_the_video_the_scene_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    topology = load_dot(GRAPHS / "bowtie.dot")
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    made_in: list[str] = []
    init = Board.__init__

    def spied(self: Board, *args: object, **kwargs: object) -> None:
        made_in.append(threading.current_thread().name)
        init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Board, "__init__", spied)
    ahead = _frames(video.render(topology, trace, tmp_path / "ahead.mp4"))
    assert made_in == ["inkworm-board"]
    monkeypatch.setattr(video, "SIZES", {})  # no size known ahead: the scene makes it
    in_scene = _frames(video.render(topology, trace, tmp_path / "scene.mp4"))
    assert made_in == ["inkworm-board", "MainThread"]
    assert ahead == in_scene
    assert not [t for t in threading.enumerate() if t.name == "inkworm-board"]


def test_a_size_manim_does_not_render_at_is_not_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    topology = load_dot(GRAPHS / "triangle.dot")
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    monkeypatch.setitem(video.SIZES, "l", (640, 360, 15.0))
    out = video.render(topology, trace, tmp_path / "t.mp4")
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (854, 480)


def test_an_error_made_ahead_is_raised_by_take() -> None:
    def fails() -> int:
        raise InputError("bad_pos.dot:2: node a: pos='left,top' is not 'x,y'")

    ahead = Ahead(fails, "inkworm-test")
    ahead.join()
    with pytest.raises(InputError, match="pos='left,top'"):
        ahead.take()
    assert Ahead(lambda: np.int64(7), "inkworm-test").take() == 7


def test_nothing_made_ahead_outlives_a_render_that_fails(tmp_path: Path) -> None:
    """The render fails at its output path, before its scene takes the board: the board's
    thread (and the graphviz it runs) has ended when the error is raised."""
    before = _children()
    topology = sparse_cluster(600, seed=2)
    trace = simulate(topology, RunSpec(mode=Mode.FIXED))
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(InputError):
        video.render(topology, trace, tmp_path / "file" / "out.mp4")
    assert not [t for t in threading.enumerate() if t.name == "inkworm-board"]
    assert _children() == before
