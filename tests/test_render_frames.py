"""The chip's pixels: which channels end inked, clear or etched; a few golden frames.

Most checks read the ink layers (structure); golden frames are few, small (427x240) and
compared with a tolerance, in the manner of manim's frames_comparison. Regenerate them with
``pytest --inkworm-regen-golden`` and look at them before committing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import GRAPHS
from inkworm import AutoConnect, Mode, Topology, load_dot, simulate
from inkworm.render.board import Board
from inkworm.render.options import RenderOptions
from inkworm.render.timeline import Step, StepKind, steps_from_trace, time_steps
from inkworm.run import RunSpec, Strategy

GOLDEN = Path(__file__).resolve().parent / "golden"
W, H = 427, 240


def board(mode: Mode, topology: Topology | None = None, style: str = "ink",
          **kwargs: object) -> Board:
    topology = topology or load_dot(GRAPHS / "bowtie.dot")
    trace = simulate(topology, RunSpec(mode=mode, **kwargs))  # type: ignore[arg-type]
    steps = time_steps(steps_from_trace(trace))
    return Board(trace, topology, steps, RenderOptions(style=style), W, H)


def channel_max(b: Board, layer: str, a: str, c: str, lo: float = 0.35,
                hi: float = 0.65) -> float:
    """The most ink in the middle of channel a-c, on pixels no other channel covers (ends
    touch neighbouring channels, and etched channels may cross it)."""
    region, backwards = b.chip.channel(a, c)
    s = 1 - region.param if backwards else region.param
    others = np.concatenate([r.idx for key, r in b.chip.channels.items()
                             if r is not region] or [np.zeros(0, dtype=np.int64)])
    middle = region.idx[(s >= lo) & (s <= hi) & ~np.isin(region.idx, others)]
    return float(b.chip.layers[layer][middle].max()) if middle.size else 0.0


def test_bowtie_naive_end_state() -> None:
    b = board(Mode.NAIVE)
    b.finish()
    tree = [("a", "b"), ("b", "c"), ("b", "d"), ("d", "e"), ("e", "f")]
    for a, c in tree:
        assert channel_max(b, "ink", a, c) > 0.9, f"{a}-{c} should be inked"
        assert channel_max(b, "dye", a, c) > 0.5, f"{a}-{c} should carry the answer back"
    for a, c in [("a", "c"), ("d", "f")]:  # only ever skipped, from both ends
        assert channel_max(b, "ink", a, c) == 0.0
        assert channel_max(b, "tint", a, c) == 0.0  # a skip stops short of the middle
        assert channel_max(b, "tint", a, c, 0.05, 0.25) > 0.2
    for v in "def":
        assert channel_max(b, "etch", v, "a") > 0.9
        assert channel_max(b, "leak", v, "a") > 0.5
    for node in "abcdef":
        assert b.chip.layers["ink"][b.chip.wells[node].idx].max() > 0.9


def test_bowtie_fixed_etches_nothing() -> None:
    b = board(Mode.FIXED)
    b.finish()
    assert b.chip.layers["etch"].max() == 0.0
    assert b.chip.layers["leak"].max() == 0.0
    assert not any(key for key in b.chip.g.routes if "a" in key and "f" in key)


def test_unreached_wells_stay_dry_and_faults_grey() -> None:
    split = board(Mode.FIXED, Topology.from_edges([("a", "b"), ("c", "d")]))
    split.finish()
    for node in "cd":
        assert split.chip.layers["ink"][split.chip.wells[node].idx].max() == 0.0
    never = board(Mode.NAIVE, auto_connect=AutoConnect.NEVER)
    never.finish()
    grey = never.chip.layers["grey"]
    assert grey[never.chip.wells["d"].idx].max() > 0.5
    assert grey[never.chip.wells["b"].idx].max() == 0.0  # b only relays d's failure
    assert channel_max(never, "clot", "b", "d") > 0.5


@pytest.mark.parametrize("style", ["ink", "schematic"])
def test_frames_are_deterministic(style: str) -> None:
    one, two = board(Mode.NAIVE, style=style), board(Mode.NAIVE, style=style)
    for t in (2.0, 9.5):
        one.advance(t)
        two.advance(t)
        assert np.array_equal(one.chip.frame, two.chip.frame)


def emphasised_moment(b: Board) -> float:
    step = next(s for s in b.steps if s.kind is StepKind.ETCH and s.emphasis)
    return step.start + 0.7 * step.duration


GOLDEN_NAMES = {"schematic": "bowtie-naive-{moment}.png", "ink": "bowtie-naive-ink-{moment}.png"}
"""The schematic frames are the drawing from before ``--style ink``, kept unchanged."""


@pytest.mark.parametrize("style", ["schematic", "ink"])
@pytest.mark.parametrize("moment", ["etch-a-f", "last"])
def test_golden_frames(moment: str, style: str, regen_golden: bool, tmp_path: Path) -> None:
    b = board(Mode.NAIVE, style=style)
    if moment == "last":
        b.finish()
    else:
        b.advance(emphasised_moment(b))
    frame = b.chip.frame[..., :3]
    path = GOLDEN / GOLDEN_NAMES[style].format(moment=moment)
    if regen_golden:
        Image.fromarray(frame).save(path, optimize=True)
        pytest.skip(f"golden frame written: {path}")
    # a missing golden frame is a failure, never a pass: regenerate on purpose
    assert path.exists(), f"{path} is missing: run pytest --inkworm-regen-golden and look at it"
    golden = np.asarray(Image.open(path).convert("RGB"))
    diff = np.abs(frame.astype(np.int16) - golden.astype(np.int16)).max(axis=2)
    changed = float((diff > 16).mean())
    if changed > 0.002 or diff.mean() > 0.5:
        out = tmp_path / f"diff-{style}-{moment}.png"
        Image.fromarray(np.hstack([golden, frame, np.repeat(
            (np.clip(diff * 4, 0, 255)).astype(np.uint8)[..., None], 3, axis=2)])).save(out)
        pytest.fail(f"{moment}: {changed:.2%} of pixels differ (mean {diff.mean():.2f}); "
                    f"golden | now | diff written to {out}")


FRAME_DIGEST = """
import hashlib, sys
from inkworm import Mode, RunSpec, load_dot, simulate
from inkworm.render.board import Board
from inkworm.render.options import RenderOptions
from inkworm.render.timeline import steps_from_trace, time_steps
topology = load_dot(sys.argv[1])
trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(), 427, 240)
board.finish()
print(hashlib.sha256(board.chip.frame.tobytes()).hexdigest())
"""


def test_frames_do_not_depend_on_the_hash_seed() -> None:
    """Same inputs, same frames, in any process (string hashing is randomised per process)."""
    import os
    import subprocess
    import sys

    digests = {
        subprocess.run([sys.executable, "-c", FRAME_DIGEST, str(GRAPHS / "bowtie.dot")],
                       capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2", "3")
    }
    assert len(digests) == 1


def _lightness(rgb: np.ndarray) -> np.ndarray:
    """CIE L* of sRGB pixels (0 black .. 100 white)."""
    c = rgb.astype(np.float64) / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    y = lin @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(y > 216 / 24389, 116 * np.cbrt(y) - 16, y * 24389 / 27)


def _middle_pixels(b: Board, a: str, c: str) -> np.ndarray:
    region, backwards = b.chip.channel(a, c)
    s = 1 - region.param if backwards else region.param
    keep = (s >= 0.35) & (s <= 0.65) & (region.cover > 0.99)
    return b.chip.frame.reshape(-1, 4)[region.idx[keep], :3]


def test_the_answer_differs_from_the_ink_in_lightness() -> None:
    """On a projector hue washes out: the returned channel must be far lighter than ink."""
    b = board(Mode.NAIVE)
    back = next(s for s in b.steps if s.caption.startswith("c reports back to b"))
    b.advance(back.end)
    answered = float(np.median(_lightness(_middle_pixels(b, "b", "c"))))
    inked = float(np.median(_lightness(_middle_pixels(b, "a", "b"))))  # still only ink
    assert answered - inked > 30, (answered, inked)


@pytest.mark.parametrize("caption", ["b skips a", "d skips b", "a skips c"])
def test_a_skip_shows_on_any_channel_inked_or_not(caption: str) -> None:
    """A skip is a bright pulse that runs into the channel and back, also over ink."""
    b = board(Mode.NAIVE)
    skip = next(s for s in b.steps if s.caption.startswith(caption))
    assert skip.peer is not None
    b.advance(skip.start)
    before = _lightness(b.chip.frame.reshape(-1, 4)[b.chip.channel(skip.node, skip.peer)[0].idx,
                                                   :3])
    b.advance(skip.start + 0.35 * skip.duration)  # the pulse at the far end of its run
    region = b.chip.channel(skip.node, skip.peer)[0]
    during = _lightness(b.chip.frame.reshape(-1, 4)[region.idx, :3])
    assert np.abs(during - before).max() > 25  # the pulse (bright core, dark rim) shows
    assert b.chip.layers["pulse"][region.idx].max() > 0.9
    b.advance(skip.end + 1e-3)
    assert b.chip.layers["pulse"][region.idx].max() == 0.0  # and it is gone afterwards


def test_the_panel_reads_the_one_fold() -> None:
    """The board's visited set and call stack are the fold's, at every step."""
    from inkworm.views import state_at

    b = board(Mode.NAIVE)
    for step in b.steps:
        mine = b.state_after(step.seqs[-1])
        theirs = state_at(b.trace, step.seqs[-1])
        assert theirs is not None
        assert (mine.visited, mine.stack) == (theirs.visited, theirs.stack), step.caption


def test_an_orphaned_branch_is_drawn_in_faded_ink_after_the_crash() -> None:
    """Killing b while d runs: the launcher fails at once, d's branch walks on (d-e, e-f) in
    the ghost layer, never the probe's full ink, and says so in its captions and legend."""
    from inkworm.run import Fault, Faults
    from inkworm.trace import Crash

    topology = load_dot(GRAPHS / "bowtie.dot")
    trace = simulate(topology, RunSpec(mode=Mode.FIXED), faults=Faults(kill=Fault("b", "d")))
    steps = time_steps(steps_from_trace(trace))
    crash = next(k for k, s in enumerate(steps) if s.kind.value == "crash")
    assert not any(s.orphan for s in steps[:crash] if s.node in "abc")
    orphaned = [s for s in steps if s.orphan]
    assert {s.node for s in orphaned} == {"d", "e", "f"}
    assert all(s.caption.startswith("orphaned: ") for s in orphaned)
    assert isinstance(trace.outcome, Crash)
    b = Board(trace, topology, steps, RenderOptions(), W, H)
    b.finish()
    for a, c in [("d", "e"), ("e", "f")]:
        assert channel_max(b, "ghost", a, c) > 0.9, f"{a}-{c}: the orphan's ink"
        assert channel_max(b, "ink", a, c) == 0.0, f"{a}-{c}: never the live probe's ink"
    assert channel_max(b, "ink", "a", "b") > 0.9 and channel_max(b, "ghost", "a", "b") == 0.0


