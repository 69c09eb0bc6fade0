"""Name tags at any cluster size, measured on the board: none over a well's pool or a
channel's end, none outside the chip, none over another, and the story's nodes always named."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from conftest import GRAPHS
from inkworm import Mode, load_dot, simulate
from inkworm.gen import sparse_cluster
from inkworm.render.board import Board
from inkworm.render.labels import Box, short_names
from inkworm.render.options import RenderOptions
from inkworm.render.timeline import steps_from_trace, time_steps
from inkworm.run import RunSpec, Strategy
from inkworm.topology import Topology

OFFICE = load_dot(GRAPHS / "office.dot")


def test_short_names_keep_what_tells_nodes_apart() -> None:
    names = short_names(OFFICE.nodes)
    assert names["a@mac"] == "a@mac"  # short enough as it is
    assert names["monitor@build-server-01"] == "monitor"
    assert names["db@storage-eu-west-1"] == "db"
    twins = short_names(["web@frontend-eu-west-1", "web@frontend-us-east-1"])
    assert len(set(twins.values())) == 2  # the heads alone would read the same
    assert all(len(text) <= 14 for text in twins.values())
    assert short_names(["a" * 30, "a" * 31]) != {"a" * 30: "a" * 13 + "\u2026",
                                                  "a" * 31: "a" * 13 + "\u2026"}
    # names of one cluster differ at their ends: a cut in the middle keeps what tells them
    # apart, with no number made up (it read 'worker@batch-…' and 'worker@batch2')
    batch = short_names(["worker@batch-01", "worker@batch-02", "db@batch-01"])
    assert batch == {"worker@batch-01": "worker\u2026atch-01", "worker@batch-02":
                     "worker\u2026atch-02", "db@batch-01": "db@batch-01"}


@pytest.mark.parametrize("label", ["a", "r12", "db@storage-eu-west-1", "Ünïcødé_ß", "x" * 14,
                                   "W" * 15, "gjpqy"])
def test_a_tag_is_placed_at_the_size_it_is_drawn(label: str) -> None:
    """The placer measures tags without drawing them (drawn only when shown): a measure off
    by one pixel would let a drawn tag overlap its neighbour or a well."""
    from inkworm.render import hud

    for size in (9, 11, 14, 16, 23, 32, 48):
        block = hud.tag(label, size)
        assert hud.tag_size(label, size) == (block.width, block.height), (label, size)


CLUSTERS = {
    "bowtie": lambda: load_dot(GRAPHS / "bowtie.dot"),
    "office": lambda: OFFICE,
    "60": lambda: sparse_cluster(60, seed=0),
    "60 parallel": lambda: sparse_cluster(60, 3, 0.05),  # many probes at once, tags follow all
    "300": lambda: sparse_cluster(300, seed=0),
}


def _meets_circle(box: Box, x: float, y: float, r: float) -> bool:
    x0, y0, x1, y1 = box
    return math.hypot(min(max(x, x0), x1) - x, min(max(y, y0), y1) - y) < r


def _end_points(line: np.ndarray, reach: float) -> list[tuple[float, float]]:
    points = []
    for a, b in itertools.pairwise(line):
        for t in np.linspace(0, 1, 12):
            p = a + t * (b - a)
            if min(math.hypot(*(p - line[0])), math.hypot(*(p - line[-1]))) <= reach:
                points.append((float(p[0]), float(p[1])))
    return points


@pytest.fixture(scope="module", params=list(CLUSTERS))
def run(request: pytest.FixtureRequest) -> tuple[str, Topology, Board]:
    topology = CLUSTERS[request.param]()
    strategy = Strategy.PARALLEL if request.param.endswith("parallel") else Strategy.SEQUENTIAL
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE, strategy=strategy))
    board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(), 1920,
                  1080)
    return request.param, topology, board


def changed(board: Board, last: dict[str, tuple[Box, int]]) -> bool:
    return board.tagging.tags != last


def redrawn(board: Board) -> np.ndarray:
    """The top layer with every tag shown drawn afresh, in order, over the chip's own."""
    from inkworm.render import hud

    top = board.tagging.top.copy()
    for node, (box, size) in board.tagging.tags.items():
        if board.tagging.tagger.far(node, box):
            patch, left, upper, _ = board.tagging.leaders[(node, box)]
            hud.blit(top, patch, left, upper)
        hud.blit(top, hud.tag(board.tagging.names[node], board.tagging.sizes[size]), box[0], box[1])
    return top


