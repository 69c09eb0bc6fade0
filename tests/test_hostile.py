"""Hostile inputs (tests/corpus/hostile.tsv): every command answers bad input with one line
naming the file, the line and the problem, exit code 2, no traceback, and nothing written at
the output path. Rows with exit 1 are valid traces whose run breaks an ordering rule."""

from __future__ import annotations

import dataclasses
import shlex
import shutil
from pathlib import Path

import pytest

from conftest import CORPUS, GRAPHS
from inkworm import Mode, load_dot, load_trace, save_trace, simulate
from inkworm.cli import main
from inkworm.render.video import default_output
from inkworm.views import topology_of

ROWS = [line.split("\t") for line in
        (CORPUS / "hostile.tsv").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")]


def test_the_corpus_is_large() -> None:
    assert len(ROWS) >= 60
    assert len({row[0] for row in ROWS}) == len(ROWS)


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 50 MB DOT file, made once (not kept in the repository)."""
    path = tmp_path_factory.mktemp("huge") / "huge.dot"
    line = b"  n%07d -- n%07d;\n"
    with path.open("wb") as out:
        out.write(b"graph G {\n")
        i = 0
        while out.tell() < 50 * 2**20:
            out.write(b"".join(line % (j, j + 1) for j in range(i, i + 10_000)))
            i += 10_000
        out.write(b"}\n")
    return path


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_hostile_input(row: list[str], tmp_path: Path, huge: Path,
                       capsys: pytest.CaptureFixture[str]) -> None:
    _, exit_code, expect, command = row
    out = tmp_path / "out" / "result.file"
    command = command.format(c=CORPUS, h=CORPUS / "hostile", g=GRAPHS, out=out)
    command = command.replace(str(CORPUS / "hostile" / "huge.dot"), str(huge))
    with pytest.raises(SystemExit) as info:
        main(shlex.split(command))
    stdout, stderr = capsys.readouterr()
    assert info.value.code == int(exit_code), stderr
    assert "Traceback" not in stderr + stdout
    if int(exit_code) == 2:
        assert len(stderr.strip().splitlines()) == 1, stderr
        assert expect in stderr, stderr
    else:
        assert expect in stdout, stdout
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())


WEIRD_BUT_VALID = ["html_ports_unicode.dot", "long_name.dot", "directed.dot"]


@pytest.mark.render
@pytest.mark.parametrize("name", [*WEIRD_BUT_VALID, "disconnected", "single"])
def test_strange_but_valid_inputs_simulate_and_render(name: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = (CORPUS / "hostile" / name if name.endswith(".dot")
            else CORPUS / "dot" / "good" / f"{name}.dot")
    for args in (["simulate", str(path), "-o", str(tmp_path / "t.jsonl")],
                 ["render", str(path), "--format", "png", "-o", str(tmp_path / "f.png")]):
        with pytest.raises(SystemExit) as info:
            main(args)
        _, err = capsys.readouterr()
        assert info.value.code == 0, err
    assert (tmp_path / "f.png").stat().st_size > 10_000


def test_names_inside_a_trace_never_choose_paths(tmp_path: Path) -> None:
    """A header's graph '../../x/bowtie.dot' is looked up by file name only, and the default
    output is named after the file the user gave."""
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), mode=Mode.NAIVE)
    trace.header = dataclasses.replace(trace.header, graph="../../../../etc/bowtie.dot")
    path = tmp_path / "evil.jsonl"
    save_trace(trace, path)
    assert topology_of(load_trace(path), path).name == "derived"  # nothing beside it
    shutil.copy(GRAPHS / "bowtie.dot", tmp_path / "bowtie.dot")
    assert topology_of(load_trace(path), path).path == str(tmp_path / "bowtie.dot")
    assert default_output(str(path), trace, "mp4") == Path("renders/evil-naive.mp4")


def test_a_fixed_probe_log_is_a_valid_trace(capsys: pytest.CaptureFixture[str]) -> None:
    """With the fixed probe only the launcher's greeting reaches its console."""
    from inkworm import check
    from inkworm.importlog import import_log

    trace = import_log(CORPUS / "hostile" / "fixed_mode.log", Mode.FIXED)
    assert check(trace) == []


def test_outputs_get_the_usual_file_mode(tmp_path: Path) -> None:
    import os

    old = os.umask(0o022)
    try:
        with pytest.raises(SystemExit):
            main(["simulate", str(GRAPHS / "bowtie.dot"), "-o", str(tmp_path / "t.jsonl")])
    finally:
        os.umask(old)
    assert (tmp_path / "t.jsonl").stat().st_mode & 0o777 == 0o644


def test_a_huge_trace_is_refused_before_writing(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """30,000 greetings: a 0.5 MB log whose trace v1 would be ~4 GB (quadratic visited sets)."""
    log = tmp_path / "big.log"
    greetings = "\n".join(f"Hello from n{i}" for i in range(1, 30_000))
    log.write_text(f"Launching from n0\n{greetings}\n%{{n0: []}}\n", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["import-log", str(log), "-o", str(tmp_path / "big.jsonl")])
    _, err = capsys.readouterr()
    assert info.value.code == 2
    assert "inkworm: the trace would be ~3." in err and "GiB" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.log"]


def test_dot_export_is_stable_with_backslashes() -> None:
    from inkworm import parse_dot, to_dot

    once = to_dot(parse_dot('graph { "a\\\\b" -- c; }'))
    assert to_dot(parse_dot(once)) == once
