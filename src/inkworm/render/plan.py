"""Where the chip goes and what it holds, before anything is drawn: the world the camera looks
into (the frame's chip box, or a larger one it follows the ink in), the wells' positions and
every channel's route, the measurement's own channels among them (:func:`plan_chip`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from inkworm.layout import Positions, layout
from inkworm.render.camera import FOLLOW_ABOVE, zoom_for
from inkworm.render.choices import Camera
from inkworm.render.frame import Frame
from inkworm.render.geometry import Geometry, build, stretch
from inkworm.render.options import RenderOptions
from inkworm.render.steps import Step, StepKind
from inkworm.topology import Topology


@dataclass(frozen=True)
class Plan:
    """A chip laid out: its steps (a reconnect over an existing channel etches nothing), the
    channels the measurement etches, the world and the frame's box onto it, the geometry."""

    steps: list[Step]
    etched: list[tuple[str, str]]
    zoom: float
    """The world's size over the frame's chip box (1: the chip is the box)."""
    box: tuple[int, int, int, int]
    """The frame's chip box, in frame pixels."""
    world: tuple[float, float, float, float]
    geometry: Geometry


def plan_chip(topology: Topology, steps: Sequence[Step], options: RenderOptions, f: Frame,
              positions: Positions | None = None) -> Plan:
    """Lay ``topology`` out (or take ``positions``) inside the frame's chip box, or in a
    larger world when the camera follows the ink (``--camera``, or above
    :data:`~inkworm.render.camera.FOLLOW_ABOVE` nodes), and route its channels and the ones
    ``steps`` etch."""
    truth = topology.edge_set()
    # a connection over an existing channel (a reconnect) etches nothing new
    kept = [_unetch(s, truth) for s in steps]
    etched = [(s.node, s.peer) for s in kept if s.kind is StepKind.ETCH and s.peer]
    edges = [*topology.edges, *etched]
    follow = options.camera is Camera.FOLLOW or (options.camera is Camera.AUTO and
                                                 len(topology.nodes) > FOLLOW_ABOVE)
    zoom = zoom_for(len(topology.nodes)) if follow else 1.0
    x0, y0, x1, y1 = (round(v) for v in f.chip)
    size = (x1 - x0, y1 - y0)
    # the chip in its own pixels: the frame's, or a larger world the camera looks into
    world = (0.0, 0.0, size[0] * zoom, size[1] * zoom) if zoom > 1 else f.chip
    left, top, right, bottom = world
    canvas = (round(right), round(bottom)) if zoom > 1 else (f.width, f.height)
    inner = wells_box(world, f)
    if positions is None:
        positions = layout(topology, options.layout, options.seed)
    centers = stretch(positions, inner)
    pad = 0.025 * min(right - left, bottom - top)
    geometry = build(centers, edges, *canvas, max_radius=f.height * 0.045, apart=etched,
                     bounds=(left + pad, top + pad, right - pad, bottom - pad))
    return Plan(kept, etched, zoom, (x0, y0, x1, y1), world, geometry)


def wells_box(chip: tuple[float, float, float, float],
              f: Frame) -> tuple[float, float, float, float]:
    """The box the wells are laid out in: the chip less the frame's margin for their tags."""
    left, top, right, bottom = chip
    margin = f.margin * min(right - left, bottom - top)
    return (left + margin, top + margin, right - margin, bottom - margin)


def _unetch(step: Step, truth: frozenset[frozenset[str]]) -> Step:
    if step.kind is StepKind.ETCH and step.peer and frozenset((step.node, step.peer)) in truth:
        return replace(step, peer=None)
    return step
