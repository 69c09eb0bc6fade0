"""Hostile inputs (tests/corpus/hostile.tsv): every command answers bad input with one line
naming the file, the line and the problem, exit code 2, no traceback, and nothing written at
the output path. Rows with exit 1 are valid traces whose run breaks an ordering rule."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import itertools
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPUS, GRAPHS
from conftest import inkworm_main as run_cli
from inkworm import Mode, load_dot, load_trace, save_trace, simulate
from inkworm.cli import main
from inkworm.output import atomic_text
from inkworm.render.video import default_output
from inkworm.run import RunSpec
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
    assert not out.parent.exists(), "nothing written, not even the output's folder"


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
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=Mode.NAIVE))
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


def test_a_quadratic_trace_is_linear_in_v2(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """30,000 greetings: a 0.5 MB log whose trace v1 would be ~4 GB (the visited set repeated
    in every event); v2 writes the sets by reference, so the trace stays small."""
    log = tmp_path / "big.log"
    greetings = "\n".join(f"Hello from n{i}" for i in range(1, 30_000))
    log.write_text(f"Launching from n0\n{greetings}\n%{{n0: []}}\n", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["import-log", str(log), "-o", str(tmp_path / "big.jsonl")])
    _, err = capsys.readouterr()
    assert info.value.code == 0, err
    assert (tmp_path / "big.jsonl").stat().st_size < 3 * 2**20
    assert len(load_trace(tmp_path / "big.jsonl").events) == 30_001  # the probes and the map


def test_dot_export_is_stable_with_backslashes() -> None:
    from inkworm import parse_dot, to_dot

    once = to_dot(parse_dot('graph { "a\\\\b" -- c; }'))
    assert to_dot(parse_dot(once)) == once


# --- outputs never destroy anything ------------------------------------------------------------


def refused(capsys: pytest.CaptureFixture[str], expect: str, *args: str) -> None:
    """The command exits 2 with one line on stderr holding ``expect``."""
    code, _, err = run_cli(capsys, *args)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1, err
    assert expect in err, err


# every command that writes with -o, with the input it reads
WRITERS = [
    ("simulate", str(GRAPHS / "bowtie.dot")),
    ("dot", str(GRAPHS / "bowtie.dot")),
    ("import-log", str(CORPUS / "hostile" / "fixed_mode.log")),
    ("gen", "--nodes=3"),
    ("render", str(GRAPHS / "bowtie.dot")),
    ("slides", str(GRAPHS / "bowtie.dot")),
]


@pytest.mark.parametrize(("command", "source"), WRITERS, ids=[w[0] for w in WRITERS])
def test_a_fifo_output_stays_a_fifo(command: str, source: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    for target in (fifo, link):
        refused(capsys, "is a FIFO, not a regular file", command, source, "-o", str(target))
        assert stat.S_ISFIFO(fifo.stat().st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link"]


def test_a_device_output_stays_a_device(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A null device made here, never the real /dev/null (a broken check would replace it)."""
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device needs root")
    link = tmp_path / "null-link"
    link.symlink_to(device)
    for target in (device, link):
        refused(capsys, "is a character device, not a regular file", "gen", "--nodes", "3",
                "-o", str(target))
        assert stat.S_ISCHR(device.stat().st_mode)


@pytest.mark.parametrize("how", ["same path", "symlink", "hard link"])
@pytest.mark.parametrize(("command", "name"), [
    ("simulate", "g.dot"), ("dot", "g.dot"), ("render", "t.jsonl"), ("slides", "t.jsonl"),
    ("import-log", "run.log"), ("render --graph", "g.dot"),
])
def test_an_output_is_never_an_input(command: str, name: str, how: str, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(GRAPHS / "bowtie.dot", tmp_path / "g.dot")
    save_trace(simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=Mode.NAIVE)),
               tmp_path / "t.jsonl")
    shutil.copy(CORPUS / "hostile" / "fixed_mode.log", tmp_path / "run.log")
    source = tmp_path / name
    before = source.read_bytes()
    target = tmp_path / "out"
    if how == "same path":
        target = source
    elif how == "symlink":
        target.symlink_to(source)
    else:
        os.link(source, target)
    args = [command, str(source)]
    if command == "render --graph":
        args = ["render", str(tmp_path / "t.jsonl"), "--graph", str(source)]
    refused(capsys, "inkworm never writes over what it reads", *args, "-o", str(target))
    assert source.read_bytes() == before
    assert how != "hard link" or source.stat().st_nlink == 2


