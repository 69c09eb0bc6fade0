"""Encoder settings for the ink, measured (``python bench/encoders.py [l|h|k] [SECONDS]``).

The bowtie's frames (naive probe) are drawn once by the board, each changed one converted to
YUV once, and held in memory; then the same frames are encoded with each candidate setting,
one after the other: wall time, CPU time of the whole process (the encoder's threads
included), peak memory growth, file size and the picture's quality (PSNR of the luma against
the frames encoded). ``every frame`` encodes each frame slot as manim does; the others only
the frames that changed (a held frame is a gap in the timestamps).
"""

from __future__ import annotations

import math
import resource
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from inkworm import Mode, load_dot, simulate
from inkworm.render.board import Board
from inkworm.render.choices import Quality
from inkworm.render.options import RenderOptions
from inkworm.render.schedule import timeline
from inkworm.run import RunSpec

ROOT = Path(__file__).resolve().parent.parent
X264 = "libx264"
HELD = {"crf": "23", "bf": "0"}
"""Frames encoded only when they change: no B-frames (an MP4 of them ends at its last
decoding timestamp, short of a held last frame's)."""
CANDIDATES: list[tuple[str, dict[str, str], bool]] = [
    ("manim's: medium, every frame", {"crf": "23"}, False),
    ("medium", HELD, True),
    ("medium tune animation", {**HELD, "tune": "animation"}, True),
    ("veryfast", {**HELD, "preset": "veryfast"}, True),
    ("veryfast tune animation", {**HELD, "preset": "veryfast", "tune": "animation"}, True),
    ("superfast tune animation", {**HELD, "preset": "superfast", "tune": "animation"}, True),
    ("superfast tune animation crf 26", {**HELD, "preset": "superfast", "tune": "animation",
                                         "crf": "26"}, True),
    ("veryfast tune animation crf 21", {**HELD, "preset": "veryfast", "tune": "animation",
                                        "crf": "21"}, True),
    ("ultrafast", {**HELD, "preset": "ultrafast"}, True),
    ("ultrafast crf 28", {**HELD, "preset": "ultrafast", "crf": "28"}, True),
    ("ultrafast tune animation", {**HELD, "preset": "ultrafast", "tune": "animation"}, True),
    ("veryfast tune animation threads auto", {**HELD, "preset": "veryfast",
                                              "tune": "animation", "threads": "0"}, True),
    ("veryfast tune animation threads 2", {**HELD, "preset": "veryfast", "tune": "animation",
                                           "threads": "2"}, True),
    ("veryfast tune animation 2 sliced threads", {**HELD, "preset": "veryfast",
                                                  "tune": "animation", "threads": "2",
                                                  "x264-params": "sliced-threads=1"}, True),
    ("veryfast tune animation g 2 s", {**HELD, "preset": "veryfast", "tune": "animation",
                                       "g": "{2s}"}, True),
    ("veryfast tune animation g 10 s", {**HELD, "preset": "veryfast", "tune": "animation",
                                        "g": "{10s}"}, True),
    ("chosen: veryfast tune animation crf 21 g 10 s", {**HELD, "preset": "veryfast",
                                                        "tune": "animation", "crf": "21",
                                                        "g": "{10s}"}, True),
    ("veryfast tune animation crf 20 g 10 s", {**HELD, "preset": "veryfast",
                                               "tune": "animation", "crf": "20",
                                               "g": "{10s}"}, True),
    ("veryfast tune animation crf 19 g 10 s", {**HELD, "preset": "veryfast",
                                               "tune": "animation", "crf": "19",
                                               "g": "{10s}"}, True),
]


