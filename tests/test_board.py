"""The board's parts on their own: the frame's layout (a single run, a side of a comparison, a
stacked side) inside the frame and its action-safe area at every size, the chip's plan, the
tags, the legend's looks. (The board playing a run is in test_panel, test_labels and the
frame tests.)"""

from __future__ import annotations

import pytest

from conftest import GRAPHS
from inkworm import Mode, load_dot, simulate
from inkworm.render.frame import Frame
from inkworm.render.legend import legend_items
from inkworm.render.options import SAFE, RenderOptions
from inkworm.render.plan import plan_chip
from inkworm.render.schedule import timeline
from inkworm.run import Fault, Faults, RunSpec, Strategy
from inkworm.topology import Topology

BOWTIE = load_dot(GRAPHS / "bowtie.dot")
SIZES = [(854, 480), (1280, 720), (1920, 1080), (3840, 2160)]


def _inside(box: tuple[float, float, float, float], width: float, height: float) -> bool:
    left, top, right, bottom = box
    return 0 <= left < right <= width and 0 <= top < bottom <= height


@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("kind", ["single", "side", "stacked"])
def test_every_part_of_a_frame_is_inside_it_and_text_inside_the_action_safe_area(
        kind: str, width: int, height: int) -> None:
    if kind == "single":
        f, whole_width, whole_height = Frame(width, height), width, height
    elif kind == "side":
        f, whole_width, whole_height = Frame(width // 2, height, compact=True), width, height
    else:
        f = Frame(width, height // 2, compact=True, stacked=True)
        whole_width, whole_height = width, height
    assert f.unit == whole_height
    assert _inside(f.chip, f.width, f.height)
    x, y, panel_width = f.panel
    assert f.chip[3] <= f.height and y < f.panel_bottom <= f.safe_bottom
    assert x + panel_width <= SAFE * f.width + 1 if kind != "side" else x + panel_width <= f.width
    centre, bottom, caption_width = f.caption
    assert abs(bottom - (f.height - (1 - SAFE) * whole_height)) < 1e-9
    assert centre - caption_width / 2 >= 0 and centre + caption_width / 2 <= f.width
    assert f.size(0.03) == max(9, round(0.03 * whole_height))  # text by the whole frame
    if kind == "stacked":  # the caption under the chip, not across the panel
        assert caption_width == int(f.chip[2] - f.chip[0])
    assert whole_width >= f.width


def test_a_stacked_side_without_a_legend_gives_its_panel_the_room() -> None:
    keyed = Frame(1920, 540, compact=True, stacked=True)
    bare = Frame(1920, 540, compact=True, stacked=True, keyed=False)
    assert bare.panel_bottom == bare.safe_bottom > keyed.panel_bottom


def test_the_plan_is_the_same_for_the_same_inputs_and_routes_every_channel() -> None:
    trace = simulate(BOWTIE, RunSpec(mode=Mode.NAIVE))
    steps = timeline(trace, RenderOptions())
    f = Frame(1280, 720)
    one, two = (plan_chip(BOWTIE, steps, RenderOptions(), f) for _ in range(2))
    assert {frozenset(e) for e in one.etched} == {frozenset(("a", n)) for n in "def"}
    assert set(one.geometry.routes) == {*BOWTIE.edges, *one.etched}
    for key, line in one.geometry.routes.items():
        assert (line == two.geometry.routes[key]).all()
    assert one.zoom == 1.0 and one.world == f.chip
    fixed = simulate(BOWTIE, RunSpec(mode=Mode.FIXED))
    assert plan_chip(BOWTIE, timeline(fixed, RenderOptions()), RenderOptions(), f).etched == []


def test_a_large_cluster_is_planned_in_a_larger_world_the_camera_follows() -> None:
    from inkworm.gen import sparse_cluster

    big = sparse_cluster(120, seed=3)
    trace = simulate(big, RunSpec(mode=Mode.FIXED))
    f = Frame(1280, 720)
    plan = plan_chip(big, timeline(trace, RenderOptions()), RenderOptions(), f)
    assert plan.zoom > 1 and plan.world[2] > f.chip[2] - f.chip[0]
    whole = plan_chip(big, timeline(trace, RenderOptions()), RenderOptions(camera="whole"), f)
    assert whole.zoom == 1.0


def test_the_legend_names_only_the_looks_the_run_shows() -> None:
    def labels(trace):  # type: ignore[no-untyped-def]
        return [label for _, label in legend_items(trace, timeline(trace, RenderOptions()))]

    plain = labels(simulate(BOWTIE, RunSpec(mode=Mode.FIXED)))
    assert plain == ["probe ink: a visit", "answer flowing back", "skipped: already visited",
                     "made by the measurement"]
    killed = labels(simulate(BOWTIE, RunSpec(mode=Mode.FIXED),
                             faults=Faults(kill=Fault("b", "d"))))
    assert "failed / stopped" in killed and "faded: an orphan's walk" in killed
    square = Topology.from_edges([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    parallel = labels(simulate(square, RunSpec(mode=Mode.FIXED, strategy=Strategy.PARALLEL)))
    assert "probed again (duplicate)" in parallel
