"""The frame path into the encoder (:mod:`inkworm.render.writer`): a frame is encoded when its
pixels change, the video lasts exactly as long as manim's own, anything over the ink goes
through manim's camera, and sections, WebM and transparent MOV keep their length."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from conftest import GRAPHS
from inkworm import Mode, load_dot, simulate
from inkworm.render import scene as scene_module
from inkworm.render.options import RenderOptions
from inkworm.render.scene import InkScene
from inkworm.render.schedule import section_groups, timeline
from inkworm.render.video import render
from inkworm.render.writer import InkFileWriter, InkRenderer, Surface
from inkworm.run import RunSpec
from inkworm.topology import Topology
from inkworm.trace import Trace

pytestmark = pytest.mark.render
FPS = 15


def triangle() -> tuple[Topology, Trace]:
    topology = load_dot(GRAPHS / "triangle.dot")
    return topology, simulate(topology, RunSpec(mode=Mode.NAIVE))


def slots_expected(trace: Trace, options: RenderOptions | None = None) -> int:
    """The frames manim writes for the scene: each section's play, then the hold (``wait``
    counts ``int(hold / (1 / fps))`` frames)."""
    options = options or RenderOptions()
    steps = timeline(trace, options, FPS)
    plays = sum(round(g[-1].end * FPS) - round(g[0].start * FPS)
                for g in section_groups(steps, options.min_section))
    return plays + int(options.hold / (1 / FPS))


def decoded(path: Path) -> tuple[list[tuple[int, np.ndarray]], Fraction]:
    """Each frame of the video as (slot, RGB), and the video's length in seconds."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None and stream.duration is not None
        frames = []
        for frame in container.decode(stream):
            at = Fraction(frame.pts) * stream.time_base * FPS
            assert at.denominator == 1, f"a frame off the 1/{FPS} s grid: {at}"
            frames.append((int(at), frame.to_ndarray(format="rgb24")))
        return frames, Fraction(stream.duration) * stream.time_base


def shown(frames: list[tuple[int, np.ndarray]], slots: int) -> Iterator[np.ndarray]:
    """The picture at each slot: the last frame that started at or before it."""
    at = 0
    for slot in range(slots):
        while at + 1 < len(frames) and frames[at + 1][0] <= slot:
            at += 1
        yield frames[at][1]


def manims(camera_class: Any, skip_animations: bool = False) -> Any:
    """manim's own renderer and writer (the frame path as it was)."""
    from manim.renderer.cairo_renderer import CairoRenderer

    return CairoRenderer(camera_class=camera_class, skip_animations=skip_animations)


