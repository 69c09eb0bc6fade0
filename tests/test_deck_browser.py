"""The deck in a real browser: Debian's chromium, headless, with the network off.

Loads the self-contained deck from a file, steps through every slide with the keyboard, and
asserts that no request left the file, that each slide's video played to its end, that every
screenshot shows something, and that every slide carries speaker notes.
"""

from __future__ import annotations

import subprocess
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from conftest import CHROMIUM, GRAPHS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.render,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]
SPEED = 8.0
"""Videos play this many times faster than real time (to their end all the same)."""


DECKS = {
    "one run": (),
    "naive | fixed": ("--compare", str(GRAPHS / "bowtie.dot"), "--compare-mode", "fixed"),
}
"""The decks tested: a run, and a comparison (two chips side by side)."""


@pytest.fixture(scope="module", params=list(DECKS))
def deck(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deck") / "bowtie.html"
    proc = subprocess.run([sys.executable, "-m", "inkworm", "slides", str(GRAPHS / "bowtie.dot"),
                           "--mode", "naive", *DECKS[request.param], "-q", "l", "-o", str(out)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_deck_plays_offline_in_a_browser(deck: Path, page: Any) -> None:
    requests: list[str] = []

    def only_the_file(route: Any) -> None:
        url = route.request.url
        requests.append(url)
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", only_the_file)
    page.goto(deck.as_uri())
    page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=30_000)
    total = page.evaluate("Reveal.getTotalSlides()")
    assert total >= 9  # title, one per visit, the answers, the map
    said = []
    for number in range(total):
        assert page.evaluate("Reveal.getIndices().h") == number
        notes = page.evaluate("Reveal.getSlideNotes()")
        assert notes and len(notes) > 20, (number, notes)
        said.append(notes)
        played = page.evaluate(_PLAY_TO_END, SPEED)
        assert played["ended"], (number, played)
        assert played["duration"] > 0.4
        shot = np.asarray(Image.open(BytesIO(page.screenshot())).convert("L"), dtype=float)
        assert shot.std() > 10, f"slide {number} looks blank"
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
    outside = [url for url in requests if not url.startswith(("file:", "data:", "blob:"))]
    assert outside == []
    # the last slide's notes say what the map got wrong (a comparison: what differs)
    assert "a\u2013d, a\u2013e, a\u2013f" in said[-1] or "only naive reports: a\u2013d" in said[-1]


_PLAY_TO_END = """async (speed) => {
    const video = document.querySelector('.slide-background.present video');
    if (!video) return {ended: false, duration: 0, reason: 'no video'};
    if (video.readyState < 1)
        await new Promise(r => video.addEventListener('loadedmetadata', r, {once: true}));
    video.playbackRate = speed;
    if (video.paused && !video.ended) await video.play();
    const deadline = Date.now() + 60000;
    while (!video.ended && Date.now() < deadline) await new Promise(r => setTimeout(r, 50));
    const ended = video.ended, at = video.currentTime;
    // At 8x Chromium drops frames, and an ended video can stay on a dropped frame's
    // predecessor (a frame of the title's fade-in, 1 run in 3): show the last frame, what a
    // viewer playing at 1x sees when the slide's video ends.
    const shown = new Promise(r => {
        if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(() => r());
        setTimeout(r, 1000);
    });
    video.currentTime = Math.max(0, video.duration - 0.001);
    await shown;
    return {ended: ended, duration: video.duration, at: at};
}"""
