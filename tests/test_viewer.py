"""``inkworm view`` in Debian's chromium, offline: the page makes no request and logs no
error; its keys move ``data-seq`` as the controls say; the chip at ``#seq=N`` is the fold's
state at N (visited wells inked, the others not); the lanes hold an arrow a call, answer and
connection; the last event shows the map and the measurement's three spurious edges; a
300-node page steps (its time a step measured and printed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import GRAPHS, inkworm_run
from inkworm import load_trace
from inkworm.fold import state_at
from inkworm.trace import Call, Connect, ProbeStart, Return
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