# --- a parallel run -------------------------------------------------------------------------

def parallel_board(graph: str = "ring_chords.dot", mode: Mode = Mode.FIXED) -> Board:
    return board(mode, load_dot(GRAPHS / graph), strategy=Strategy.PARALLEL)


def test_a_fan_out_inks_every_target_channel_at_once() -> None:
    """Half way through r0's multicall, ink is under way in all three channels at once."""
    b = parallel_board()
    fan_out = next(s for s in b.steps if s.kind is StepKind.CALL)
    b.advance(fan_out.start + 0.4 * fan_out.duration)
    for target in ("r1", "r7", "r4"):
        assert channel_max(b, "ink", "r0", target, 0.0, 0.3) > 0.2 and \
            channel_max(b, "ink", "r0", target, 0.7, 1.0) < 0.05, target


def test_a_duplicated_well_holds_both_inks() -> None:
    """r3 is probed first from r4, then again from r2: the well keeps the first ink and
    takes the second (the ``dup`` layer) from r2's side; a well probed once takes none."""
    b = parallel_board()
    b.finish()
    well = b.chip.wells["r3"]
    ink, dup = b.chip.layers["ink"][well.idx], b.chip.layers["dup"][well.idx]
    assert ink.max() > 0.9 and dup.max() > 0.8
    assert (ink > 0.5).sum() > 0.5 * well.idx.size  # the first ink is still there...
    assert 0.1 * well.idx.size < (dup > 0.5).sum() < 0.6 * well.idx.size  # ...beside the second
    cx, cy = b.chip.g.centers["r3"]
    xs, ys = well.idx % b.chip.g.width - cx, well.idx // b.chip.g.width - cy
    towards = np.subtract(b.chip.g.centers["r2"], (cx, cy))
    dup_side = float(((xs * towards[0] + ys * towards[1]) * dup).sum() / dup.sum())
    assert dup_side > 0  # it came in from r2
    for once in ("r0", "r1", "r7", "r4"):
        assert b.chip.layers["dup"][b.chip.wells[once].idx].max() == 0.0, once


