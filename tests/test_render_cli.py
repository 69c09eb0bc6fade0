"""End to end through manim: the CLI's outputs, the scenes/ scripts, atomic writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from conftest import GRAPHS, ROOT
from conftest import inkworm_run as inkworm
from inkworm import Mode, load_dot, simulate
from inkworm.render.board import Board
from inkworm.render.options import RenderOptions
from inkworm.render.subtitles import video_length
from inkworm.render.timeline import steps_from_trace, time_steps
from inkworm.render.video import render
from inkworm.run import RunSpec

pytestmark = pytest.mark.render
HOLD = RenderOptions().hold


def expected_length(graph: str, duration: float | None = None, fps: int = 15) -> float:
    """The video length the timeline promises: the run (at least its reading time), the hold."""
    trace = simulate(load_dot(GRAPHS / graph), RunSpec(mode=Mode.NAIVE))
    return video_length(time_steps(steps_from_trace(trace), duration=duration, fps=fps), HOLD)


def test_cli_gif_has_the_right_duration(tmp_path: Path) -> None:
    out = tmp_path / "tri.gif"
    proc = inkworm("render", str(GRAPHS / "triangle.dot"), "--format", "gif", "--duration",
                   "40", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stderr
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        end = frames[-1]
        duration = float((end.pts + end.duration) * stream.time_base)
    assert duration == pytest.approx(40 + HOLD, abs=0.1)
    assert 20 <= len(frames) <= round((40 + HOLD) * 15) + 1
    assert (frames[0].width, frames[0].height) == (854, 480)
    assert out.stat().st_size < 2_000_000


def test_cli_mp4_frame_count_when_the_duration_is_too_short(tmp_path: Path) -> None:
    """6 s cannot hold the bowtie's captions: the shortest readable video, summarised."""
    out = tmp_path / "bowtie.mp4"
    proc = inkworm("render", str(GRAPHS / "bowtie.dot"), "--duration", "6", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None and stream.duration is not None
        starts = [frame.pts * stream.time_base * 15 for frame in container.decode(stream)]
        slots = stream.duration * stream.time_base * 15
    length = expected_length("bowtie.dot", duration=6)
    assert length > 6 + HOLD
    # a frame held is one frame of the MP4, lasting until the next (inkworm.render.writer):
    # the frames start on the 1/15 s grid, and the video lasts as many 1/15 s as before
    assert all(s.denominator == 1 for s in starts) and starts == sorted(set(starts))
    assert slots == round(length * 15)


def test_png_is_the_boards_last_frame(tmp_path: Path) -> None:
    topology = load_dot(GRAPHS / "bowtie.dot")
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    out = render(topology, trace, tmp_path / "last.png", "l", "png")
    image = np.asarray(Image.open(out).convert("RGB"))
    board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(), 854,
                  480)
    board.finish()
    assert image.shape == (480, 854, 3)
    assert np.abs(image.astype(int) - board.chip.frame[..., :3]).max() <= 2


def test_recorded_trace_renders_with_its_graph(tmp_path: Path) -> None:
    out = tmp_path / "beam.png"
    proc = inkworm("render", str(GRAPHS / "bowtie-naive.beam.jsonl"), "--format", "png",
                   "--timing", "measured", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert Image.open(out).size == (1920, 1080)  # a still is 1080p unless told otherwise


def test_transparent_png_is_clear_outside_the_chip(tmp_path: Path) -> None:
    out = tmp_path / "clear.png"
    proc = inkworm("render", str(GRAPHS / "triangle.dot"), "--format", "png", "-q", "l",
                   "--transparent", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    image = np.asarray(Image.open(out))
    assert image.shape[2] == 4
    assert image[240, 845, 3] == 0 and image[240, 200, 3] == 255


def test_failed_render_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.mp4"
    target.write_bytes(b"previous render")
    topology = load_dot(GRAPHS / "bowtie.dot")
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))

    def interrupt(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        render(topology, trace, target, progress=interrupt)
    assert target.read_bytes() == b"previous render"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]


