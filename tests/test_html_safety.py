"""Names are data in every HTML and WebVTT file inkworm writes (issue 26).

A DOT file (tests/corpus/hostile/html_names.dot) and a trace whose header was edited carry
names an adversary would pick: ``<script>``, ``</aside><script>``, an attribute break-out, an
``<img onerror>``, a markdown ``javascript:`` link, ``-->`` and WebVTT tags, U+2028/2029 and a
200-character name. Each payload, if it ran, would set ``window.inkwormPwned``. The deck made
from them is opened in Debian's chromium with the network off: no payload runs, no dialog
opens, no console error is printed, and the notes (in the deck and in reveal.js's speaker view)
show the names as written. The WebVTT files are parsed by the same browser, and the MP4's
subtitle track by FFmpeg.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import CHROMIUM, CORPUS, inkworm_run
from inkworm import load_dot
from inkworm.safe import (
    WORD_JOINER,
    content_security_policy,
    css_string,
    html_text,
    inline_scripts,
    mov_text_text,
    script_json,
    vtt_text,
    with_csp,
)

HOSTILE_DOT = CORPUS / "hostile" / "html_names.dot"
HOSTILE_GRAPH_NAME = "</title><script>window.inkwormPwned=10</script>"
HOSTILE_HOST = '<b onmouseover="window.inkwormPwned=11">host</b>'


def hostile_names() -> list[str]:
    return sorted(load_dot(HOSTILE_DOT).nodes)


def test_the_corpus_holds_every_kind_of_payload() -> None:
    names = hostile_names()
    joined = "".join(names)
    for payload in ("<script>", "</aside><script>", '" onmouseover="', "<img src=x onerror=",
                    "](javascript:", "-->", "<c.yellow>", "*em*"):
        assert payload in joined, payload
    assert max(map(len, names)) == 200
    assert "\u2028" in HOSTILE_DOT.read_text(encoding="utf-8")  # in the graph's name


# -- the helpers, one per context ------------------------------------------------------------

@given(st.recursive(st.text() | st.integers() | st.none(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
                    max_leaves=8))
def test_script_json_is_the_same_value_and_nothing_the_html_parser_reads(value: Any) -> None:
    text = script_json(value)
    assert json.loads(text) == value
    assert not set(text) & set("<>&\u2028\u2029")


@given(st.text())
def test_vtt_text_can_neither_end_nor_tag_a_cue(text: str) -> None:
    cooked = vtt_text(text)
    assert "<" not in cooked and ">" not in cooked and "-->" not in cooked
    assert html.unescape(cooked) == text


@given(st.text())
def test_html_text_shows_as_written(text: str) -> None:
    cooked = html_text(text)
    assert not set(cooked) & set("<>\"'")
    assert html.unescape(cooked) == text


def test_css_string_escapes_everything_but_letters_digits_and_spaces() -> None:
    assert css_string('a"}</style>b 1') == '"a\\22 \\7d \\3c \\2f style\\3e b 1"'


def test_mov_text_keeps_a_backslash_from_starting_an_ass_escape() -> None:
    assert mov_text_text("a\\Nb") == "a\\" + WORD_JOINER + "Nb"
    assert mov_text_text("plain <b>") == "plain <b>"
    assert mov_text_text("{x}") == "\uff5bx\uff5d"


def test_the_policy_allows_exactly_the_documents_own_inline_scripts() -> None:
    document = ("<!doctype html><html><head><script>one()</script>"
                '<script src="x.js"></script></head><body><script>two()</script></body></html>')
    assert inline_scripts(document) == ["one()", "two()"]
    out = with_csp(document, ["three()"])
    assert out.index("Content-Security-Policy") < out.index("<script>")
    policy = html.unescape(out.split('content="', 1)[1].split('"', 1)[0])
    assert policy == content_security_policy(["one()", "two()", "three()"])
    for body in ("one()", "two()", "three()"):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy
    assert "http" not in policy


def test_the_speaker_view_script_is_read_as_javascript_reads_it() -> None:
    from inkworm.render.slides import speaker_view_script

    script = speaker_view_script()
    assert "connection-status" in script
    assert "var urlSeparator = /\\?/.test(data.url)" in script  # the literal's \\? is \?
    assert "<\\/script>" not in script and "</script" not in script


# -- the files, in a real browser --------------------------------------------------------------

@dataclass
class Watched:
    """What a page did that it must not: requests off the file, dialogs, console errors."""

    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        def only_the_file(route: Any) -> None:
            url = route.request.url
            if url.startswith(("file:", "data:", "blob:", "about:")):
                route.continue_()
            else:
                self.requests.append(url)
                route.abort()

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        page.route("**/*", only_the_file)
        page.on("dialog", dialog)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))


def inkworm(*args: str) -> None:
    proc = inkworm_run(*args)
    assert proc.returncode == 0, proc.stderr


def hostile_trace(tmp: Path) -> Path:
    """The hostile DOT's run as a trace, its header's graph and host edited to payloads."""
    plain = tmp / "plain.jsonl"
    inkworm("simulate", str(HOSTILE_DOT), "--mode", "naive", "-o", str(plain))
    header, *events = plain.read_text(encoding="utf-8").splitlines()
    head = json.loads(header)
    head["graph"] = HOSTILE_GRAPH_NAME
    head["meta"]["host"] = HOSTILE_HOST
    edited = tmp / "edited.jsonl"
    edited.write_text("\n".join([json.dumps(head), *events]) + "\n", encoding="utf-8")
    return edited


def in_chromium(test: Any) -> Any:
    """Marks a test that drives Debian's chromium (skipped where it is not installed)."""
    for mark in (pytest.mark.browser, pytest.mark.render,
                 pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")):
        test = mark(test)
    return test


def opened(page: Any, deck: Path) -> Watched:
    """``deck`` opened in ``page``, watched, reveal.js ready."""
    watched = Watched()
    watched.watch(page)
    page.goto(deck.as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
    return watched


@pytest.fixture(scope="module", params=["dot", "trace"])
def hostile_deck(request: pytest.FixtureRequest,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    tmp = tmp_path_factory.mktemp("hostile-deck")
    source = HOSTILE_DOT if request.param == "dot" else hostile_trace(tmp)
    out = tmp / "deck.html"
    inkworm("slides", str(source), "--mode", "naive", "-q", "l", "-o", str(out))
    yield request.param, out


_PAGE_FACTS = """() => ({
    pwned: window.inkwormPwned,
    title: document.title,
    csp: !!document.querySelector('meta[http-equiv="Content-Security-Policy"]'),
    slideScripts: document.querySelectorAll('.reveal script').length,
    images: document.querySelectorAll('.slides img').length,
    handlers: Array.from(document.querySelectorAll('*')).flatMap(
        el => Array.from(el.attributes).filter(a => a.name.startsWith('on')).map(a => a.name)),
    notes: Array.from(document.querySelectorAll('aside.notes')).map(a => a.textContent),
    noteElements: document.querySelectorAll('aside.notes *').length,
})"""


@in_chromium
def test_no_name_runs_in_the_deck_and_every_name_reads_as_written(
        hostile_deck: tuple[str, Path], page: Any) -> None:
    kind, deck = hostile_deck
    watched = opened(page, deck)
    for _slide in range(page.evaluate("Reveal.getTotalSlides()")):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(60)
    facts = page.evaluate(_PAGE_FACTS)
    assert facts["pwned"] is None
    assert facts["csp"]
    assert facts["slideScripts"] == 0 and facts["images"] == 0 and facts["handlers"] == []
    assert facts["noteElements"] == 0  # notes are text, not markdown or markup
    said = "\n".join(facts["notes"])
    for name in hostile_names():
        assert name in said, name
    if kind == "trace":
        assert facts["title"] == f"inkworm: {HOSTILE_GRAPH_NAME}"
    assert watched.dialogs == [] and watched.errors == [] and watched.requests == []


@in_chromium
def test_the_speaker_view_runs_and_shows_the_names_as_written(
        hostile_deck: tuple[str, Path], page: Any) -> None:
    _, deck = hostile_deck
    watched = opened(page, deck)
    with page.context.expect_page() as popup_info:
        page.keyboard.press("s")
    popup = popup_info.value
    seen = Watched()
    seen.watch(popup)
    popup.wait_for_function(
        "() => document.querySelector('.speaker-controls-notes .value')?.textContent.length > 20",
        timeout=15_000)
    shown = popup.evaluate("document.querySelector('.speaker-controls-notes .value').textContent")
    assert "<script>window.inkwormPwned=1</script>" in shown
    assert popup.evaluate("window.inkwormPwned") is None
    assert page.evaluate("window.inkwormPwned") is None
    assert watched.errors == [] and seen.errors == [] and watched.dialogs == []


@in_chromium
def test_the_policy_stops_a_script_that_escaping_missed(
        hostile_deck: tuple[str, Path], page: Any, tmp_path: Path) -> None:
    _, deck = hostile_deck
    text = deck.read_text(encoding="utf-8")
    before, mark, after = text.rpartition('<div class="slides">')  # the body's, not a script's
    missed = (before + mark + "<script>window.inkwormPwned=20</script>"
              '<img src="data:," onerror="window.inkwormPwned=21">'
              '<img src="http://127.0.0.1:9/x.png">' + after)
    assert missed != text
    bad = tmp_path / "missed.html"
    bad.write_text(missed, encoding="utf-8")
    watched = opened(page, bad)
    assert page.evaluate("window.inkwormPwned") is None
    assert any("Content Security Policy" in e for e in watched.errors), watched.errors
    assert watched.requests == []  # the policy stopped the image before any request


@pytest.fixture(scope="module")
def hostile_video(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("hostile-video")
    files = {"mp4": tmp / "run.mp4", "subtitles": tmp / "run.vtt", "chapters": tmp / "ch.vtt"}
    inkworm("render", str(HOSTILE_DOT), "--mode", "naive", "-q", "l", "-o", str(files["mp4"]),
            "--subtitles", str(files["subtitles"]), "--chapters", str(files["chapters"]),
            "--embed-subtitles")
    return files


_PARSE_VTT = """async (text) => {
    const video = document.createElement('video');
    document.body.appendChild(video);
    const track = document.createElement('track');
    track.kind = 'subtitles';
    track.src = URL.createObjectURL(new Blob([text], {type: 'text/vtt'}));
    video.appendChild(track);
    track.track.mode = 'hidden';
    const ok = await new Promise(r => {
        track.addEventListener('load', () => r(true));
        track.addEventListener('error', () => r(false));
    });
    return {ok: ok, cues: Array.from(track.track.cues || []).map(c => {
        const shown = c.getCueAsHTML();
        return {start: c.startTime, end: c.endTime, shown: shown.textContent,
                elements: shown.querySelectorAll('*').length};
    })};
}"""


def subtitle_track(mp4: Path) -> list[str]:
    """The MP4's subtitle samples as FFmpeg decodes them."""
    import av

    texts = []
    with av.open(str(mp4)) as container:
        for packet in container.demux(container.streams.subtitles[0]):
            for sub in packet.decode():
                texts.append(sub.dialogue.decode().replace(WORD_JOINER, ""))
    return texts


@in_chromium
def test_the_webvtt_files_and_the_mp4_track_carry_names_as_data(
        hostile_video: dict[str, Path], page: Any) -> None:
    page.set_content("<!doctype html><body></body>")
    parsed = {kind: page.evaluate(_PARSE_VTT, hostile_video[kind].read_text(encoding="utf-8"))
              for kind in ("subtitles", "chapters")}
    for kind, result in parsed.items():
        assert result["ok"], kind
        assert result["cues"], kind
        assert all(cue["elements"] == 0 for cue in result["cues"]), kind  # no tag took hold
        assert all(cue["end"] > cue["start"] for cue in result["cues"]), kind
    captions = [cue["shown"] for cue in parsed["subtitles"]["cues"]]
    assert captions == subtitle_track(hostile_video["mp4"])  # two formats, one text
    said = "\n".join(captions)
    for name in hostile_names():
        assert name in said, name
    chapters = [cue["shown"] for cue in parsed["chapters"]["cues"]]
    assert chapters[0] == "visit <script>window.inkwormPwned=1</script>"
    assert any("a --> b <b>bold</b> <c.yellow>c</c> &amp;" in c for c in chapters)


def test_a_backslash_in_a_caption_reaches_the_mp4_track_as_written(tmp_path: Path) -> None:
    """FFmpeg reads a mov_text sample as ASS, where ``\\N`` would break the line and
    ``{x}`` would vanish."""
    pytest.importorskip("av")
    from inkworm.render.subtitles import Cue, embed

    video = still_video(tmp_path)
    out = embed(video, [Cue(0.0, 0.5, "a\\Nb \\h {x}")], tmp_path / "with-track.mp4")
    assert subtitle_track(out) == ["a\\Nb \\h \uff5bx\uff5d"]  # ASS hides {...}: shown, alike


def still_video(tmp: Path) -> Path:
    """A short real MP4 to embed a track into: one second of a still, encoded by PyAV."""
    import av
    import numpy as np

    path = tmp / "still.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for _ in range(10):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