def test_an_output_beside_a_trace_never_replaces_its_graph(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The DOT file a trace's header names beside it is an input of render, too (here one
    named like a still, so that the output's extension alone does not refuse it)."""
    graph = tmp_path / "cluster.png"
    shutil.copy(GRAPHS / "bowtie.dot", graph)
    save_trace(simulate(load_dot(graph), RunSpec(mode=Mode.NAIVE)), tmp_path / "t.jsonl")
    before = graph.read_bytes()
    refused(capsys, "is the input", "render", str(tmp_path / "t.jsonl"), "-o", str(graph))
    assert graph.read_bytes() == before
    refused(capsys, "no format has the extension .dot", "render", str(tmp_path / "t.jsonl"),
            "-o", str(tmp_path / "bowtie.dot"))


def test_the_snapshot_is_never_the_trace(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "t.jsonl"
    save_trace(simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=Mode.NAIVE)), trace)
    before = trace.read_bytes()
    refused(capsys, "is the input", "check", str(trace), "--snapshot", str(trace), "--update")
    assert trace.read_bytes() == before


@pytest.mark.parametrize("command", ["simulate", "render"])
def test_no_output_through_a_dangling_symlink(command: str, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "link.out"
    link.symlink_to(tmp_path / "nowhere" / "deep" / "t.out")
    folder_link = tmp_path / "folder"
    folder_link.symlink_to(tmp_path / "gone")
    for target in (link, folder_link / "t.out"):
        refused(capsys, "goes through a dangling symlink", command, str(GRAPHS / "bowtie.dot"),
                "-o", str(target))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "link.out"]