def test_bad_render_input_is_one_line(tmp_path: Path) -> None:
    proc = inkworm("render", str(tmp_path / "missing.dot"), "-o", str(tmp_path / "x.mp4"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "cannot read DOT file" in proc.stderr
    assert list(tmp_path.iterdir()) == []


SCENES = sorted((ROOT / "scenes").glob("*.py"))


def scene_classes(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [line.split("(")[0].removeprefix("class ").strip()
            for line in text.splitlines() if line.startswith("class ")]


@pytest.mark.parametrize(("script", "scene"),
                         [(p, c) for p in SCENES for c in scene_classes(p)],
                         ids=[f"{p.stem}:{c}" for p in SCENES for c in scene_classes(p)])
def test_every_scene_script_renders(script: Path, scene: str, tmp_path: Path) -> None:
    manim = Path(sys.executable).parent / "manim"
    proc = subprocess.run([str(manim), "render", "-ql", "--media_dir", str(tmp_path),
                           "--progress_bar", "none", str(script), scene],
                          capture_output=True, text=True, check=False, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    videos = list(tmp_path.rglob(f"{scene}.mp4"))
    assert len(videos) == 1
    with av.open(str(videos[0])) as container:
        assert sum(1 for _ in container.decode(video=0)) > 100


def test_slides_make_one_self_contained_deck(tmp_path: Path) -> None:
    out = tmp_path / "deck.html"
    proc = inkworm("slides", str(GRAPHS / "bowtie.dot"), "-q", "l", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    # the title, a b c d e f, the answers flowing back, the map
    assert html.count("data:video/mp4;base64") == 9
    assert html.count('<aside class="notes">') == 9  # plain text: no markdown of names
    assert "<aside class=\"notes\" data-markdown" not in html
    assert html.count("http-equiv=\"Content-Security-Policy\"") == 1
    assert 'src="http' not in html and 'href="http' not in html
    assert [p.name for p in tmp_path.iterdir()] == ["deck.html"]


def test_slides_without_reveal_js_say_how_to_get_it(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "inkworm", "slides", str(GRAPHS / "triangle.dot"),
                           "-o", str(tmp_path / "deck.html")], capture_output=True, text=True,
                          check=False, env={**os.environ, "INKWORM_REVEAL_DIR": str(tmp_path)})
    assert proc.returncode == 3  # a missing tool, not bad input
    assert proc.stderr.count("\n") == 1 and "run 'make setup'" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_connections_between_any_nodes_and_clock_steps_render(tmp_path: Path) -> None:
    """Valid traces the checker accepts must render: a connection between two nodes that are
    not the launcher (etched), a reconnect over an existing channel (nothing etched), and a
    clock that steps back by a microsecond between nodes."""
    import dataclasses

    from inkworm import check
    from inkworm.render.board import Board
    from inkworm.trace import Connect, Disconnect, Trace

    topology = load_dot(GRAPHS / "bowtie.dot")
    base = simulate(topology, RunSpec(mode=Mode.FIXED))
    events = list(base.events)
    at = next(i for i, e in enumerate(events) if e.kind.value == "probe_start" and e.node == "e")
    t = events[at].t_us
    extra = [Connect(seq=0, t_us=t, node="b", peer="e"), Connect(seq=0, t_us=t, node="e", peer="b"),
             Disconnect(seq=0, t_us=t, node="a", peer="c", reason=":connection_closed"),
             Connect(seq=0, t_us=t - 1, node="a", peer="c")]
    events[at + 1 : at + 1] = extra
    trace = Trace(base.header, [dataclasses.replace(e, seq=i) for i, e in enumerate(events)])
    assert [v.rule for v in check(trace)] == ["time"]
    from inkworm.runs import renderable

    renderable(trace, topology, "odd.jsonl")  # the clock step is no reason to refuse
    out = render(topology, trace, tmp_path / "odd.png", "l", "png")
    assert Image.open(out).size == (854, 480)
    board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(), 427,
                  240)
    board.finish()
    assert ("b", "e") in board.chip.walls and ("a", "c") not in board.chip.walls


def test_subtitles_and_chapters_match_the_video(tmp_path: Path) -> None:
    """The cues are what the video shows: as many as the captions, in order, each at least its
    reading time, the last one ending with the video."""
    from inkworm.render.timeline import reading_time

    video, subs, chapters = tmp_path / "t.mp4", tmp_path / "t.vtt", tmp_path / "c.vtt"
    proc = inkworm("render", str(GRAPHS / "triangle.dot"), "-o", str(video), "--subtitles",
                   str(subs), "--chapters", str(chapters), "--pace", "0.8", "--embed-subtitles")
    assert proc.returncode == 0, proc.stderr
    cues = _read_vtt(subs)
    assert _embedded(video) == [(round(a * 1000), round(b * 1000), t) for a, b, t in cues]
    trace = simulate(load_dot(GRAPHS / "triangle.dot"), RunSpec(mode=Mode.NAIVE))
    assert [text for _, _, text in cues] == [s.caption for s in steps_from_trace(trace)]
    for start, end, text in cues:
        assert end - start >= reading_time(text, 0.8) - 0.002, text
    with av.open(str(video)) as container:
        length = float(container.duration) / 1e6
    assert cues[-1][1] == pytest.approx(length, abs=1 / 15 + 0.002)
    assert [text for _, _, text in _read_vtt(chapters)] == ["visit a", "visit b", "visit c",
                                                            "result"]


def _embedded(video: Path) -> list[tuple[int, int, str]]:
    """The MP4's subtitle track: (start ms, end ms, text) of each cue (mov_text samples are
    a 16-bit length and UTF-8 text; the muxer fills gaps with empty ones)."""
    with av.open(str(video)) as container:
        (track,) = container.streams.subtitles
        assert track.codec_context.name == "mov_text"
        assert track.metadata.get("language") == "eng"
        samples = []
        for packet in container.demux(track):
            body = bytes(packet)
            if packet.pts is None or len(body) <= 2:
                continue
            scale = packet.time_base * 1000
            samples.append((round(packet.pts * scale),
                            round((packet.pts + packet.duration) * scale), body[2:].decode()))
    return samples


def _read_vtt(path: Path) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    blocks = path.read_text(encoding="utf-8").split("\n\n")[1:]
    cues = []
    for block in blocks:
        lines = block.strip().splitlines()
        if len(lines) >= 3:
            start, _, end = lines[1].partition(" --> ")
            cues.append((seconds(start), seconds(end), lines[2]))
    return cues


def test_stills_at_any_moment(tmp_path: Path) -> None:
    """--at names a moment: the PNG is the board's frame once that event's step is drawn."""
    from inkworm.render.stills import frame_at, moments

    out = tmp_path / "s.png"
    proc = inkworm("render", str(GRAPHS / "bowtie.dot"), "--mode", "naive", "--format", "png",
                   "-q", "l", "--at", "connect:f:a,seq=10,final", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["s-connect-f-a.png", "s-final.png", "s-seq-10.png"]
    topology = load_dot(GRAPHS / "bowtie.dot")
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    (moment,) = moments("connect:f:a", trace)
    board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(), 854,
                  480)
    frame_at(board, moment)
    shown = board.schedule[board.shown][1]
    assert "f\u2013a" in shown.caption  # the moment the measurement wires f to a
    image = np.asarray(Image.open(tmp_path / "s-connect-f-a.png").convert("RGB"))
    assert np.array_equal(image, board.chip.frame[..., :3])


def test_a_duration_that_cannot_be_kept_says_so(tmp_path: Path) -> None:
    """--duration 10 gave a 77 s video without a word."""
    out = tmp_path / "short.mp4"
    proc = inkworm("render", str(GRAPHS / "bowtie.dot"), "--duration", "10", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "--duration 10: the run takes" in notes[0]
    assert "reading time" in notes[0] and "--story key" in notes[0]
    kept = inkworm("render", str(GRAPHS / "bowtie.dot"), "--duration", "120", "-o", str(out))
    assert kept.returncode == 0 and "note:" not in kept.stderr


def test_a_deck_says_so_too_when_its_duration_cannot_be_kept(tmp_path: Path) -> None:
    out = tmp_path / "deck.html"
    proc = inkworm("slides", str(GRAPHS / "triangle.dot"), "--duration", "1", "-q", "l", "-o",
                   str(out))
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and notes[0].startswith("note: --duration 1: the run takes")
