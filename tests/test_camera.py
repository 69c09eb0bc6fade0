"""The camera that follows the ink in a large cluster: a window onto a larger chip, a
minimap, the whole chip at the end; its path a function of time alone."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inkworm import Mode, simulate
from inkworm.gen import sparse_cluster
from inkworm.render.board import Board
from inkworm.render.camera import CORNERS, MAX_ZOOM, Viewport, zoom_for
from inkworm.render.options import RenderOptions
from inkworm.render.timeline import steps_from_trace, time_steps
from inkworm.run import RunSpec

TOPOLOGY = sparse_cluster(120, seed=2)
TRACE = simulate(TOPOLOGY, RunSpec(mode=Mode.NAIVE))
STEPS = time_steps(steps_from_trace(TRACE), fps=15)


def board(**options: object) -> Board:
    return Board(TRACE, TOPOLOGY, STEPS, RenderOptions(**options), 854, 480)  # type: ignore[arg-type]


def test_zoom_grows_with_the_cluster_and_is_capped() -> None:
    assert zoom_for(6) == zoom_for(40) == 1.0
    assert 1.0 < zoom_for(60) < zoom_for(200) <= MAX_ZOOM == zoom_for(100_000)


def test_small_clusters_and_camera_whole_show_the_whole_chip() -> None:
    assert not isinstance(board(camera="whole").screen, Viewport)
    assert isinstance(board().screen, Viewport)  # 120 nodes: followed


def _window_pixels(b: Board) -> tuple[np.ndarray, np.ndarray]:
    view = b.screen
    assert isinstance(view, Viewport)
    x0, y0, x1, y1 = view.box
    left, top = view.window(view.time)
    return view.frame[y0:y1, x0:x1], b.chip.frame[top:top + y1 - y0, left:left + x1 - x0]


def _outside_minimap(view: Viewport, shown: np.ndarray) -> np.ndarray:
    """The window's pixels, but for the minimap (in whichever corner it sits)."""
    h, w = shown.shape[:2]
    keep = np.ones((h, w), dtype=bool)
    x0, y0, _, _ = view.box
    bx0, by0, bx1, by1 = view._minimap_box()
    keep[max(by0 - y0, 0):by1 - y0, max(bx0 - x0, 0):bx1 - x0] = False
    return keep


def test_the_window_follows_the_step_and_moves_smoothly() -> None:
    b = board()
    view = b.screen
    assert isinstance(view, Viewport)
    w, h = view.size
    last = None
    biggest = 0.0
    for frame in range(0, round(STEPS[-1].end * 15), 3):
        t = frame / 15
        left, top = view.window(t)
        assert 0 <= left <= b.chip.g.width - w and 0 <= top <= b.chip.g.height - h
        if last is not None:
            biggest = max(biggest, float(np.hypot(left - last[0], top - last[1])))
        last = (left, top)
    assert biggest < 0.25 * w  # no jump cuts: at most a quarter window in 0.2 s
    # mid-step, the window holds the step's own well(s)
    for step in STEPS[::40]:
        t = step.start + 0.9 * step.duration
        left, top = view.window(t)
        x, y = b.chip.g.centers[step.node]
        inside = left <= x <= left + w and top <= y <= top + h
        assert inside or step.duration < 0.5, step.caption