def test_missing_folders_of_a_plain_output_are_made(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Users rely on renders/ being created; a failed command removes what it made."""
    target = tmp_path / "renders" / "new" / "t.jsonl"
    code, _, err = run_cli(capsys, "simulate", str(GRAPHS / "bowtie.dot"), "-o", str(target))
    assert code == 0, err
    assert target.is_file()
    failed = tmp_path / "other" / "deeper" / "t.jsonl"
    refused(capsys, "launch node 'zz' is not in the graph", "simulate",
            str(GRAPHS / "bowtie.dot"), "--launch", "zz", "-o", str(failed))
    assert not (tmp_path / "other").exists()


def test_a_trace_over_the_cap_is_never_left_behind(tmp_path: Path) -> None:
    """The exact guard counts bytes as written: a partial trace is removed."""
    from inkworm.tracefile import TraceTooLarge, least_size, write_trace

    trace = simulate(load_dot(GRAPHS / "sparse_50.dot"), RunSpec(mode=Mode.NAIVE))
    full = tmp_path / "full.jsonl"
    save_trace(trace, full)
    size = full.stat().st_size
    with pytest.raises(TraceTooLarge):
        write_trace(trace, io.StringIO(), limit=size - 1)
    assert write_trace(trace, io.StringIO(), limit=size) == size
    least = least_size(trace)
    assert least < size
    cut = tmp_path / "cut.jsonl"
    with pytest.raises(TraceTooLarge, match="passes"), atomic_text(cut) as out:
        write_trace(trace, out, limit=(least + size) // 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.jsonl"]


def test_names_that_grow_cannot_beat_the_trace_guard(tmp_path: Path) -> None:
    """A 2,000-node chain whose names grow to 200 characters after the first 500 (620 KB of
    DOT). The guard used to sample the first 1,000 events and let a 1.25 GB v1 trace through;
    it counts the bytes as they are written, so with a cap below the trace's size it stops at
    the cap, and the atomic output leaves nothing behind."""
    from inkworm.tracefile import TraceTooLarge, least_size, write_trace

    names = [f"n{i}" if i < 500 else f"n{i}".ljust(200, "x") for i in range(2000)]
    trace = simulate(load_dot(_chain(tmp_path, names)), RunSpec(mode=Mode.NAIVE))
    size = write_trace(trace, io.StringIO())
    cap = (least_size(trace) + size) // 2
    assert least_size(trace) <= cap < size  # not refused up front: only counting catches it
    out = tmp_path / "grow.jsonl"
    with pytest.raises(TraceTooLarge, match="passes"), atomic_text(out) as stream:
        write_trace(trace, stream, limit=cap)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grow.dot"]


def _chain(tmp_path: Path, names: list[str]) -> Path:
    dot = tmp_path / "grow.dot"
    dot.write_text("graph G {\n" + "".join(f"  {a} -- {b};\n" for a, b in itertools.pairwise(names))
                   + "}\n", encoding="utf-8")
    return dot


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 40), st.integers(0, 10_000), st.sampled_from(list(Mode)))
def test_the_quick_size_bound_never_overshoots(nodes: int, seed: int, mode: Mode) -> None:
    """least_size refuses before writing only traces that are surely over the cap: for the
    simulator's shared sets and for sets read back from a file."""
    from inkworm.gen import sparse_cluster
    from inkworm.reader import read_trace_bytes
    from inkworm.tracefile import least_size, write_trace

    trace = simulate(sparse_cluster(nodes, seed, 1.0), RunSpec(mode=mode))
    out = io.StringIO()
    size = write_trace(trace, out)
    assert size == len(out.getvalue().encode())
    assert least_size(trace) <= size
    assert least_size(read_trace_bytes(out.getvalue().encode(), "t.jsonl")) <= size


# --- inputs that would hang or exhaust the machine ---------------------------------------------


def inkworm_process(*args: str, timeout: float = 120,
                    cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """A real ``inkworm`` process (a hang fails the test through the timeout)."""
    return subprocess.run([sys.executable, "-m", "inkworm", *args], capture_output=True,
                          text=True, timeout=timeout, check=False, cwd=cwd)


@pytest.mark.parametrize("args", [
    ["summary", "{fifo}"], ["simulate", "{fifo}"], ["check", "{fifo}"], ["dot", "{fifo}"],
    ["import-log", "{fifo}"], ["check", str(GRAPHS / "bowtie-naive.beam.jsonl"), "--graph",
                               "{fifo}"],
    ["check", str(GRAPHS / "bowtie-naive.beam.jsonl"), "--snapshot", "{fifo}"],
], ids=["summary", "simulate", "check", "dot", "import-log", "graph", "snapshot"])
def test_a_fifo_input_is_refused_without_waiting_for_a_writer(args: list[str],
                                                              tmp_path: Path) -> None:
    fifo = tmp_path / "in.dot"
    os.mkfifo(fifo)
    proc = inkworm_process(*(a.format(fifo=fifo) for a in args), timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [proc.stderr.strip()]
    assert f"{fifo}: is a FIFO, not a regular" in proc.stderr


def test_a_200k_node_dot_is_refused_with_its_line(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """6.6 MB, 300,000 edges: pydot's grammar would take four minutes; the pre-scan stops at
    the 100,001st name."""
    dot = tmp_path / "big.dot"
    with dot.open("w", encoding="utf-8") as out:
        out.write("graph G {\n")
        out.writelines(f"  n{i:06d} -- n{i // 2:06d};\n" for i in range(1, 200_000))
        out.write("}\n")
    refused(capsys, f"{dot}:100001:3: more than 100,000 nodes", "simulate", str(dot), "-o",
            str(tmp_path / "t.jsonl"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.dot"]


def test_edges_multiplied_by_subgraphs_are_counted(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """{a1 ... a500} -- {b1 ... b500}: one edge operator, 250,000 edges."""
    left = " ".join(f"a{i}" for i in range(500))
    right = " ".join(f"b{i}" for i in range(500))
    dot = tmp_path / "product.dot"
    dot.write_text(f"graph G {{\n  {{{left}}} -- {{{right}}};\n}}\n", encoding="utf-8")
    refused(capsys, "more than 200,000 edges", "summary", str(dot))


# --- names reach no terminal raw ---------------------------------------------------------------


def on_a_terminal(*args: str) -> bytes:
    """What a terminal receives from ``inkworm ARGS`` (stdout and stderr on a pty)."""
    import pty

    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "inkworm", *args], stdin=subprocess.DEVNULL,
                            stdout=terminal, stderr=terminal)
    os.close(terminal)
    received = b""
    try:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            received += chunk
        assert proc.wait(timeout=60) in (0, 1, 2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(controller)
    return received


@pytest.mark.parametrize("args", [
    ["summary", "{ansi}"], ["dot", "{ansi}"], ["simulate", "{ansi_loop}"],
    ["summary", str(GRAPHS / "bowtie.dot"), "--launch", "\x1b]0;owned\x07\x1b[2J"],
    ["check", "{trace}", "--expect-order", "a,b"],
], ids=["summary", "dot", "error-line", "option-in-error", "assertion"])
def test_no_control_character_of_a_name_reaches_the_terminal(args: list[str],
                                                             tmp_path: Path) -> None:
    ansi = tmp_path / "ansi.dot"
    ansi.write_text('graph G {\n  a -- "\x1b[2J\x1b[31mevil\x9b\u202e";\n}\n', encoding="utf-8")
    trace = tmp_path / "t.jsonl"
    save_trace(simulate(load_dot(ansi)), trace)
    received = on_a_terminal(*(a.format(ansi=ansi, trace=trace,
                                        ansi_loop=CORPUS / "hostile" / "ansi_self_loop.dot")
                               for a in args))
    text = received.decode("utf-8")
    assert not any(c in text for c in "\x1b\x07\x9b\u202e"), text
    assert "\\x1b" in text, text


def test_names_in_messages_are_escaped_in_pipes_too(capsys: pytest.CaptureFixture[str]) -> None:
    """Escaped, not stripped (click strips ANSI styles off a pipe, not other controls)."""
    code, out, _ = run_cli(capsys, "summary", str(CORPUS / "hostile" / "newline_name.dot"))
    assert code == 0
    assert "visit order: a b\\nc" in out.splitlines()


# --- DOT export round-trips --------------------------------------------------------------------


def test_dot_keeps_the_node_order_and_so_the_launch_node(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """z is declared before its edge: it is the default launch node, before and after."""
    dot = tmp_path / "order.dot"
    dot.write_text('graph G {\n  z;\n  a -- "x\u202ey";\n  a -- z;\n}\n', encoding="utf-8")
    back = tmp_path / "back.dot"
    assert run_cli(capsys, "dot", str(dot), "-o", str(back))[0] == 0
    first = run_cli(capsys, "summary", str(dot))[1].splitlines()[0]
    again = run_cli(capsys, "summary", str(back))[1].splitlines()[0]
    assert first == again == "run: launch z, mode naive, source simulated, 21 events"
    assert load_dot(back).nodes == load_dot(dot).nodes == ("z", "a", "x\u202ey")


def test_the_empty_name_is_refused_by_every_reader(capsys: pytest.CaptureFixture[str]) -> None:
    """A DOT file cannot make a run whose trace the reader refuses (a node needs a name)."""
    refused(capsys, 'empty_name.dot:2: node named ""', "summary",
            str(CORPUS / "hostile" / "empty_name.dot"))
    refused(capsys, "empty_node.jsonl:2: kill event: field 'node' must be a node name",
            "summary", str(CORPUS / "hostile" / "empty_node.jsonl"))


# --- a render stopped from outside leaves nothing behind ---------------------------------------


@contextlib.contextmanager
def rendering(folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``inkworm render`` of the bowtie into ``folder``, once it draws; killed at the
    end whatever happens (a hang fails the test, it does not outlive it)."""
    proc = subprocess.Popen([sys.executable, "-m", "inkworm", "render", str(GRAPHS / "bowtie.dot"),
                             "-o", str(folder / "v.mp4")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # "rendering: section 1/N": manim writes in its folder
        assert line.startswith(b"rendering: section"), line + proc.stderr.read()
        assert list(folder.glob(".inkworm-render-*"))
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.render
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_render_removes_its_work(sig: signal.Signals, tmp_path: Path) -> None:
    with rendering(tmp_path) as proc:
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig
    assert err.decode().strip().splitlines()[-1] == f"inkworm: terminated by {sig.name}"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.render
def test_the_next_render_sweeps_what_a_killed_one_left(tmp_path: Path) -> None:
    """SIGKILL leaves no chance to clean up: the folder names its process, and the next
    render beside the same target removes the folders of processes that are gone."""
    with rendering(tmp_path) as proc:
        proc.kill()
        proc.communicate(timeout=60)
    left = list(tmp_path.glob(".inkworm-render-*"))
    assert [p.name.split("-")[2] for p in left] == [str(proc.pid)]
    alive = tmp_path / f".inkworm-render-{os.getpid()}-keep"  # a live process's: kept
    alive.mkdir()
    done = inkworm_process("render", str(GRAPHS / "triangle.dot"), "--format", "png", "-o",
                           str(tmp_path / "v.png"), timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "v.png"]
