"""inkworm: an Erlang cluster traversal (a self-propagating worm) as a microfluidic animation.

The pipeline, one module per stage::

    topology (DOT) -> worm (simulator) -> trace (v1) -> check | views -> layout -> render

Only the render stage imports manim.
"""

from inkworm.check import Violation, check
from inkworm.errors import InputError, ToolError
from inkworm.notebook import show
from inkworm.reader import load_trace
from inkworm.run import AutoConnect, EdgeOrder, Mode, RunSpec, Strategy
from inkworm.topology import Topology, load_dot, parse_dot, to_dot
from inkworm.trace import Header, Kind, Source, Trace
from inkworm.tracefile import save_trace
from inkworm.worm import Latency, simulate

__all__ = [
    "AutoConnect", "EdgeOrder", "Header", "InputError", "Kind", "Latency", "Mode", "RunSpec",
    "Source", "Strategy", "ToolError", "Topology", "Trace", "Violation", "check", "load_dot",
    "load_trace", "parse_dot", "save_trace", "show", "simulate", "to_dot",
]
__version__ = "0.1.0"