def test_held_frames_are_gaps_and_the_video_is_as_long_as_manims(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    topology, trace = triangle()
    ours = render(topology, trace, tmp_path / "ours.mp4")
    with monkeypatch.context() as patch:
        patch.setattr(scene_module, "InkRenderer", manims)
        theirs = render(topology, trace, tmp_path / "manims.mp4")
    mine, length = decoded(ours)
    before, length_before = decoded(theirs)
    slots = slots_expected(trace)
    assert length == length_before == Fraction(slots, FPS)
    assert [slot for slot, _ in before] == list(range(slots))  # manim: every slot a frame
    held = slots - len(mine)
    assert held > 60, f"only {held} frames held (the final map alone holds 60)"
    assert mine[-1][0] == slots - 1  # the last frame again at the last slot
    for slot, (a, b) in enumerate(zip(shown(mine, slots), (f for _, f in before),
                                      strict=True)):
        diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
        assert diff.mean() < 1.5 and (diff > 48).mean() < 0.001, f"slot {slot} differs"


def test_the_sections_join_as_manims_concatenation_joins_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The partial movies moved packet by packet (no frame decoded to probe them) make the
    video manim's concat demuxer makes: every frame at the same slot, the same pixels."""
    from manim.scene.scene_file_writer import SceneFileWriter

    topology, trace = triangle()
    monkeypatch.setattr(InkFileWriter, "one_stream", lambda self: False)  # a file a play
    ours = render(topology, trace, tmp_path / "ours.mp4")
    with monkeypatch.context() as patch:
        patch.setattr(InkFileWriter, "combine_files", SceneFileWriter.combine_files)
        theirs = render(topology, trace, tmp_path / "concat.mp4")
    mine, length = decoded(ours)
    before, length_before = decoded(theirs)
    assert length == length_before
    options = RenderOptions()
    assert len(section_groups(timeline(trace, options, FPS), options.min_section)) > 2
    assert [slot for slot, _ in mine] == [slot for slot, _ in before]
    for (slot, a), (_, b) in zip(mine, before, strict=True):
        assert np.array_equal(a, b), f"slot {slot} differs"


def test_a_render_is_one_stream_with_the_frames_of_a_file_a_play(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``inkworm render`` encodes the scene as one stream (one encoder, no keyframe forced
    where each play starts); the video shows what a file a play shows, slot for slot, and
    lasts as long."""
    from inkworm.render import writer

    jobs: list[str] = []
    start = writer._EncodeJob.__init__

    def counted(self: Any, path: str, *args: Any) -> None:
        jobs.append(path)
        start(self, path, *args)

    monkeypatch.setattr(writer._EncodeJob, "__init__", counted)
    topology, trace = triangle()
    one = render(topology, trace, tmp_path / "one.mp4")
    assert len(jobs) == 1
    with monkeypatch.context() as patch:
        patch.setattr(InkFileWriter, "one_stream", lambda self: False)
        each = render(topology, trace, tmp_path / "each.mp4")
    plays = len(section_groups(timeline(trace, RenderOptions(), FPS),
                               RenderOptions().min_section)) + 1  # and the final hold
    assert len(jobs) == 1 + plays
    mine, length = decoded(one)
    theirs, length_theirs = decoded(each)
    slots = slots_expected(trace)
    assert length == length_theirs == Fraction(slots, FPS)
    assert mine[-1][0] == slots - 1
    for slot, (a, b) in enumerate(zip(shown(mine, slots), shown(theirs, slots), strict=True)):
        diff = np.abs(a.astype(np.int16) - b.astype(np.int16))
        assert diff.mean() < 1.0 and (diff > 48).mean() < 0.001, f"slot {slot} differs"

    def keyframes(path: Path) -> int:
        with av.open(str(path)) as container:
            return sum(packet.is_keyframe for packet in container.demux(video=0)
                       if packet.size)

    assert keyframes(one) < plays <= keyframes(each)  # each file begins with one


def spy(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int, str]]:
    """Each frame the writer is handed: (``surface`` or ``camera``, version, frames, hash)."""
    calls: list[tuple[str, int, int, str]] = []
    write_surface, write_frame = InkFileWriter.write_surface, InkFileWriter.write_frame

    def digest(pixels: np.ndarray) -> str:
        return hashlib.sha1(pixels.tobytes()).hexdigest()

    def on_surface(self: InkFileWriter, surface: Surface, num_frames: int = 1) -> None:
        calls.append(("surface", surface.version, num_frames, digest(surface.frame)))
        write_surface(self, surface, num_frames)

    def on_frame(self: InkFileWriter, frame: Any, num_frames: int = 1) -> None:
        calls.append(("camera", -1, num_frames, digest(frame)))
        write_frame(self, frame, num_frames)

    monkeypatch.setattr(InkFileWriter, "write_surface", on_surface)
    monkeypatch.setattr(InkFileWriter, "write_frame", on_frame)
    return calls


def test_a_version_is_a_picture_and_every_change_is_encoded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The chip's version changes exactly when its pixels do (never the same number for two
    pictures), and every slot whose picture changed is a frame of the video."""
    calls = spy(monkeypatch)
    topology, trace = triangle()
    frames, _ = decoded(render(topology, trace, tmp_path / "t.mp4"))
    encoded = {slot for slot, _ in frames}
    assert {kind for kind, *_ in calls} == {"surface"}  # only the ink: no camera at all
    pictures: dict[int, str] = {}
    slot, previous = 0, ""
    for _, version, count, picture in calls:
        assert pictures.setdefault(version, picture) == picture, f"version {version} reused"
        if picture != previous:
            assert slot in encoded, f"slot {slot} changed but was not encoded"
        previous, slot = picture, slot + count
    assert slot == slots_expected(trace)
    assert len(set(pictures.values())) < slot  # pictures repeat: there was something to hold


class Covered(InkScene):
    """The ink with a red square over it while the second section plays."""

    def open_section(self, group: Any) -> None:
        from manim import Square

        super().open_section(group)
        self.opened = getattr(self, "opened", 0) + 1
        if self.opened == 2:
            self.square = Square(side_length=2, color="#ff0000", fill_opacity=1)
            self.add_foreground_mobject(self.square)
        elif self.opened == 3:
            self.remove(self.square)


def movie(make: Callable[[], InkScene], tmp_path: Path) -> Path:
    from manim import tempconfig

    with tempconfig({"quality": "low_quality", "media_dir": str(tmp_path / "media"),
                     "disable_caching": True, "verbosity": "WARNING",
                     "progress_bar": "none", "output_file": "render"}):
        scene = make()
        scene.render()
        return Path(scene.renderer.file_writer.movie_file_path)


def test_a_mobject_over_the_ink_goes_through_manims_camera(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = spy(monkeypatch)
    topology, trace = triangle()
    frames, length = decoded(movie(lambda: Covered(topology, trace), tmp_path))
    slots = slots_expected(trace)
    assert length == Fraction(slots, FPS)
    steps = timeline(trace, RenderOptions(), FPS)
    groups = section_groups(steps, RenderOptions().min_section)
    start, end = (round(groups[1][0].start * FPS), round(groups[1][-1].end * FPS))
    kinds = [kind for kind, _, count, _ in calls for _ in range(count)]
    assert kinds == ["surface"] * start + ["camera"] * (end - start) + \
        ["surface"] * (slots - end)
    for slot, picture in enumerate(shown(frames, slots)):
        r, g, b = (int(v) for v in picture[240, 427])  # the frame's centre
        red = r > 180 and g < 90 and b < 90
        assert red == (start <= slot < end), f"slot {slot}: {(r, g, b)}"


def test_sections_keep_their_frames(tmp_path: Path) -> None:
    topology, trace = triangle()
    from manim import tempconfig

    with tempconfig({"quality": "low_quality", "media_dir": str(tmp_path / "media"),
                     "disable_caching": True, "verbosity": "WARNING",
                     "progress_bar": "none", "output_file": "render", "save_sections": True}):
        scene = InkScene(topology, trace)
        scene.render()
        writer = scene.renderer.file_writer
        index = Path(writer.sections_output_dir) / "render.json"
        whole = Path(writer.movie_file_path)
    sections = json.loads(index.read_text(encoding="utf-8"))
    assert [s["name"] for s in sections] == ["visit a", "visit b", "visit c", "result"]
    steps = timeline(trace, RenderOptions(), FPS)
    groups = section_groups(steps, RenderOptions().min_section)
    expected = [round(g[-1].end * FPS) - round(g[0].start * FPS) for g in groups]
    expected.append(int(RenderOptions().hold / (1 / FPS)))
    lengths = [decoded(index.parent / s["video"])[1] for s in sections]
    assert lengths == [Fraction(n, FPS) for n in expected]
    assert decoded(whole)[1] == sum(lengths)


@pytest.mark.parametrize(("fmt", "transparent"), [("webm", False), ("mov", True),
                                                 ("webm", True)])
def test_webm_and_transparent_mov_last_as_long(tmp_path: Path, fmt: str,
                                              transparent: bool) -> None:
    topology, trace = triangle()
    options = RenderOptions(transparent=transparent)
    out = render(topology, trace, tmp_path / f"t.{fmt}", fmt=fmt, options=options)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        length = float(container.duration or 0) / 1e6
        alpha = frames[-1].to_ndarray(format="rgba")[..., 3] if transparent and fmt == "mov" \
            else None  # (VP9's alpha needs libvpx to decode: tests/test_outputs.py)
    assert length == pytest.approx(slots_expected(trace) / FPS, abs=0.002)
    assert len(frames) < slots_expected(trace)
    if alpha is not None:
        assert alpha[240, 845] == 0 and alpha[240, 200] == 255


def test_the_renderer_is_inkworms_only_for_cairo() -> None:
    topology, trace = triangle()
    assert isinstance(InkScene(topology, trace).renderer, InkRenderer)


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
    view.take_rows()
    previous = view.frame.copy()
    for slot in range(0, 20 * FPS):
        if slot < 10 * FPS:  # the ink and the window move
            followed.advance(slot / FPS)
        else:  # the window alone (the chip stays as it was at 10 s)
            view.time = slot / FPS
        view.composite()
        picture = hashlib.sha1(view.frame.tobytes()).hexdigest()
        assert seen.setdefault(view.version, picture) == picture, f"slot {slot}"
        moved = np.flatnonzero((view.frame != previous).any(axis=(1, 2)))
        rows = view.take_rows()  # what a writer converts anew: every row that changed
        assert not moved.size or (rows is not None and rows[0] <= moved[0] and
                                  moved[-1] < rows[1]), f"slot {slot}: {rows}, {moved}"
        previous = view.frame.copy()
        (x0, y0, x1, y1), (left, top) = view.box, view.window(view.time)
        keep = np.ones((y1 - y0, x1 - x0), dtype=bool)  # the window but for the minimap
        bx0, by0, bx1, by1 = view._minimap_box()
        keep[max(by0 - y0, 0):by1 - y0, max(bx0 - x0, 0):bx1 - x0] = False
        assert np.array_equal(view.frame[y0:y1, x0:x1][keep],
                              followed.chip.frame[top:top + y1 - y0, left:left + x1 - x0][keep])
    assert len(set(seen.values())) > 2 * FPS


def test_a_band_converts_to_the_bytes_of_the_whole_frame() -> None:
    """Rows converted alone (with their margins) are the rows of the whole frame converted,
    wherever the band lies, also at the frame's top and bottom edges."""
    from av.video.reformatter import VideoReformatter

    from inkworm.render.board import Board
    from inkworm.render.yuv import patched, yuv420p

    topology, trace = triangle()
    board = Board(trace, topology, timeline(trace, RenderOptions(), FPS), RenderOptions(),
                  854, 480)
    board.advance(2.0)
    before = board.screen.frame.copy()
    board.advance(12.0)
    after = board.screen.frame
    convert = VideoReformatter()
    base = yuv420p(before, convert)
    rng = np.random.default_rng(3)
    for top, bottom in [(0, 1), (0, 480), (479, 480), (5, 6), (100, 131),
                        *(sorted(rng.integers(0, 481, 2)) for _ in range(20))]:
        if bottom <= top:
            continue
        mixed = before.copy()
        mixed[top:bottom] = after[top:bottom]
        assert np.array_equal(patched(base, mixed, (int(top), int(bottom)), convert),
                              yuv420p(mixed, convert)), (top, bottom)


def test_every_frame_is_converted_as_a_whole_frame_would_be(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows a surface reports changed cover every change (text, ink, the final map):
    each frame handed to the encoder is the whole frame converted, though most are bands."""
    from inkworm.render import writer

    converted = InkFileWriter._converted
    bands = []
    patched = writer.patched

    def whole(self: InkFileWriter, rgba: np.ndarray, surface: Any) -> Any:
        expected = writer.yuv420p(rgba.copy(), self._convert)
        frame = converted(self, rgba, surface)
        assert np.array_equal(frame.to_ndarray(), expected)
        return frame

    def band(*args: Any) -> Any:
        bands.append(args[2])
        return patched(*args)

    monkeypatch.setattr(InkFileWriter, "_converted", whole)
    monkeypatch.setattr(writer, "patched", band)
    topology, trace = triangle()
    render(topology, trace, tmp_path / "t.mp4")
    assert len(bands) > 100
