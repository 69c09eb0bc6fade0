"""Errors say whose fault they are: bad input exits 2, a missing or failing tool 3, a bug in
inkworm 70, each with one line on stderr and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GRAPHS
from inkworm.cli import INTERNAL_ERROR, main


def inkworm(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inkworm", *args], capture_output=True,
                          text=True, check=False, cwd=tmp_path, env={**os.environ, **env})


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.render
def test_an_explicit_neato_without_graphviz_is_a_tool_error(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = inkworm(tmp_path, "render", str(GRAPHS / "bowtie.dot"), "--layout", "neato",
                   "--format", "png", "-o", "x.png", PATH=str(empty))
    assert proc.returncode == 3
    assert "graphviz's neato is not installed" in one_line(proc)
    assert not (tmp_path / "x.png").exists()
    # 'auto' promises no program: it falls back to a seeded spring layout
    proc = inkworm(tmp_path, "render", str(GRAPHS / "bowtie.dot"), "--format", "png", "-o",
                   "y.png", PATH=str(empty))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "y.png").stat().st_size > 10_000


def test_recording_without_elixir_is_a_tool_error(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = inkworm(tmp_path, "record", str(GRAPHS / "bowtie.dot"), "-o", "t.jsonl",
                   PATH=str(empty))
    assert proc.returncode == 3
    assert "elixir/epmd not found" in one_line(proc)
    assert not (tmp_path / "t.jsonl").exists()


def test_a_bug_is_an_internal_error_not_bad_input(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    def broken(path: str) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr("inkworm.cli.inspect.load_input", broken)
    with pytest.raises(SystemExit) as info:
        main(["dot", str(GRAPHS / "bowtie.dot")])
    assert info.value.code == INTERNAL_ERROR == 70
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["inkworm: internal error (RuntimeError: boom); this is a bug in inkworm: "
                   "--debug shows the traceback"]
    with pytest.raises(RuntimeError, match="boom"):
        main(["--debug", "dot", str(GRAPHS / "bowtie.dot")])
