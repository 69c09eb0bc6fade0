"""The seed's bowtie, as ink: ``manim render -ql scenes/bowtie.py BowtieNaive``."""

from inkworm.render.scene import InkScene, RenderOptions
from inkworm.render.timeline import Timing
from inkworm.run import AutoConnect, Mode


class BowtieNaive(InkScene):
    """The probe as first written: a-d, a-e, a-f are etched by the measurement itself."""

    graph = "graphs/bowtie.dot"
    mode = Mode.NAIVE


class BowtieFixed(InkScene):
    """Group leader reset to the local init: the exact topology comes back."""

    graph = "graphs/bowtie.dot"
    mode = Mode.FIXED


class BowtieNeverConnect(InkScene):
    """With ``-kernel dist_auto_connect never`` the naive probe cannot print from d: crash."""

    graph = "graphs/bowtie.dot"
    mode = Mode.NAIVE
    auto_connect = AutoConnect.NEVER


class BowtieRecorded(InkScene):
    """The naive run as recorded on a real BEAM cluster (``make record-graphs``)."""

    graph = "graphs/bowtie.dot"
    trace_file = "graphs/bowtie-naive.beam.jsonl"
    options = RenderOptions(timing=Timing.MEASURED, duration=14.0)