def test_tags_stay_clear_and_name_the_story(run: tuple[str, Topology, Board]) -> None:
    name, topology, board = run
    g = board.chip.g
    left, top, right, bottom = board.world
    ends = [p for line in g.routes.values() for p in _end_points(line, g.radius * 1.9)]
    checked = stacked = unnamed = 0
    last: dict[str, tuple[Box, int]] = {}
    for _, step in board.schedule:
        board.advance(step.start + 1e-6)
        boxes = {node: box for node, (box, _) in board.tagging.tags.items()}
        for box in boxes.values():
            x0, y0, x1, y1 = box
            assert left <= x0 and top <= y0 and x1 <= right and y1 <= bottom, box
            for x, y in g.centers.values():
                assert not _meets_circle(box, x, y, g.radius * 0.85 - 1), (box, x, y)
            inner = (x0 + 1, y0 + 1, x1 - 1, y1 - 1)
            assert not any(inner[0] < px < inner[2] and inner[1] < py < inner[3]
                           for px, py in ends), ("over a channel's end", box)
        for (a, one), (b, two) in itertools.combinations(boxes.items(), 2):
            assert one[2] <= two[0] or two[2] <= one[0] or one[3] <= two[1] or \
                two[3] <= one[1], f"tags of {a} and {b} overlap"
        # the story's nodes: the launcher, the node probed, every node the caption names
        story = {board.launch, step.node, step.peer} - {None}
        story |= set(board.tagging.named.findall(step.caption))
        assert story <= set(boxes), (name, step.caption, story - set(boxes))
        stack = board.state_after(step.seqs[-1]).stack
        stacked += len(stack)
        unnamed += len(set(stack) - set(boxes))
        checked += 1
        if changed(board, last):
            # redrawing only the tags that changed is redrawing them all
            assert np.array_equal(board.chip.top, redrawn(board)), (name, step.caption)
            last = dict(board.tagging.tags)
    assert checked >= 10
    # the whole call stack too, at every size (300 nodes: a stack up to 140 deep, in the
    # larger chip the camera follows)
    assert unnamed == 0, (unnamed, stacked)
    if len(topology.nodes) <= 10:
        assert board.tagging.all_tagged  # a small cluster keeps every name


def test_a_tag_that_stays_under_one_that_moves_is_redrawn() -> None:
    """A tag's pill moved off another tag's leader line: the line shows again where the pill
    was (the tag that stays is redrawn, in its order); the two drawn in the other order: the
    line over the pill. Each time as if every tag were drawn afresh."""
    topology = sparse_cluster(300, seed=0)
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(), 1920,
                  1080)
    tagger = board.tagging.tagger
    a = next(n for n in topology.nodes
             if any(tagger.far(n, box) and (box[2] - box[0]) > 20
                    for _, box, _, _ in tagger.candidates(n)))
    _, far, size, _ = max((c for c in tagger.candidates(a) if tagger.far(a, c[1])),
                          key=lambda c: c[3])  # the longest line
    footprint = board.tagging._footprint(a, far)
    leader = footprint[(far[3] - far[1]) * (far[2] - far[0]):]  # past the pill's box
    xs, ys = leader % board.chip.g.width, leader // board.chip.g.width
    cx, cy = (far[0] + far[2]) / 2, (far[1] + far[3]) / 2
    end = int(np.argmax(np.hypot(xs - cx, ys - cy)))  # the line's end at the well
    b = next(n for n in topology.nodes if n != a)
    w, h = hud_size(board, b, 3)
    # b's text over a's line, near the well: away from a's pill
    x, y = int(xs[end] + (cx - xs[end]) * 0.3), int(ys[end] + (cy - ys[end]) * 0.3)
    over = (x - w // 2, y - h // 2, x - w // 2 + w, y - h // 2 + h)
    assert not (over[0] < far[2] and far[0] < over[2] and over[1] < far[3] and far[1] < over[3])
    board.tagging.set({a: (far, size), b: (over, 3)})
    assert np.array_equal(board.chip.top, redrawn(board))
    # the same places, a third tag elsewhere, the two in the other order: a's line over b
    c = next(n for n in reversed(topology.nodes) if n not in (a, b))
    board.tagging.set({b: (over, 3), c: tagger.candidates(c)[0][1:3], a: (far, size)})
    assert np.array_equal(board.chip.top, redrawn(board))
    board.tagging.set({a: (far, size), b: (over, 3)})
    moved = (over[0] + 2 * w, over[1], over[2] + 2 * w, over[3])
    board.tagging.set({a: (far, size), b: (moved, 3)})
    assert np.array_equal(board.chip.top, redrawn(board))


def hud_size(board: Board, node: str, size: int) -> tuple[int, int]:
    from inkworm.render import hud

    return hud.tag_size(board.tagging.names[node], board.tagging.sizes[size])


def test_a_large_runs_end_tags_its_story_in_one_size() -> None:
    """300 nodes, the map on screen: the tags the story wants fit in one size, so they are in
    one (they were in three, a tag cloud)."""
    topology = sparse_cluster(300, seed=0)
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(), 1920,
                  1080)
    board.finish()
    tags = board.tagging.tags
    assert len(tags) > 3 and board.launch in tags
    assert len({size for _, size in tags.values()}) == 1
