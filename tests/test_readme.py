"""Every ``$ inkworm ...`` command in the README runs, and prints what the README shows."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent


def console_examples(text: str) -> list[tuple[str, str]]:
    """(command, expected stdout) pairs from the README's ```console blocks."""
    examples: list[tuple[str, str]] = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            examples.append((command, output))
    return examples


EXAMPLES = console_examples((ROOT / "README.md").read_text(encoding="utf-8"))


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 6


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("readme")
    (work / "graphs").symlink_to(ROOT / "graphs")
    return work


@pytest.mark.parametrize(("command", "expected"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_readme_command(workdir: Path, command: str, expected: str) -> None:
    argv = shlex.split(command)
    assert argv[0] == "inkworm"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, env=env,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == expected
