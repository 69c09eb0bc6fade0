"""Where a frame's time goes (run by ``bench/run.py``): the bowtie (naive) rendered in this
process by manim's frame path or inkworm's, with clocks around each stage.

``python bench/frame_path.py QUALITY manim|ink`` prints JSON: the frame slots, the wall time,
and milliseconds per slot of each stage in the scene's thread, each stage's own time (the
stages it calls are theirs): ``paint`` (the board: painter and text), ``composite`` (the
chip's changed pixels into its frame), ``camera`` (manim's camera and its frame copies),
``convert`` (RGBA to YUV, inkworm's path; manim converts in its encoder thread), ``wait``
(the scene held up by a full encoder queue), ``other`` (manim's scene, set-up); and
``encode``: the CPU time of every other thread (the encoder's), per slot.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from manim import tempconfig
from manim.renderer.cairo_renderer import CairoRenderer
from manim.scene import scene_file_writer

from inkworm import Mode, load_dot, simulate
from inkworm.render import raster, writer
from inkworm.render.board import Board
from inkworm.render.choices import Quality
from inkworm.render.scene import InkCamera, InkScene
from inkworm.run import RunSpec

ROOT = Path(__file__).resolve().parent.parent
own: dict[str, float] = defaultdict(float)
stack: list[str] = []


def clocked(owner: Any, name: str, stage: str) -> None:
    """Time ``owner.name`` as ``stage``, less the clocked stages it calls."""
    inner: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        stack.append(stage)
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent = time.perf_counter() - start
            stack.pop()
            own[stage] += spent
            if stack:
                own[stack[-1]] -= spent

    setattr(owner, name, wrapper)


def main() -> int:
    quality, path = sys.argv[1], sys.argv[2]
    clocked(Board, "advance", "paint")
    clocked(raster.Chip, "composite", "composite")
    clocked(CairoRenderer, "update_frame", "camera")
    clocked(CairoRenderer, "get_frame", "camera")
    clocked(writer.InkFileWriter, "_write", "convert")
    clocked(writer._EncodeJob, "put_frame", "wait")
    clocked(scene_file_writer._PartialMovieEncodeJob, "put", "wait")
    topology = load_dot(ROOT / "graphs/bowtie.dot")
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    with tempfile.TemporaryDirectory(prefix="inkworm-bench-frames-") as work:
        settings = {"quality": Quality(quality).preset.manim, "media_dir": work,
                    "disable_caching": True, "verbosity": "WARNING", "progress_bar": "none",
                    "output_file": "render", "max_inflight_encoders": 2}
        with tempconfig(settings):
            wall0, main0 = time.perf_counter(), time.thread_time()
            cpu0 = resource.getrusage(resource.RUSAGE_SELF)
            kwargs: dict[str, Any] = {}
            if path == "manim":
                kwargs["renderer"] = CairoRenderer(camera_class=InkCamera)
            scene = InkScene(topology, trace, **kwargs)
            scene.render()
            fps = scene.camera.frame_rate
            slots = round(scene.renderer.time * fps)
            cpu1 = resource.getrusage(resource.RUSAGE_SELF)
            main_cpu = time.thread_time() - main0
            wall = time.perf_counter() - wall0
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    ms = {stage: 1000 * own[stage] / slots
          for stage in ("paint", "composite", "camera", "convert", "wait")}
    ms["other"] = 1000 * wall / slots - sum(ms.values())
    ms["encode"] = 1000 * (cpu - main_cpu) / slots
    print(json.dumps({"slots": slots, "wall": wall, "ms": ms}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