def test_the_frame_is_the_window_with_a_minimap_then_the_whole_chip() -> None:
    b = board()
    step = STEPS[len(STEPS) // 2]
    b.advance(step.end - 1e-6)
    b.screen.composite()
    shown, world = _window_pixels(b)
    view = b.screen
    assert isinstance(view, Viewport)
    mw, mh = view._mini_size
    window_part = _outside_minimap(view, shown)
    assert np.array_equal(shown[window_part], world[window_part])  # a crop: no resampling
    x0, y0, _, _ = view.box
    bx0, by0, bx1, by1 = view._minimap_box()
    corner = shown[by0 - y0 + 2:by1 - y0 - 2, bx0 - x0 + 2:bx1 - x0 - 2, :3].astype(np.float64)
    whole = np.asarray(Image.fromarray(b.chip.frame).resize((mw, mh)), dtype=np.float64)
    assert corner.shape[:2] == (mh, mw)
    assert corner.std() > 5 and np.abs(corner - whole[..., :3]).mean() < 40
    b.finish()
    x0, y0, x1, y1 = view.box
    end = view.frame[y0:y1, x0:x1, :3].astype(np.float64)
    small = np.asarray(Image.fromarray(b.chip.frame).resize((x1 - x0, y1 - y0)),
                       dtype=np.float64)[..., :3]
    assert np.abs(end - small).mean() < 6  # the end: the whole chip in the window


def test_the_path_depends_on_time_alone() -> None:
    one, two = board(), board()
    target = STEPS[len(STEPS) // 3]
    for step in STEPS:  # one frame a step on the first board, one jump on the second
        if step.start >= target.end - 1e-6:
            break
        one.advance(step.start)
    one.advance(target.end - 1e-6)
    two.advance(target.end - 1e-6)
    for b in (one, two):
        b.screen.composite()
    a, _ = _window_pixels(one)
    c, _ = _window_pixels(two)
    view = one.screen
    assert isinstance(view, Viewport)
    keep = _outside_minimap(view, a)
    assert np.array_equal(a[keep], c[keep])


@pytest.mark.parametrize("camera", ["follow", "whole"])
def test_tags_stay_inside_the_chip_with_either_camera(camera: str) -> None:
    b = board(camera=camera)
    left, top, right, bottom = b.world
    for _, step in b.schedule[::5]:
        b.advance(step.start + 1e-6)
        for box, _ in b.tagging.tags.values():
            assert left <= box[0] and top <= box[1] and box[2] <= right and box[3] <= bottom


def test_a_wave_of_concurrent_fronts_is_followed_at_its_middle() -> None:
    """A parallel run's wave is drawn at once wherever its parts are: the camera looks at
    the middle of them all, not at the first."""
    from inkworm.render.camera import targets
    from inkworm.render.timeline import Step, StepKind

    centers = {"a": (0.0, 0.0), "b": (100.0, 0.0), "c": (0.0, 300.0), "d": (100.0, 300.0)}
    parts = (Step(StepKind.CALL, "a", "b", "", (1,), 0), Step(StepKind.CALL, "c", "d", "", (2,), 0))
    wave = Step(StepKind.CALL, "a", "b", "a and c fan out", (1, 2), 0, parts=parts)
    _, points = targets([wave], centers)
    assert points[0].tolist() == [50.0, 150.0]


def test_a_still_window_copies_only_the_rows_that_changed() -> None:
    """Frame by frame, the window drawn from the chip's changed rows (while the camera holds
    still) is the window drawn whole, and the rows it reports hold every pixel that changed:
    the writer converts only those."""
    b = board()
    view = b.screen
    assert isinstance(view, Viewport)
    before = view.frame.copy()
    view.take_rows()
    partly = 0
    for frame in range(1, round(STEPS[-1].end * 15)):
        b.advance(frame / 15)
        view.composite()
        rows = view.take_rows()
        now = view.frame.copy()
        changed = np.flatnonzero((now != before).any(axis=(1, 2)))
        if changed.size:
            assert rows is not None and rows[0] <= changed[0] and changed[-1] < rows[1], frame
            partly += rows[1] - rows[0] < view.size[1]
        view._shown = None  # drawn whole
        view.composite()
        assert np.array_equal(view.frame, now), frame
        view.take_rows()
        before = now
    assert partly > 50  # most frames of a held camera were bands


def test_the_camera_holds_still_near_the_action_and_glides_to_it_when_it_strays() -> None:
    from inkworm.render.camera import DEAD_ZONE, PATH_STEP, TOP_SPEED, camera_path

    size = (500, 300)
    # the action wanders inside the dead zone for 2 s, then jumps 400 px right at 2 s
    starts = [0.0, 0.5, 1.0, 1.5, 2.0]
    near = DEAD_ZONE * 0.9
    points = np.array([[1000.0, 500.0], [1000 + near * 500, 500.0], [1000.0, 500 - near * 300],
                       [1000 - near * 500, 500.0], [1400.0, 500.0]])
    path = camera_path(starts, points, size)
    at = np.arange(len(path)) * PATH_STEP
    held = path[at < 2.0]
    assert np.array_equal(held, np.repeat(points[:1], len(held), axis=0))  # not a pixel
    steps = np.hypot(*np.diff(path[at >= 2.0 - PATH_STEP], axis=0).T)
    assert steps.max() <= TOP_SPEED * size[0] * PATH_STEP + 1e-9  # a glide, no cut
    assert np.allclose(path[-1], [1400.0, 500.0], atol=0.5)  # settled on the action
    settled = int(np.argmax(np.hypot(*(path - [1400.0, 500.0]).T) < 0.5))
    assert at[settled] < 2.0 + 3.0  # within a few seconds


def test_the_minimap_never_covers_a_well_the_window_shows() -> None:
    """It sat in the lower right corner over whatever wells were there; it moves to a corner
    that covers none (where one is free), frame by frame."""
    b = board()
    view = b.screen
    assert isinstance(view, Viewport)
    r = b.chip.g.radius
    centers = np.array(list(b.chip.g.centers.values()))
    moved = set()
    for frame in range(0, round(STEPS[-1].end * 15), 5):
        b.advance(frame / 15)
        view.composite()
        left, top = view.window(view.time)
        x0, y0, _, _ = view.box
        wells = centers - (left - x0, top - y0)
        free = [c for c in CORNERS if not _covers(view._minimap_box(c), wells, r)]
        assert not free or _covers(view._minimap_box(), wells, r) == 0, frame
        moved.add(view._corner)
    assert len(moved) > 1  # on this run it had to move


def _covers(box: tuple[int, int, int, int], wells: np.ndarray, r: float) -> int:
    """How many wells (frame pixels, radius ``r``) the box touches."""
    bx0, by0, bx1, by1 = box
    x, y = wells[:, 0], wells[:, 1]
    return int(((x + r > bx0) & (x - r < bx1) & (y + r > by0) & (y - r < by1)).sum())
