"""The real recorder on a real local :peer cluster: the simulator must tell the truth.

Every test here starts real BEAM nodes (Debian's elixir; a private epmd per run).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import GRAPHS
from inkworm import AutoConnect, EdgeOrder, Mode, check, load_dot, load_trace, simulate
from inkworm.record import RecorderError, Recording, RecordOptions, observe, record
from inkworm.run import Fault, Faults, RunSpec, Strategy
from inkworm.trace import Crash, Disconnect, Error, Kill, ProbeStart, Result, Source, Trace
from inkworm.views import neighbor_lists, result_map, topology_diff, visit_order

pytestmark = [
    pytest.mark.beam,
    pytest.mark.skipif(shutil.which("elixir") is None, reason="elixir is not installed"),
]

CASES = [
    ("bowtie", Mode.NAIVE, EdgeOrder.DOT),
    ("bowtie", Mode.FIXED, EdgeOrder.DOT),
    ("bowtie", Mode.FIXED, EdgeOrder.REVERSE),
    ("bowtie", Mode.NAIVE, EdgeOrder.REVERSE),
    ("triangle_tail", Mode.NAIVE, EdgeOrder.DOT),
    ("ring_chords", Mode.NAIVE, EdgeOrder.DOT),
    ("bridge", Mode.FIXED, EdgeOrder.REVERSE),
]


def run(name: str, mode: Mode, order: EdgeOrder, **kwargs: object) -> Recording:
    return record(load_dot(GRAPHS / f"{name}.dot"),
                  RecordOptions(mode=mode, edge_order=order, **kwargs))  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=[f"{n}-{m.value}-{o.value}" for n, m, o in CASES])
def test_recording_matches_the_simulator(case: tuple[str, Mode, EdgeOrder]) -> None:
    name, mode, order = case
    topology = load_dot(GRAPHS / f"{name}.dot")
    recording = run(name, mode, order)
    real, model = recording.trace, simulate(topology, RunSpec(mode=mode, edge_order=order))
    assert real.header.source is Source.BEAM
    assert visit_order(real.events) == visit_order(model.events)
    assert neighbor_lists(real.events) == neighbor_lists(model.events)
    assert result_map(real.events) == result_map(model.events)
    assert check(real) == []
    launch = topology.nodes[0]
    adjacent = set(topology.peers()[launch])
    expected = sorted(tuple(sorted((launch, v))) for v in topology.nodes
                      if v != launch and v not in adjacent) if mode is Mode.NAIVE else []
    assert topology_diff(real, topology).spurious == expected
    report = recording.report
    assert report["probe_loaded_after"] == []
    if mode is Mode.FIXED:
        assert report["observed_after"] == report["observed_before"]


def test_naive_never_crashes_at_d_like_the_model() -> None:
    recording = run("bowtie", Mode.NAIVE, EdgeOrder.DOT, auto_connect=AutoConnect.NEVER)
    real = recording.trace
    model = simulate(load_dot(GRAPHS / "bowtie.dot"),
                     RunSpec(mode=Mode.NAIVE, auto_connect=AutoConnect.NEVER))
    assert isinstance(real.events[-1], Crash)
    errors = [(e.node, e.to, e.reason) for e in real.events if isinstance(e, Error)]
    assert errors == [(e.node, e.to, e.reason) for e in model.events if isinstance(e, Error)]
    assert real.events[-1].reason == model.events[-1].reason  # type: ignore[attr-defined]
    assert check(real) == []


# The three outcomes of a kill on the real BEAM (running node: the caller's noconnection rises
# to a crash; a node not reached yet: a silently partial map; an ancestor: the launcher's
# error at once, the orphaned branch walking on), on three graphs: (graph, victim, after).
KILLS = [
    ("bowtie", "c", "c", "running"), ("bowtie", "f", "b", "unreached"),
    ("bowtie", "b", "d", "ancestor"),
    ("two_triangles", "l2", "l2", "running"), ("two_triangles", "b1", "a1", "unreached"),
    ("two_triangles", "l2", "l3", "ancestor"),
    ("ring12", "r5", "r5", "running"), ("ring12", "r9", "r2", "unreached"),
    ("ring12", "r3", "r6", "ancestor"),
]


def _kinds(trace: Trace, kind: type) -> list[tuple[str, ...]]:
    return [(e.node, getattr(e, "peer", "")) for e in trace.events if isinstance(e, kind)]


@pytest.mark.parametrize("case", KILLS, ids=[f"{g}-{x}-after-{y}-{w}" for g, x, y, w in KILLS])
def test_a_recorded_kill_is_what_the_simulator_predicts(case: tuple[str, str, str, str]) -> None:
    name, victim, after, what = case
    topology = load_dot(GRAPHS / f"{name}.dot")
    real = record(topology, RecordOptions(mode=Mode.FIXED, fault=Fault(victim, after))).trace
    model = simulate(topology, RunSpec(mode=Mode.FIXED), faults=Faults(kill=Fault(victim, after)))
    assert check(real) == [] and check(model) == []
    # the killed node's own probe start and an orphan's whole walk are in the recording too
    assert visit_order(real.events) == visit_order(model.events)
    assert type(real.outcome) is type(model.outcome)
    assert result_map(real.events) == result_map(model.events)
    assert neighbor_lists(real.events) == neighbor_lists(model.events)
    # every live peer of the victim records its disconnect, probed or not
    assert sorted(_kinds(real, Disconnect)) == sorted(_kinds(model, Disconnect))
    kills = [e for e in real.events if isinstance(e, Kill)]
    assert [e.node for e in kills] == [victim]
    after_kill = [e for e in real.events if e.seq > kills[0].seq and e.node == victim]
    assert after_kill == []
    if what == "running":
        assert isinstance(real.outcome, Crash)
        assert victim in visit_order(real.events)
    elif what == "unreached":
        assert isinstance(real.outcome, Result) and victim not in real.outcome.map
        assert topology_diff(real, topology).unreached == [victim]
    else:
        assert isinstance(real.outcome, Crash)
        crash = real.outcome.seq
        assert any(e.seq > crash and isinstance(e, ProbeStart) for e in real.events), \
            "the orphaned branch walks on after the launcher's crash"


def test_a_kill_without_delay_always_happens_and_is_recorded() -> None:
    """The recorder holds the probe that places the kill: no race, no silent omission."""
    topology = load_dot(GRAPHS / "bowtie.dot")
    for _ in range(10):
        trace = record(topology, RecordOptions(mode=Mode.FIXED, fault=Fault("c", "c"))).trace
        assert check(trace) == []
        assert [e.node for e in trace.events if isinstance(e, Kill)] == ["c"]
        assert visit_order(trace.events) == ["a", "b", "c"]
        assert isinstance(trace.outcome, Crash)


def test_a_kill_that_cannot_happen_is_an_error() -> None:
    """g is isolated: its probe never starts, so the kill placed after it never fires."""
    from inkworm import parse_dot

    topology = parse_dot("graph { a -- b; b -- c; g; }")
    with pytest.raises(RecorderError, match="the kill of c did not happen: it waits for g's probe"):
        record(topology, RecordOptions(mode=Mode.FIXED, fault=Fault("c", "g")))


def test_a_stuck_run_is_stopped_at_the_deadline_and_says_so(tmp_path: Path) -> None:
    """The probe waits like the seed (no erpc timeout); the recorder's deadline ends the run
    and the trace keeps what happened, without an outcome."""
    out = tmp_path / "stuck.jsonl"
    proc = subprocess.run([sys.executable, "-m", "inkworm", "record", str(GRAPHS / "bowtie.dot"),
                           "--mode", "fixed", "--delay", "d=60000", "--deadline", "2",
                           "-o", str(out)], capture_output=True, text=True, check=False)
    assert proc.returncode == 1
    assert "had not answered after 2 s (--deadline)" in proc.stderr
    trace = load_trace(out)
    assert trace.truncated and trace.header.meta["stopped"] == {"why": "deadline",
                                                               "deadline_ms": 2000}
    assert visit_order(trace.events) == ["a", "b", "c", "d"]
    assert trace.header.meta["timeout_ms"] is None


def test_cluster_command_prints_the_observed_topology() -> None:
    observed = observe(load_dot(GRAPHS / "bowtie.dot"))
    assert observed == {n: list(p) for n, p in load_dot(GRAPHS / "bowtie.dot").peers().items()}
    proc = subprocess.run([sys.executable, "-m", "inkworm", "cluster",
                           str(GRAPHS / "triangle_tail.dot")],
                          capture_output=True, text=True, check=True)
    assert proc.stdout == "graph G {\n  a -- b;\n  a -- c;\n  b -- c;\n  c -- d;\n}\n"


def test_record_cli_writes_a_checked_trace(tmp_path: Path) -> None:
    out = tmp_path / "bowtie.jsonl"
    proc = subprocess.run([sys.executable, "-m", "inkworm", "record", str(GRAPHS / "bowtie.dot"),
                           "--mode", "naive", "-o", str(out)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "recorded 52 events on 6 real nodes" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "inkworm", "check", str(out), "--graph",
                           str(GRAPHS / "bowtie.dot")], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0
    assert proc.stdout.splitlines() == ["spurious edge: a -- d", "spurious edge: a -- e",
                                        "spurious edge: a -- f"]


def test_bad_names_are_refused_before_starting_anything() -> None:
    from inkworm import InputError, parse_dot

    with pytest.raises(InputError, match="cannot be a BEAM node name"):
        record(parse_dot('graph { "a b" -- c; }'), RecordOptions())


# --- the cluster is private to the run, and nothing outlives it ------------------------------
#
# A run is recognised by its processes' environment: each test gives its `inkworm record` a
# TMPDIR of its own, which every process of the run inherits (epmd's watchdog, the driver, the
# peers). So these tests look only at processes they started, never at anyone else's cluster.


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped has already ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def ours(tmp: Path) -> list[int]:
    """Live processes of the run whose TMPDIR is ``tmp``."""
    marker = f"TMPDIR={tmp}".encode() + b"\0"
    return [pid for pid in _pids()
            if marker in _environ(pid) + b"\0" and _alive(pid) and pid != os.getpid()]


def _listening() -> dict[int, str]:
    """Socket inode -> local address of every listening TCP socket (IPv4 and IPv6)."""
    found: dict[int, str] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            raw = bytes.fromhex(fields[1].split(":")[0])
            # /proc prints each 32-bit word in host (little-endian) order
            raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            found[int(fields[9])] = str(ipaddress.ip_address(raw))
    return found


def _sockets(pid: int) -> set[int]:
    inodes: set[int] = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(int(link[8:-1]))
    except OSError:
        pass
    return inodes


def _wait(what: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if what():
            return True
        time.sleep(0.1)
    return what()


def _start(tmp: Path, home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmp), "HOME": str(home)}
    return subprocess.Popen([sys.executable, "-m", "inkworm", "record",
                             str(GRAPHS / "bowtie.dot"), "--mode", "fixed", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _peers_listening(tmp: Path, count: int) -> Callable[[], bool]:
    def ready() -> bool:
        listening = _listening()
        return sum(bool(_sockets(pid) & listening.keys()) for pid in ours(tmp)) >= count
    return ready


def _peer_names(tmp: Path) -> list[str]:
    names = []
    for pid in ours(tmp):
        args = _cmdline(pid).split(b"\0")
        if b"-name" in args:
            names.append(args[args.index(b"-name") + 1].decode())
    return names


def test_a_recording_is_private_to_its_run(tmp_path: Path) -> None:
    """Listeners on loopback only, a cookie nobody else can read or guess, the user's own
    cookie untouched, and a node with another cookie turned away."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    real_cookie = Path.home() / ".erlang.cookie"
    before = real_cookie.stat() if real_cookie.exists() else None
    out = tmp_path / "trace.jsonl"
    proc = _start(tmp, home, "--delay", "c=4000", "-o", str(out))
    try:
        # 6 peers and epmd listen while c sleeps in its probe
        assert _wait(_peers_listening(tmp, 7), 60), proc.stderr
        listening = _listening()
        addresses = {listening[i] for pid in ours(tmp) for i in _sockets(pid) if i in listening}
        assert addresses and addresses <= {"127.0.0.1", "::1"}, addresses
        # the run's cookie is in its private HOME, and nowhere a process shows
        driver = next(pid for pid in ours(tmp) if b"local_cluster.exs" in _cmdline(pid))
        env = dict(item.split(b"=", 1) for item in _environ(driver).split(b"\0") if b"=" in item)
        run_home = Path(env[b"HOME"].decode())
        assert run_home.parent.name.startswith(f"inkworm-run-{proc.pid}-")
        assert (run_home.parent.stat().st_mode & 0o777) == 0o700
        cookie = (run_home / ".erlang.cookie").read_bytes().strip()
        assert len(cookie) >= 32
        assert not [pid for pid in _pids() if cookie in _cmdline(pid) + _environ(pid)]
        # names carry random bits of their own: no name tells another
        names = _peer_names(tmp)
        assert len(names) == 6
        assert len({name.split("_", 1)[0] for name in names}) == 6
        # an intruder who knows a peer's name and the epmd port, but not the cookie, is
        # turned away; one who stole the cookie gets in, and the trace shows it
        port = env[b"ERL_EPMD_PORT"].decode()
        c_node = next(name for name in names if name.endswith("_c@127.0.0.1"))
        # (the thief stays until c's probe runs, so that c sees it come and go)
        wait = ("W = fun W() -> case rpc:call(C, erlang, whereis, [inkworm_probe]) of "
                "P when is_pid(P) -> ok; _ -> timer:sleep(50), W() end end, W()")
        for intruder, guess, answer in (("intruder", "guessed", "pang"),
                                        ("thief", cookie.decode(), "pong")):
            ping = subprocess.run(
                ["erl", "-noshell", "-name", f"{intruder}@127.0.0.1", "-setcookie", guess,
                 "-eval", f"C = '{c_node}', R = net_adm:ping(C), io:format(\"~p\", [R]), "
                 f"case R of pong -> {wait}; _ -> ok end, halt()."], cwd=tmp_path,
                env={**os.environ, "ERL_EPMD_PORT": port, "HOME": str(home)},
                capture_output=True, text=True, timeout=60, check=False)
            assert ping.stdout.strip() == answer, ping.stdout + ping.stderr
    finally:
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    foreign = [v.message for v in check(load_trace(out)) if v.rule == "foreign"]
    assert foreign == ["thief@127.0.0.1 is not part of the run (not one of the 6 nodes it "
                       "started)"]
    assert not (home / ".erlang.cookie").exists()  # absent stays absent
    after = real_cookie.stat() if real_cookie.exists() else None
    assert (before and (before.st_mtime_ns, before.st_size)) == (
        after and (after.st_mtime_ns, after.st_size))
    assert ours(tmp) == []
    assert list(tmp.iterdir()) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL],
                         ids=["SIGTERM", "SIGHUP", "SIGKILL"])
