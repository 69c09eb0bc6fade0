"""``inkworm view`` in Debian's chromium, offline: the page makes no request and logs no
error; its keys move ``data-seq`` as the controls say; the chip at ``#seq=N`` is the fold's
state at N (visited wells inked, the others not); the lanes hold an arrow a call, answer and
connection; the last event shows the map and the measurement's three spurious edges; a
300-node page steps (its time a step measured and printed)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest

from conftest import GRAPHS, inkworm_run
from inkworm import Mode, RunSpec, load_dot, load_trace, simulate
from inkworm.fold import state_at
from inkworm.render.viewer import joint_steps, view_data
from inkworm.run import Fault, Faults
from inkworm.trace import Call, Connect, ProbeStart, Return, Trace
from test_html_safety import Watched, in_chromium

PAGES = {
    "bowtie naive": [str(GRAPHS / "bowtie.dot"), "--mode", "naive"],
    "recorded": [str(GRAPHS / "bowtie-naive.beam.jsonl")],
    "parallel": [str(GRAPHS / "ring_chords-parallel.beam.jsonl")],
}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Each page and the trace it shows (a DOT input's simulated again to a trace)."""
    work = tmp_path_factory.mktemp("view")
    out: dict[str, tuple[Path, Path]] = {}
    kill = work / "kill.jsonl"
    assert inkworm_run("simulate", str(GRAPHS / "bowtie.dot"), "--kill", "b", "--after", "d",
                       "-o", str(kill)).returncode == 0  # an ancestor stopped: an orphan walks
    big = work / "gen300.dot"
    assert inkworm_run("gen", "--nodes", "300", "--seed", "5", "-o", str(big)).returncode == 0
    for name, args in [*PAGES.items(), ("kill", [str(kill)]),
                       ("300 nodes", [str(big), "--mode", "naive"])]:
        page = work / f"{name.replace(' ', '-')}.html"
        trace = Path(args[0])
        if trace.suffix == ".dot":
            trace = work / f"{name.replace(' ', '-')}.jsonl"
            assert inkworm_run("simulate", *args, "-o", str(trace)).returncode == 0
        proc = inkworm_run("view", *args, "-o", str(page))
        assert proc.returncode == 0, proc.stderr
        out[name] = (page, trace)
    return out


def _open(page: Any, path: Path, fragment: str = "") -> Watched:
    watched = Watched()
    watched.watch(page)
    page.goto(path.as_uri() + fragment)
    page.wait_for_function("() => document.body.dataset.seq !== undefined", timeout=30_000)
    return watched


def _seq(page: Any) -> int:
    return int(page.evaluate("document.body.dataset.seq"))


@in_chromium
@pytest.mark.parametrize("name", [*PAGES, "kill"])
def test_the_page_runs_offline_and_its_keys_move_the_event(
        name: str, pages: dict[str, tuple[Path, Path]], page: Any) -> None:
    path, trace_path = pages[name]
    trace = load_trace(trace_path)
    seqs = [e.seq for e in trace.events]
    watched = _open(page, path)
    assert int(page.evaluate("document.body.dataset.events")) == len(seqs)
    assert _seq(page) == seqs[0]
    page.keyboard.press("ArrowRight")
    assert _seq(page) == seqs[1]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    assert _seq(page) == seqs[1]
    page.keyboard.press("Shift+ArrowRight")  # the next node's first probe
    firsts, seen = [], set()
    for e in trace.events:
        if isinstance(e, ProbeStart) and e.node not in seen:
            seen.add(e.node)
            firsts.append(e.seq)
    assert _seq(page) == next(s for s in firsts if s > seqs[1])
    page.keyboard.press("End")
    assert _seq(page) == seqs[-1] and page.url.endswith(f"#seq={seqs[-1]}")
    page.keyboard.press("Home")
    assert _seq(page) == seqs[0]
    page.keyboard.press("Space")  # plays, then pauses
    page.wait_for_timeout(900)
    page.keyboard.press("Space")
    assert _seq(page) > seqs[0]
    assert watched.requests == [] and watched.errors == [] and watched.dialogs == []