def test_the_panel_of_a_parallel_run_names_its_running_probes() -> None:
    """No call stack (a parallel run has none): the visited set with its duplicate work, and
    the running probes, the fronts at work named (a node's probes counted), then those waiting
    for answers; all read from the fold."""
    from inkworm.views import state_at

    def panel(b: Board, step: Step) -> list[str]:
        return [" ".join(t for t, _ in line) for line in b._panel_lines(step)]

    b = parallel_board()
    fan_out = next(s for s in b.steps if s.kind is StepKind.CALL)
    assert panel(b, fan_out) == ["visited (4)", "r0 r1 r7 r4", "", "running probes (4)",
                                 "r1 r7 r4", "waiting: r0"]
    wave = next(s for s in b.steps if s.duplicate)
    text = panel(b, wave)
    state = state_at(b.trace, wave.seqs[-1])
    assert state is not None and state.duplicates == 6
    assert not any("call stack" in line for line in text)
    assert text[:4] == ["visited (8)", "r0 r1 r7 r4 r2 r6 r3 r5", "+ 6 duplicate probes", ""]
    assert text[4] == f"running probes ({len(state.running)})" == "running probes (14)"
    assert text[5:] == ["r3 r6\u00d72 r5 r2\u00d72", "8 waiting for answers"]
    sequential = board(Mode.NAIVE)
    assert "call stack (depth 1)" in [" ".join(t for t, _ in line)
                                      for line in sequential._panel_lines(sequential.steps[0])]