def test_killing_the_recorder_mid_walk_stops_its_whole_run(sig: signal.Signals,
                                                           tmp_path: Path) -> None:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    proc = _start(tmp, home, "--delay", "c=30000", "-o", str(tmp_path / "t.jsonl"))
    try:
        assert _wait(_peers_listening(tmp, 7), 60)
        # mid-walk: c's probe sleeps (the killer's poll would show it; give the walk time)
        time.sleep(2)
        started = ours(tmp)
        assert len(started) >= 8  # epmd and its watchdog, the driver, 6 peers
        proc.send_signal(sig)
        assert _wait(lambda: ours(tmp) == [], 10), [_cmdline(p) for p in ours(tmp)]
    finally:
        proc.kill()
        _, err = proc.communicate()
    assert not (tmp_path / "t.jsonl").exists()
    left = list(tmp.iterdir())
    if sig is not signal.SIGKILL:
        assert proc.returncode == 128 + sig
        assert err.strip().splitlines()[-1] == f"inkworm: terminated by {sig.name}"
        assert left == []  # the run folder was removed on the way out
    else:
        from inkworm.record import sweep_run_dirs

        assert [p.name.startswith(f"inkworm-run-{proc.pid}-") for p in left] == [True]
        assert sweep_run_dirs(tmp) == left  # the next run sweeps it
        assert list(tmp.iterdir()) == []