def frames(quality: str, seconds: float | None) -> tuple[list[tuple[int, np.ndarray]], int, int]:
    """The bowtie's changed frames as (pts, YUV 4:2:0 planes), and the number of slots."""
    preset = Quality(quality).preset
    width, height, fps = preset.width, preset.height, round(preset.fps)
    topology = load_dot(ROOT / "graphs/bowtie.dot")
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    options = RenderOptions()
    steps = timeline(trace, options, fps)
    board = Board(trace, topology, steps, options, width, height)
    slots = round(steps[-1].end * fps)
    if seconds is not None:
        slots = min(slots, round(seconds * fps))
    out: list[tuple[int, np.ndarray]] = []
    seen = -1
    for pts in range(slots):
        board.advance(pts / fps)
        board.screen.composite()
        version = getattr(board.screen, "version", pts)
        if version != seen:
            seen = version
            rgba = av.VideoFrame.from_numpy_buffer(board.screen.frame, format="rgba")
            out.append((pts, rgba.reformat(format="yuv420p").to_ndarray()))
    return out, slots, fps


def encode(path: Path, shown: list[tuple[int, np.ndarray]], slots: int, fps: int,
           options: dict[str, str], holds: bool) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (all threads) and peak RSS growth (MiB) of one encode."""
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    with av.open(str(path), "w") as container:
        stream = container.add_stream(X264, rate=fps, options=options)
        stream.pix_fmt = "yuv420p"
        stream.height, stream.width = shown[0][1].shape[0] * 2 // 3, shown[0][1].shape[1]
        stream.codec_context.time_base = Fraction(1, fps)
        timeline_ = [(pts, planes) for pts, planes in shown]
        if holds and shown[-1][0] < slots - 1:  # the last frame again at the last slot
            timeline_.append((slots - 1, shown[-1][1]))
        else:
            ends = [pts for pts, _ in shown[1:]] + [slots]
            timeline_ = [(p, planes) for (pts, planes), end in zip(shown, ends, strict=True)
                         for p in range(pts, end)]
        for pts, planes in timeline_:
            frame = av.VideoFrame.from_numpy_buffer(planes, format="yuv420p")
            frame.pts = pts
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    return wall, cpu, rss


def psnr(path: Path, shown: list[tuple[int, np.ndarray]], slots: int, fps: int) -> float:
    """Luma PSNR of the decoded video against the frames encoded, over every slot."""
    source = dict(shown)
    errors: list[float] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = [(round(float(f.pts * f.time_base) * fps), f.to_ndarray(format="yuv420p"))
                   for f in container.decode(stream)]
        length = float(stream.duration * stream.time_base) if stream.duration else math.nan
    assert abs(length - slots / fps) < 0.5 / fps, (length, slots / fps)
    height = decoded[0][1].shape[0] * 2 // 3
    current: Any = None
    mine: Any = None
    at = 0
    for slot in range(slots):
        if slot in source:
            current = source[slot]
        while at < len(decoded) and decoded[at][0] <= slot:
            mine = decoded[at][1]
            at += 1
        diff = current[:height].astype(np.int16) - mine[:height].astype(np.int16)
        errors.append(float(np.mean(diff.astype(np.float32) ** 2)))
    mse = float(np.mean(errors))
    return 99.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def main() -> int:
    quality = sys.argv[1] if len(sys.argv) > 1 else "l"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else None
    shown, slots, fps = frames(quality, seconds)
    print(f"bowtie -q{quality}: {slots} frame slots, {len(shown)} changed "
          f"({1 - len(shown) / slots:.0%} held)")
    print(f"{'setting':<46} {'wall s':>7} {'cpu s':>7} {'ms/slot':>7} {'+RSS MiB':>8} "
          f"{'KiB':>7} {'PSNR dB':>7}")
    with tempfile.TemporaryDirectory(prefix="inkworm-enc-") as work:
        for name, options, holds in CANDIDATES:
            opts = {k: str(round(float(v[1:-2]) * fps)) if v.startswith("{") else v
                    for k, v in options.items()}
            path = Path(work) / "out.mp4"
            wall, cpu, rss = encode(path, shown, slots, fps, opts, holds)
            quality_db = psnr(path, shown, slots, fps)
            print(f"{name:<46} {wall:7.2f} {cpu:7.2f} {1000 * wall / slots:7.2f} {rss:8.0f} "
                  f"{path.stat().st_size / 1024:7.0f} {quality_db:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
