"""The seed's bowtie, as ink: ``manim render -ql scenes/bowtie.py BowtieNaive``."""

from inkworm.render.scene import InkScene
from inkworm.trace import Mode


class BowtieNaive(InkScene):
    """The probe as first written: a–d, a–e, a–f are etched by the measurement itself."""

    graph = "graphs/bowtie.dot"
    mode = Mode.NAIVE


class BowtieFixed(InkScene):
    """Group leader reset to the local init: the exact topology comes back."""

    graph = "graphs/bowtie.dot"
    mode = Mode.FIXED