def test_a_foreign_node_in_a_recorded_trace_is_a_violation(tmp_path: Path) -> None:
    import dataclasses

    from inkworm.trace import Neighbors

    trace = load_trace(GRAPHS / "bowtie-fixed.beam.jsonl")
    trace.header = dataclasses.replace(
        trace.header, extra={**trace.header.extra, "cluster": list("abcdef")})
    assert check(trace) == []
    at = next(i for i, e in enumerate(trace.events) if isinstance(e, Neighbors) and e.node == "c")
    e = trace.events[at]
    trace.events[at] = dataclasses.replace(e, nodes=(*e.nodes, "evil@127.0.0.1"))
    found = [(v.rule, v.seq, v.message) for v in check(trace)]
    assert ("foreign", e.seq, "evil@127.0.0.1 is not part of the run (not one of the 6 "
            "nodes it started)") in found


def test_options_are_refused_before_anything_starts(tmp_path: Path) -> None:
    """A bad -o or --timeout answers at once: no cluster is started for it."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    for args, message in ((["--timeout", str(2**32)], "--timeout"),
                          (["-o", str(GRAPHS / "bowtie.dot" / "x.jsonl")], "cannot write here")):
        proc = subprocess.run([sys.executable, "-m", "inkworm", "record",
                               str(GRAPHS / "bowtie.dot"), *args],
                              env={**os.environ, "TMPDIR": str(tmp)}, capture_output=True,
                              text=True, check=False)
        assert proc.returncode == 2
        assert message in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert list(tmp.iterdir()) == []


def test_names_are_data_and_home_does_not_matter(tmp_path: Path) -> None:
    """A DOT file name holding newlines and spec words stays a name (it once injected an `out`
    line), and with an unusable HOME no erl_crash.dump lands in the working folder."""
    name = "b\nout evil.jsonl\nheader graph x\n.dot"
    shutil.copy(GRAPHS / "bowtie.dot", tmp_path / name)
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run([sys.executable, "-m", "inkworm", "record", str(tmp_path / name),
                           "--mode", "fixed", "-o", str(tmp_path / "t.jsonl")],
                          env={**os.environ, "HOME": "/nonexistent/home"}, cwd=work,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    trace = load_trace(tmp_path / "t.jsonl")
    assert trace.header.graph == name
    assert check(trace) == []
    assert list(work.iterdir()) == []  # no evil.jsonl, no erl_crash.dump


def test_record_never_writes_over_its_graph(tmp_path: Path) -> None:
    graph = tmp_path / "g.dot"
    shutil.copy(GRAPHS / "bowtie.dot", graph)
    before = graph.read_bytes()
    proc = subprocess.run([sys.executable, "-m", "inkworm", "record", str(graph), "-o",
                           str(graph)], capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert "is the input" in proc.stderr
    assert graph.read_bytes() == before


@pytest.mark.parametrize("name,mode", [("bowtie", Mode.NAIVE), ("ring12", Mode.FIXED)])
def test_the_real_parallel_worm_is_what_the_simulator_predicts(name: str, mode: Mode) -> None:
    """Every probe of the multicall worm, duplicates included, at the same place in the call
    tree; loading the probe only where it is not loaded keeps a second visit from purging the
    code a first one still runs (which killed it with {:signal, :killed})."""
    topology = load_dot(GRAPHS / f"{name}.dot")
    spec = RunSpec(mode=mode, strategy=Strategy.PARALLEL)
    recording = record(topology, RecordOptions(mode=mode, strategy=Strategy.PARALLEL))
    real, model = recording.trace, simulate(topology, spec)
    assert check(real) == []
    tree = sorted((e.node, e.probe) for e in real.events if isinstance(e, ProbeStart))
    assert tree == sorted((e.node, e.probe) for e in model.events if isinstance(e, ProbeStart))
    assert len(tree) == {"bowtie": 6, "ring12": 40}[name]
    assert [e for e in real.events if isinstance(e, Error)] == []
    assert result_map(real.events) == result_map(model.events)
    assert recording.report["probe_loaded_after"] == []
