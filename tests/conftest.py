"""Shared paths and helpers for the inkworm tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRAPHS = ROOT / "graphs"
CORPUS = Path(__file__).resolve().parent / "corpus"
CHROMIUM = shutil.which("chromium")
"""Debian's chromium, which the browser tests drive headless (never playwright's download)."""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--autoplay-policy=no-user-gesture-required"]


def inkworm_run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A real ``inkworm`` process with ``args``: its exit code, stdout and stderr."""
    return subprocess.run([sys.executable, "-m", "inkworm", *args], capture_output=True,
                          text=True, check=False, cwd=cwd)


def inkworm_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``inkworm ARGS`` run in this process (:func:`inkworm.cli.main`): its exit code,
    stdout and stderr."""
    from inkworm.cli import main

    with pytest.raises(SystemExit) as info:
        main(list(args))
    out, err = capsys.readouterr()
    return int(info.value.code or 0), out, err


@pytest.fixture
def page() -> Iterator[Any]:
    """A page of a fresh headless chromium at 960x540."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                     headless=True)
        context = browser.new_context(viewport={"width": 960, "height": 540})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def expect_text(topology_text: str, warnings: tuple[str, ...], where: str) -> str:
    """What a good-corpus ``.expect`` file holds: the seed-notation export, then warnings."""
    lines = [topology_text.rstrip("\n")]
    lines += ["// warning: " + w.replace(where, "FILE") for w in warnings]
    return "\n".join(lines) + "\n"


def assert_corpus_error(path: Path, load: Callable[[Path], object]) -> None:
    """``load(path)`` fails with the one line its ``.err`` file holds: ``LOCATION|message``,
    the location being what follows the path (``:3:5``, ``:2`` or nothing)."""
    from inkworm import InputError

    where, _, message = path.with_suffix(".err").read_text(encoding="utf-8").strip().partition("|")
    with pytest.raises(InputError) as info:
        load(path)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{path}{where}: "), text
    assert message in text, text


@pytest.fixture
def bowtie() -> Path:
    return GRAPHS / "bowtie.dot"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--inkworm-regen-golden", action="store_true",
                     help="Rewrite the golden frames under tests/golden/ instead of comparing.")


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--inkworm-regen-golden"))