@pytest.mark.parametrize("strategy", ["sequential", "parallel"])
def test_the_chip_at_a_step_end_is_the_same_however_it_got_there(strategy: str) -> None:
    """Frame by frame (steps drawn under way, then ended) or straight to the step's end (the
    steps between drawn ended only, their transients never drawn): the same layers."""
    from inkworm.gen import sparse_cluster
    from inkworm.render.painter import Painter
    from inkworm.render.raster import Chip
    from inkworm.render.schedule import timeline

    # the 12-ring with chords in parallel: 40 probes, 28 of them duplicates
    topology = sparse_cluster(40, seed=6, extra=0.4) if strategy == "sequential" else \
        load_dot(GRAPHS / "ring12.dot")
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE, strategy=Strategy(strategy)))
    options = RenderOptions(duration=30.0)
    board = Board(trace, topology, timeline(trace, options, 15), options, 427, 240)
    etched = [(s.node, s.peer) for s in board.steps if s.kind is StepKind.ETCH and s.peer]
    chips = [Chip(board.chip.g, board.f.chip, launch=board.launch, extra_channels=etched)
             for _ in range(2)]
    framed, jumped = (Painter(chip, board.steps) for chip in chips)
    ends = sorted({s.end for s in board.steps})[:: max(1, len(board.steps) // 12)]
    tau = 0.0
    for end in ends:
        while tau < end:
            tau = min(tau + 1 / 15, end)
            framed.advance(tau)
        jumped.advance(end)
        for name, layer in chips[0].layers.items():
            assert np.array_equal(layer, chips[1].layers[name]), (end, name)
    assert framed.partly >= 0 and len(ends) >= 10


@pytest.mark.parametrize("transparent", [False, True])
def test_a_fresh_chip_s_refresh_is_every_pixel_composited(transparent: bool) -> None:
    """Before any ink, :meth:`Chip.refresh` copies the base and composites only where the
    top layer draws (the tags, the inlet's fitting): the frame of compositing every pixel."""
    from inkworm.gen import sparse_cluster

    topology = sparse_cluster(60, seed=0)
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    options = RenderOptions(transparent=transparent)
    chip = Board(trace, topology, time_steps(steps_from_trace(trace)), options, W, H).chip
    assert not chip._painted and chip.top[..., 3].any() and not chip.top[..., 3].all()
    chip.frame[...] = 77  # stale: refresh must redraw every pixel
    chip.refresh()
    fast = chip.frame.copy()
    chip._dirty = [np.arange(chip.g.width * chip.g.height, dtype=np.int64)]
    chip.composite()
    assert np.array_equal(fast, chip.frame)
    assert chip.take_rows() == (0, chip.g.height)


@pytest.mark.parametrize("transparent", [False, True])
def test_the_top_layer_laid_again_is_every_pixel_composited(transparent: bool) -> None:
    """Where only the top layer changed (the tags), :meth:`Chip.touch_top` lays it again over
    the ink as composited last: the frame of compositing those pixels, ink and all, anew.
    Through ink drawn after the top changed, a base drawn on before any ink (the board's
    static text), tags drawn, moved and cleared."""
    from inkworm.gen import sparse_cluster
    from inkworm.render import hud

    topology = sparse_cluster(30, seed=0)  # the whole chip on screen: text on its base
    trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
    options = RenderOptions(transparent=transparent)
    board = Board(trace, topology, time_steps(steps_from_trace(trace)), options, W, H)
    chip, rng = board.chip, np.random.default_rng(5)
    assert board.screen is chip
    top, before = chip.top.reshape(-1, 4), chip.top.copy()
    wells = list(chip.g.centers.values())
    for round_ in range(6):
        board.painter.advance(2.0 * round_)  # ink, composited
        was = chip.top.copy()
        if round_ % 3 == 2:
            chip.top[...] = before  # every tag cleared
        for x, y in wells[round_::7]:
            hud.blit(chip.top, hud.tag(f"n{round_}", 11 + round_), x + rng.integers(-9, 9),
                     y + rng.integers(-9, 9))
        changed = np.flatnonzero((chip.top != was).any(axis=2))
        chip.touch_top(np.arange(len(top)) if round_ == 0 else changed)  # 0: the title too
        if round_ % 2:  # ink drawn in the same frame as the tags
            board.painter.advance(2.0 * round_ + 1.0)
        chip.composite()
        laid = chip.frame.copy()
        chip._dirty = [np.arange(len(top), dtype=np.int64)]
        chip.composite()
        assert np.array_equal(laid, chip.frame), round_
