"""Two runs side by side: alignment by visit, the diff, the cues, and the frames drawn."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import GRAPHS
from conftest import inkworm_run as inkworm
from inkworm import InputError, Mode, load_dot, simulate
from inkworm.reader import load_trace
from inkworm.render import palette as P
from inkworm.render.compare import PairBoard, align
from inkworm.render.options import RenderOptions
from inkworm.render.pair import Run, diff_edges, diff_text, label_runs
from inkworm.render.subtitles import caption_cues
from inkworm.render.timeline import Step, StepKind, reading_time, steps_from_trace, time_steps
from inkworm.run import AutoConnect, RunSpec
from inkworm.topology import parse_dot
from inkworm.trace import Trace
from inkworm.views import renamed

BOWTIE = load_dot(GRAPHS / "bowtie.dot")


def run(mode: Mode, auto_connect: AutoConnect = AutoConnect.ALWAYS) -> Trace:
    return simulate(BOWTIE, RunSpec(mode=mode, auto_connect=auto_connect))


def timed(trace: Trace) -> list[Step]:
    return time_steps(steps_from_trace(trace), fps=15)


def runs(a: Trace, b: Trace) -> tuple[Run, Run]:
    return label_runs((BOWTIE, a), (BOWTIE, b))


def visit_starts(steps: list[Step]) -> dict[str, float]:
    return {s.visit: s.start for s in steps if s.visit}


def test_matched_visits_start_together_and_keep_their_durations() -> None:
    a, b = timed(run(Mode.NAIVE)), timed(run(Mode.FIXED))
    xa, xb, slots = align(a, b)
    assert visit_starts(xa) == visit_starts(xb)  # the same six visits, side by side
    assert list(visit_starts(xa)) == list("abcdef")
    for before, after in ((a, xa), (b, xb)):
        assert [s.duration for s in before] == [s.duration for s in after]
        assert [s.caption for s in before] == [s.caption for s in after]
        for one, two in itertools.pairwise(after):
            assert two.start >= one.end - 1e-9  # in order, never overlapping
    # the naive side's visit of d is longer (d connects to a): the fixed side waits, so that
    # e starts on both sides at once
    assert visit_starts(xb)["e"] > visit_starts(b)["e"]
    assert visit_starts(xa)["e"] == visit_starts(a)["e"]
    assert slots == sorted(slots)
    outcome_a = next(s for s in xa if s.kind is StepKind.RESULT)
    outcome_b = next(s for s in xb if s.kind is StepKind.RESULT)
    assert outcome_a.start == outcome_b.start


def test_a_visit_only_one_run_makes_plays_while_the_other_holds() -> None:
    crashed = run(Mode.NAIVE, AutoConnect.NEVER)  # fails at d: visits a b c d
    xa, xb, _ = align(timed(crashed), timed(run(Mode.FIXED)))
    assert list(visit_starts(xa)) == list("abcd")
    e_start, f_start = visit_starts(xb)["e"], visit_starts(xb)["f"]
    crash = next(s for s in xa if s.kind is StepKind.CRASH)
    result = next(s for s in xb if s.kind is StepKind.RESULT)
    assert crash.start == result.start > f_start > e_start  # the outcomes side by side
    held = [s for s in xa if e_start <= s.start < crash.start]
    assert held == []  # the crashed side draws nothing while the other visits e and f


def test_labels_say_what_differs() -> None:
    naive, fixed = runs(run(Mode.NAIVE), run(Mode.FIXED))
    assert (naive.label, fixed.label) == ("naive", "fixed")
    recorded = renamed(load_trace(GRAPHS / "bowtie-fixed.beam.jsonl"), BOWTIE)
    sim, rec = label_runs((BOWTIE, run(Mode.FIXED)), (BOWTIE, recorded))
    assert (sim.label, rec.label) == ("simulated", "recorded")
    same = label_runs((BOWTIE, run(Mode.FIXED)), (BOWTIE, run(Mode.FIXED)))
    assert [r.label for r in same] == ["A", "B"]


def test_runs_sharing_no_node_are_refused() -> None:
    other = parse_dot("graph x { p -- q }", "other.dot")
    trace = simulate(other, RunSpec())
    with pytest.raises(InputError, match="shares no node"):
        label_runs((BOWTIE, run(Mode.NAIVE)), (other, trace))


def test_the_diff_names_the_edges_only_one_map_reports() -> None:
    naive, fixed = runs(run(Mode.NAIVE), run(Mode.FIXED))
    assert diff_edges(naive, fixed) == ({("a", "d"), ("a", "e"), ("a", "f")}, set())
    assert diff_text(naive, fixed) == ("edges only naive reports: a\u2013d a\u2013e a\u2013f"
                                       "   \u00b7   only fixed reports: none")
    crashed, fixed = runs(run(Mode.NAIVE, AutoConnect.NEVER), run(Mode.FIXED))
    assert diff_text(crashed, fixed) == "naive has no map (the worm crashed); fixed's map has " \
                                        "7 edges"


def test_cues_hold_every_caption_of_both_sides_and_end_on_the_diff() -> None:
    naive, fixed = runs(run(Mode.NAIVE), run(Mode.FIXED))
    board = PairBoard(naive, fixed, timed(naive.trace), timed(fixed.trace), RenderOptions(),
                      854, 480)
    cues = board.cues()
    for one, two in itertools.pairwise(cues):
        assert one.end <= two.start + 1e-9 and one.start < one.end
    assert cues[-1].text == board.diff
    assert cues[-1].duration >= reading_time(board.diff)
    said = "\n".join(c.text for c in cues)
    for run_, side in zip((naive, fixed), board.boards, strict=True):
        for cue in caption_cues(side.steps, 0.0):
            assert f"{run_.label}: {cue.text}" in said
        # a caption is on screen (as a line of some cue) at least its reading time
        for step in side.steps:
            line = f"{run_.label}: {step.caption}"
            shown = sum(c.duration for c in cues if line in c.text.splitlines())
            assert shown >= reading_time(step.caption) - 1e-6, line


def orange(image: np.ndarray) -> int:
    """Pixels of the measurement's orange (etched channels and its text)."""
    warn = np.array(P.hex_rgb(P.WARN), dtype=np.int16)
    return int((np.abs(image[..., :3].astype(np.int16) - warn).max(axis=2) < 40).sum())