@in_chromium
@pytest.mark.parametrize("name", list(PAGES))
def test_the_chip_at_a_seq_is_the_folds_state_there(
        name: str, pages: dict[str, tuple[Path, Path]], page: Any) -> None:
    path, trace_path = pages[name]
    trace = load_trace(trace_path)
    for e in trace.events[:: max(1, len(trace.events) // 6)]:
        _open(page, path, f"#seq={e.seq}")
        assert _seq(page) == e.seq
        inked = set(page.eval_on_selector_all("#chip .well.visited",
                                              "els => els.map(x => x.dataset.node)"))
        state = state_at(trace, e.seq)
        assert state is not None and inked == set(state.visited)
        made = set(page.eval_on_selector_all(
            "#chip .channel.etched.on", "els => els.map(x => [x.dataset.a, x.dataset.b].sort()"
            ".join('-'))"))
        assert made <= {"-".join(p) for p in state.made}


@in_chromium
def test_the_lanes_hold_an_arrow_a_message_and_the_end_shows_the_spurious_edges(
        pages: dict[str, tuple[Path, Path]], page: Any) -> None:
    path, trace_path = pages["bowtie naive"]
    trace = load_trace(trace_path)
    _open(page, path)
    kinds = page.eval_on_selector_all("#lanes .arrow", "els => els.map(x => x.dataset.kind)")
    assert kinds.count("call") == sum(isinstance(e, Call) for e in trace.events) == 5
    assert kinds.count("return") == sum(isinstance(e, Return) for e in trace.events) == 5
    assert kinds.count("connect") == sum(isinstance(e, Connect) for e in trace.events) == 6
    page.keyboard.press("End")
    assert page.inner_text("#panel .spurious") == "a\u2013d a\u2013e a\u2013f"
    assert "3 edges not in the topology" in page.inner_text("#panel")
    page.click("#lanes .dot >> nth=10")  # clicking an event moves there
    assert _seq(page) == trace.events[10].seq
    page.click("#chip .well[data-node='e']")  # and a well, to its first probe
    assert _seq(page) == next(x.seq for x in trace.events
                              if isinstance(x, ProbeStart) and x.node == "e")


@in_chromium
def test_a_300_node_page_steps_and_its_step_time_is_measured(
        pages: dict[str, tuple[Path, Path]], page: Any) -> None:
    path, trace_path = pages["300 nodes"]
    watched = _open(page, path)
    start = _seq(page)
    ms = page.evaluate("""() => {
        const t = performance.now();
        for (let i = 0; i < 40; i++)
            document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight'}));
        return (performance.now() - t) / 40;
    }""")
    assert _seq(page) == load_trace(trace_path).events[40].seq and start == 0
    print(json.dumps({"300-node step ms": round(ms, 2)}))
    assert watched.errors == [] and watched.requests == []


@in_chromium
def test_the_light_theme_is_a_white_page(tmp_path: Path, page: Any) -> None:
    out = tmp_path / "light.html"
    assert inkworm_run("view", str(GRAPHS / "bowtie.dot"), "--theme", "light", "-o",
                       str(out)).returncode == 0
    _open(page, out)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == \
        "rgb(255, 255, 255)"


def test_render_to_an_html_file_writes_the_viewer_and_refuses_a_videos_options(
        tmp_path: Path) -> None:
    """``render -o x.html`` (or ``--format html``) is the viewer's page; an option only a video
    takes is one line and exit 2, with nothing written."""
    page = tmp_path / "x.html"
    proc = inkworm_run("render", str(GRAPHS / "bowtie.dot"), "--mode", "naive", "-o", str(page))
    assert proc.returncode == 0, proc.stderr
    html = page.read_text(encoding="utf-8")
    assert '<script type="application/json" id="run">' in html and "Content-Security-Policy" in html
    refused = tmp_path / "y.html"
    proc = inkworm_run("render", str(GRAPHS / "bowtie.dot"), "--format", "html", "--pace", "2",
                       "-o", str(refused))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "--pace does not apply to --format html" in proc.stderr and not refused.exists()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Trace, Trace]:
    """The bowtie's naive | fixed comparison as a page, and its two runs' traces."""
    work = tmp_path_factory.mktemp("pair")
    traces = []
    for mode in ("naive", "fixed"):
        trace = work / f"{mode}.jsonl"
        assert inkworm_run("simulate", str(GRAPHS / "bowtie.dot"), "--mode", mode, "-o",
                           str(trace)).returncode == 0
        traces.append(load_trace(trace))
    path = work / "pair.html"
    proc = inkworm_run("view", str(GRAPHS / "bowtie.dot"), "--mode", "naive", "--compare",
                       str(GRAPHS / "bowtie.dot"), "--compare-mode", "fixed", "-o", str(path))
    assert proc.returncode == 0, proc.stderr
    return path, traces[0], traces[1]


def _first_probes(trace: Trace) -> dict[str, int]:
    """Each node's first probe start, as an event index."""
    out: dict[str, int] = {}
    for i, e in enumerate(trace.events):
        if isinstance(e, ProbeStart):
            out.setdefault(e.node, i)
    return out


def test_joint_steps_cover_both_runs_in_order_and_start_matched_visits_together() -> None:
    """Every event of each run is shown, in order, one side moving a step at least; a node
    both runs visit is first probed on both sides at the same step; a visit only one run
    makes (the naive run's orphan after a kill) moves that side alone."""
    bowtie = load_dot(GRAPHS / "bowtie.dot")
    runs = [simulate(bowtie, RunSpec(mode=Mode.NAIVE)), simulate(bowtie, RunSpec(mode=Mode.FIXED)),
            simulate(bowtie, faults=Faults(kill=Fault("b", "d")))]
    for a, b in [(runs[0], runs[1]), (runs[1], runs[2]), (runs[2], runs[0])]:
        steps = joint_steps(a, b)
        assert steps[0] == (0, 0) and steps[-1] == (len(a.events) - 1, len(b.events) - 1)
        for side, trace in ((0, a), (1, b)):
            shown = [s[side] for s in steps]
            assert sorted(set(shown)) == list(range(len(trace.events)))
            assert all(0 <= y - x <= 1 for x, y in itertools.pairwise(shown))
        assert all(x != y for x, y in itertools.pairwise(steps))
        pa, pb = _first_probes(a), _first_probes(b)
        for node in pa.keys() & pb.keys():
            at_a = next(k for k, s in enumerate(steps) if s[0] == pa[node])
            at_b = next(k for k, s in enumerate(steps) if s[1] == pb[node])
            assert at_a == at_b, node


@in_chromium
def test_a_comparison_steps_both_chips_on_one_track_and_ends_on_the_maps_diff(
        pair: tuple[Path, Trace, Trace], page: Any) -> None:
    """``view --compare``: two chips, panels and lanes; ``data-seq`` is the step on the joint
    track, ``data-seq-a``/``-b`` each side's seq, each chip the fold's state at its seq; the
    last step shows both maps and their diff; no request, no error."""
    path, naive, fixed = pair
    steps = joint_steps(naive, fixed)
    watched = _open(page, path)
    assert int(page.evaluate("document.body.dataset.events")) == len(steps)
    for k in range(0, len(steps), 7):
        page.evaluate(f"location.hash = '#seq={k}'")
        page.wait_for_function(f"() => document.body.dataset.seq === '{k}'")
        for suffix, trace, i in (("a", naive, steps[k][0]), ("b", fixed, steps[k][1])):
            seq = trace.events[i].seq
            assert int(page.evaluate(f"document.body.dataset.seq{suffix.upper()}")) == seq
            inked = set(page.eval_on_selector_all(f"#chip-{suffix} .well.visited",
                                                  "els => els.map(x => x.dataset.node)"))
            state = state_at(trace, seq)
            assert state is not None and inked == set(state.visited), (k, suffix)
    page.keyboard.press("Home")
    page.keyboard.press("Shift+ArrowRight")  # b: the next visit, on both sides at once
    k = _seq(page)
    assert steps[k] == (_first_probes(naive)["b"], _first_probes(fixed)["b"])
    page.keyboard.press("End")
    assert page.inner_text("#panel-a .spurious") == "a\u2013d a\u2013e a\u2013f"
    assert page.inner_text("#panel-b .good") == "\u2014"
    assert "= the topology" in page.inner_text("#panel-b")
    assert page.text_content("#caption") == \
        "edges only naive reports: a\u2013d a\u2013e a\u2013f   \u00b7   only fixed reports: none"
    page.click("#chip-b .well[data-node='e']")  # a well of one side: its first probe there
    assert steps[_seq(page)][1] == _first_probes(fixed)["e"]
    page.click("#lanes-a .dot >> nth=3")
    assert steps[_seq(page)][0] == 3
    assert watched.requests == [] and watched.errors == [] and watched.dialogs == []


def test_render_html_takes_compare_and_compare_mode_needs_compare(tmp_path: Path) -> None:
    """``render --format html --compare`` is the comparison's page; ``--compare-mode``
    without ``--compare`` is refused in one line, with nothing written."""
    out = tmp_path / "p.html"
    proc = inkworm_run("render", str(GRAPHS / "bowtie.dot"), "--compare",
                       str(GRAPHS / "bowtie-naive.beam.jsonl"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8").split('id="run">')[1].split("</script>")[0])
    assert [s["label"] for s in data["sides"]] == ["simulated", "recorded"]
    assert len(data["joint"]) >= max(len(s["events"]) for s in data["sides"])
    lonely = tmp_path / "q.html"
    proc = inkworm_run("view", str(GRAPHS / "bowtie.dot"), "--compare-mode", "fixed",
                       "-o", str(lonely))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and not lonely.exists()
    assert "--compare-mode goes with --compare" in proc.stderr


@pytest.mark.parametrize("graph", ["prod_hosts", "bowtie", "office", "ring_chords"])
def test_no_channel_hooks_back_into_a_well_it_has_left(graph: str) -> None:
    """A route that has left its start well never comes back into it, nor into its end well
    once it has been there: the router's cubic detour once passed through cache@cache-01 and
    hooked back into it from beyond (prod_hosts' naive api@web-01 to cache@cache-01)."""
    topology = load_dot(GRAPHS / f"{graph}.dot")
    chip = view_data(topology, simulate(topology, RunSpec(mode=Mode.NAIVE)))["chip"]
    wells = {w["name"]: (w["x"], w["y"]) for w in chip["wells"]}
    for channel in chip["channels"]:
        line = [tuple(map(float, p.split(","))) for p in channel["d"][1:].split(" L")]
        for end, points in ((channel["a"], line), (channel["b"], line[::-1])):
            x0, y0 = wells[end]
            inside = [math.hypot(x - x0, y - y0) < chip["radius"] * 1.2 for x, y in points]
            back = inside.index(False) if False in inside else len(inside)
            assert not any(inside[back:]), (channel["a"], channel["b"], end)
