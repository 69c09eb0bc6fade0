"""Shared paths and helpers for the inkworm tests."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRAPHS = ROOT / "graphs"
CORPUS = Path(__file__).resolve().parent / "corpus"


def expect_text(topology_text: str, warnings: tuple[str, ...], where: str) -> str:
    """What a good-corpus ``.expect`` file holds: the seed-notation export, then warnings."""
    lines = [topology_text.rstrip("\n")]
    lines += ["// warning: " + w.replace(where, "FILE") for w in warnings]
    return "\n".join(lines) + "\n"


@pytest.fixture
def bowtie() -> Path:
    return GRAPHS / "bowtie.dot"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--inkworm-regen-golden", action="store_true",
                     help="Rewrite the golden frames under tests/golden/ instead of comparing.")


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--inkworm-regen-golden"))