@pytest.mark.render
def test_side_by_side_stills_show_the_artefacts_on_the_naive_side_only(tmp_path: Path) -> None:
    out = tmp_path / "pair.png"
    proc = inkworm("render", str(GRAPHS / "bowtie.dot"), "--mode", "naive", "--compare",
                   str(GRAPHS / "bowtie.dot"), "--compare-mode", "fixed", "--format", "png",
                   "-q", "l", "--at", "final,probe_start:d", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    final = np.asarray(Image.open(tmp_path / "pair-final.png").convert("RGB"))
    height, width = final.shape[:2]
    assert (width, height) == (854, 480)
    chips = final[: int(0.6 * height)]  # the chips (the diff line below is orange too)
    left, right = chips[:, : width // 2], chips[:, width // 2 :]
    assert orange(left) > 2000  # three etched channels, a-d a-e a-f
    assert orange(right) < 50  # the fixed probe etches nothing
    # one layout: the wells sit at the same place on both sides (the chips' blue ink)
    ink = np.array(P.hex_rgb(P.INK), dtype=np.int16)

    def wells(half: np.ndarray) -> np.ndarray:
        return (np.abs(half.astype(np.int16) - ink).max(axis=2) < 60)

    same = wells(left) & wells(right)
    assert same.sum() > 0.6 * wells(right).sum()
    mid = np.asarray(Image.open(tmp_path / "pair-probe_start-d.png").convert("RGB"))
    assert orange(mid[: int(0.6 * height), : width // 2]) < orange(left)  # mid-run: fewer


@pytest.mark.render
def test_a_contact_sheet_holds_each_still(tmp_path: Path) -> None:
    specs = "probe_start:b,connect:f:a,final"
    proc = inkworm("render", str(GRAPHS / "bowtie.dot"), "--format", "png", "-q", "l",
                   "--at", specs, "-o", str(tmp_path / "one.png"))
    assert proc.returncode == 0, proc.stderr
    proc = inkworm("render", str(GRAPHS / "bowtie.dot"), "--format", "png", "-q", "l",
                   "--at", specs, "--sheet", "--cols", "3", "-o", str(tmp_path / "sheet.png"))
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "one-connect-f-a.png", "one-final.png", "one-probe_start-b.png", "sheet.png"]
    sheet = np.asarray(Image.open(tmp_path / "sheet.png").convert("RGB"))
    tiles = [np.asarray(Image.open(tmp_path / f"one-{name}.png").convert("RGB"))
             for name in ("probe_start-b", "connect-f-a", "final")]
    h, w = tiles[0].shape[:2]
    gap = max(6, h // 40)
    for column, tile in enumerate(tiles):  # in order, left to right, unscaled at -ql
        x = gap + column * (w + gap)
        assert np.array_equal(sheet[gap:gap + h, x:x + w], tile)
    label = sheet[gap + h: gap + h + max(14, h // 14)]
    assert label.std() > 5  # each tile is labelled underneath


def _overlap(a: tuple[int, int, int, int] | None, b: tuple[int, int, int, int] | None) -> bool:
    if a is None or b is None:
        return False
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize(("width", "height"), [(854, 480), (1280, 720), (1920, 1080)])
def test_panel_and_caption_never_cover_each_other(width: int, height: int) -> None:
    """On each side of a comparison (and the long map included), the panel stays above the
    caption line and the caption never wipes the panel."""
    naive, fixed = runs(run(Mode.NAIVE), run(Mode.FIXED))
    board = PairBoard(naive, fixed, timed(naive.trace), timed(fixed.trace), RenderOptions(),
                      width, height)
    for step in board.steps:
        board.advance(step.end - 1e-6)
        for side in board.boards:
            assert not _overlap(side._panel_box, side._caption_box), step.caption
            assert side._panel_box is not None
            assert side._panel_box[3] <= side.f.panel_bottom + 1
    board.finish()
    for side in board.boards:
        assert side._panel_box is not None and side._panel_box[3] <= side.f.panel_bottom + 1


@pytest.mark.parametrize(("width", "height"), [(854, 480), (1920, 1080)])
def test_a_single_runs_panel_stays_above_its_legend(width: int, height: int) -> None:
    from inkworm.render.board import Board

    trace = run(Mode.NAIVE)
    board = Board(trace, BOWTIE, timed(trace), RenderOptions(), width, height)
    for step in board.steps:
        board.advance(step.end - 1e-6)
        assert board._panel_box is not None and board._panel_box[3] <= board.f.panel_bottom + 1
        assert not _overlap(board._panel_box, board._caption_box)
    board.finish()
    assert board._panel_box is not None and board._panel_box[3] <= board.f.panel_bottom + 1


def test_a_still_at_an_event_no_step_draws_shows_the_step_before_it() -> None:
    """In the recorded run a connects to f (seq 32) before f connects to a (seq 33): the
    channel is etched once, by the first; ``connect:f:a`` shows that etching, not what follows."""
    from inkworm.render.board import Board
    from inkworm.render.stills import frame_at, moments

    trace = renamed(load_trace(GRAPHS / "bowtie-naive.beam.jsonl"), BOWTIE)
    (moment,) = moments("connect:f:a", trace)
    assert moment.seq == 33
    board = Board(trace, BOWTIE, timed(trace), RenderOptions(), 854, 480)
    frame_at(board, moment)
    shown = board.schedule[board.shown][1]
    assert 32 in shown.seqs and "f\u2013a" in shown.caption


def _length(video: Path) -> float:
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        return float(stream.duration * stream.time_base)


@pytest.mark.render
def test_the_comparison_lasts_exactly_to_its_last_cue(tmp_path: Path) -> None:
    """The video ran 81.0 s while its subtitles ran to 1:23.7: the final diff was up 2.7 s
    of its 5.4 s (sections of overlapping merged steps overlapped)."""
    from inkworm.render.subtitles import Cue

    video, vtt = tmp_path / "pair.mp4", tmp_path / "pair.vtt"
    proc = inkworm("render", str(GRAPHS / "bowtie.dot"), "--mode", "naive", "--compare",
                   str(GRAPHS / "bowtie.dot"), "--compare-mode", "fixed", "-q", "l",
                   "--subtitles", str(vtt), "-o", str(video))
    assert proc.returncode == 0, proc.stderr
    stamps = re.findall(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)",
                        vtt.read_text(encoding="utf-8"))

    def seconds(h: str, m: str, s: str, ms: str) -> float:
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    cues = [Cue(seconds(*t[:4]), seconds(*t[4:]), "") for t in stamps]
    assert abs(_length(video) - cues[-1].end) <= 1 / 15 + 1e-3  # one frame at most
    diff = vtt.read_text(encoding="utf-8").rstrip().splitlines()[-1]
    assert diff.startswith("edges only naive reports")
    assert cues[-1].duration >= reading_time(diff) - 1e-3


def test_a_waiting_side_repeats_no_stale_subtitle() -> None:
    """Each line of a combined cue is its side's caption at that moment: a side that waits
    says nothing new ('fixed: a skips c' came three times while the naive side went on)."""
    naive, fixed = runs(run(Mode.NAIVE), run(Mode.FIXED))
    board = PairBoard(naive, fixed, timed(naive.trace), timed(fixed.trace), RenderOptions(),
                      854, 480)
    sides = {run_.label: caption_cues(side.steps, 0.0)
             for run_, side in zip((naive, fixed), board.boards, strict=True)}
    for cue in board.cues()[:-1]:
        for line in cue.text.splitlines():
            label, _, text = line.partition(": ")
            own = [c for c in sides[label] if c.text == text]
            assert any(c.start <= cue.start + 1e-9 < c.end for c in own), line


def test_a_contact_sheet_is_about_16_9_and_says_what_each_moment_is() -> None:
    """It was one 2610x538 strip labelled 'probe_start:d (seq 17)'."""
    from inkworm.render.stills import contact_sheet, moment_label, moments, sheet_columns

    assert [sheet_columns(n, 16 / 9 * 14 / 15) for n in (1, 2, 3, 4, 6, 9)] == \
        [1, 2, 2, 2, 3, 3]
    trace = run(Mode.NAIVE)
    found = moments("probe_start:d,connect:f:a,final,seq=2", trace)
    assert [moment_label(m, trace) for m in found] == [
        "d starts its probe", "f connects to a", "the end: the map", "a ships the probe to b"]
    tiles = [np.full((90, 160, 3), v, np.uint8) for v in (40, 80, 120)]
    sheet = contact_sheet(tiles, ["one", "two", "three"])
    assert 1.3 < sheet.shape[1] / sheet.shape[0] < 2.2  # two a row, two rows: near 16:9


def _crossings(line: np.ndarray, other: np.ndarray, ends: np.ndarray, inside: float) -> int:
    """How many segments of ``line`` (outside the wells at ``ends``) properly cross ``other``."""
    def turn(a: np.ndarray, b: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.sign((b[..., 0] - a[..., 0]) * (p[..., 1] - a[..., 1])
                       - (b[..., 1] - a[..., 1]) * (p[..., 0] - a[..., 0]))

    a, b = line[:-1, None], line[1:, None]
    c, d = other[None, :-1], other[None, 1:]
    hit = (turn(a, b, c) * turn(a, b, d) < 0) & (turn(c, d, a) * turn(c, d, b) < 0)
    mid = (line[:-1] + line[1:]) / 2
    out = np.all(np.hypot(*(mid[:, None] - ends[None]).transpose(2, 0, 1)) > inside, axis=1)
    return int((hit.any(axis=1) & out).sum())


@pytest.mark.parametrize("pair", [False, True], ids=["single", "comparison"])
def test_the_measurements_channels_run_apart_and_cross_at_most_one_channel(pair: bool) -> None:
    """The bowtie's a-d, a-e and a-f: no two run within two channel widths of each other away
    from a (they bundled from a to d), and none crosses more than one channel (a-e crossed d-f
    and ran along a-d); on this layout a-e cannot reach e without crossing one."""
    from inkworm.render.board import Board

    trace = run(Mode.NAIVE)
    if pair:
        naive, fixed = runs(trace, run(Mode.FIXED))
        board = PairBoard(naive, fixed, timed(naive.trace), timed(fixed.trace), RenderOptions(),
                          1920, 1080).boards[0]
    else:
        board = Board(trace, BOWTIE, timed(trace), RenderOptions(), 1920, 1080)
    g = board.chip.g
    etched = [("a", "d"), ("a", "e"), ("a", "f")]
    for u, v in etched:
        line = g.route(u, v)
        ends = np.array([g.centers[u], g.centers[v]])
        crossed = [edge for edge in BOWTIE.edges
                   if _crossings(line, g.route(*edge), ends, g.radius * 1.05)]
        assert len(crossed) <= 1, (u, v, crossed)
    launcher = np.array(g.centers["a"])
    for one, two in itertools.combinations(etched, 2):
        p, q = (g.route(*e) for e in (one, two))
        p = p[np.hypot(*(p - launcher).T) > g.radius * 2.5]
        q = q[np.hypot(*(q - launcher).T) > g.radius * 2.5]
        gap = np.hypot(p[:, None, 0] - q[None, :, 0], p[:, None, 1] - q[None, :, 1])
        assert gap.min() >= 2 * g.channel, (one, two, gap.min())




CHAIN = Path(__file__).resolve().parent / "corpus" / "chain.dot"


def test_a_wide_layout_stacks_the_sides_and_a_round_one_does_not() -> None:
    """Stacked only where it spaces the wells further apart: the chain laid out by sfdp (nine
    times wider than high) stacks, neato's curled chain and the bowtie do not; a row of wells
    (no height at all) stacks and spreads over the chip's whole width."""
    from inkworm.layout import layout
    from inkworm.render.compare import stacks
    from inkworm.render.geometry import stretch

    chain = load_dot(CHAIN)
    assert stacks(layout(chain, "sfdp", 0), 1920, 1080)
    assert not stacks(layout(chain, "neato", 0), 1920, 1080)
    assert not stacks(layout(BOWTIE, "auto", 0), 1920, 1080)
    row = {f"n{i}": (i / 5, 0.5) for i in range(6)}
    assert stacks(row, 1920, 1080)
    xs = sorted(x for x, _ in stretch(row, (100.0, 0.0, 900.0, 50.0)).values())
    assert xs[0] == pytest.approx(100.0) and xs[-1] == pytest.approx(900.0)


def test_stacked_sides_share_one_text_size_and_keep_inside_their_halves() -> None:
    """A stacked comparison at 1080p: both panels in one size, at least 18 px; each side's
    chip, panel and caption inside its half; one legend (the lower side's); the diff under
    the lower chip, inside the action-safe area; the frame is the output's size."""
    chain = load_dot(CHAIN)
    options = RenderOptions(layout="sfdp")
    naive, fixed = (simulate(chain, RunSpec(mode=mode)) for mode in (Mode.NAIVE, Mode.FIXED))
    a, b = label_runs((chain, naive), (chain, fixed))
    board = PairBoard(a, b, timed(naive), timed(fixed), options, 1920, 1080)
    assert board.stacked and board.chip.frame.shape[:2] == (1080, 1920)
    upper, lower = board.boards
    assert (upper.f.height, lower.f.height) == (540, 540) and not upper.legend and lower.legend
    for step in board.steps[:: max(1, len(board.steps) // 12)]:
        board.advance(step.end - 1e-6)
        assert upper.panel_size == lower.panel_size >= 18
    board.finish()
    board.chip.composite()
    assert upper.panel_size == lower.panel_size >= 18
    for side in board.boards:
        box = side._panel_box
        assert box is not None and box[3] <= side.f.panel_bottom + 1 and box[2] <= 0.96 * 1920
        assert side.f.chip[3] <= side.f.height
    diff = board.chip._diff
    assert diff is not None
    _, bottom, width = lower.f.caption
    assert diff.width <= width and 540 + lower.f.chip[3] < 540 + bottom - diff.height
    assert 540 + bottom <= 0.95 * 1080 + 1
