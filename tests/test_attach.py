"""``inkworm map NODE`` and ``record --attach NODE`` on clusters started by hand (separate OS
processes, ``-connect_all false``, meshed by their own script; one over six loopback hosts,
one of 22 nodes, one with a node without Elixir): the map is the topology, an attached trace
passes ``check`` and matches the simulator's prediction, and the cluster is left as it was
(every node's ``nodes()``, no probe module loaded, no hidden connection, every node running)
unless the user asked for the naive probe's connections. Each test stops exactly the
processes it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import GRAPHS
from handcluster import HandCluster, short_host
from inkworm import Mode, RunSpec, load_dot, load_trace, parse_dot, simulate
from inkworm.collect import collected
from inkworm.views import result_map, visit_order

HOSTS = {n: f"{n}@127.0.0.{i + 2}" for i, n in enumerate("abcdef")}
"""The bowtie over six loopback hosts."""


def inkworm(cluster: HandCluster, *args: str) -> subprocess.CompletedProcess[str]:
    """A real ``inkworm`` process, as a user runs it beside the cluster (its epmd port)."""
    env = {**os.environ, **cluster.inkworm_env()}
    return subprocess.run([sys.executable, "-m", "inkworm", *args], capture_output=True,
                          text=True, check=False, env=env, timeout=300)


@pytest.fixture
def hand(tmp_path: Path) -> Iterator[list[HandCluster]]:
    """The clusters a test starts (stopped, every process of them, when it ends)."""
    started: list[HandCluster] = []
    yield started
    for cluster in started:
        cluster.stop()
    for cluster in started:
        assert not any(node.alive() for node in cluster.nodes.values())


def _start(hand: list[HandCluster], folder: Path, nodes: list[str],
           edges: list[tuple[str, str]], **kw: frozenset[str]) -> HandCluster:
    folder.mkdir()
    cluster = HandCluster(folder, nodes, edges, **kw)
    hand.append(cluster)
    return cluster


def _untouched(cluster: HandCluster, before: dict[str, list[str]]) -> None:
    """Every node runs, sees what it saw before, has no probe loaded and no hidden peer."""
    assert all(node.alive() for node in cluster.nodes.values())
    assert cluster.ask_all("nodes") == before
    assert cluster.ask_all("loaded") == {n: [] for n in cluster.nodes}
    assert cluster.ask_all("hidden") == {n: [] for n in cluster.nodes}


def test_map_of_a_hand_started_path_prints_its_three_edges_and_leaves_it_as_it_was(
        tmp_path: Path, hand: list[HandCluster]) -> None:
    nodes = [f"n{k}@127.0.0.1" for k in range(1, 5)]
    cluster = _start(hand, tmp_path / "path", nodes,
                     [(nodes[k], nodes[k - 1]) for k in range(1, 4)])
    before = cluster.ask_all("nodes")
    proc = inkworm(cluster, "map", nodes[0], "--cookie-file", str(cluster.cookie))
    assert proc.returncode == 0, proc.stderr
    mapped = parse_dot(proc.stdout)
    assert mapped.edge_set() == {frozenset((nodes[k - 1], nodes[k])) for k in range(1, 4)}
    assert "0 connections made, 0 stayed; probe left on no node" in proc.stderr
    _untouched(cluster, before)
    out = tmp_path / "parallel.jsonl"  # the parallel worm leaves its module: removed after it
    proc = inkworm(cluster, "record", "--attach", nodes[0], "--cookie-file",
                   str(cluster.cookie), "--strategy", "parallel", "--collect", "otp_release",
                   "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert inkworm(cluster, "check", str(out)).returncode == 0
    trace = load_trace(out)
    assert trace.header.parallel and trace.header.meta["attach"]["inkworm_connected_to"] == \
        [nodes[0]]  # its one connection
    assert {n: v["otp_release"] for n, v in collected(trace.events).items()} == \
        {n: "25" for n in nodes}
    _untouched(cluster, before)


def test_an_attached_record_over_six_hosts_checks_and_matches_the_simulator(
        tmp_path: Path, hand: list[HandCluster]) -> None:
    """The bowtie over 127.0.0.2 to .7, meshed in the DOT file's order: the fixed worm's
    trace passes check, and its visit order and map are the simulator's; the naive one
    needs --yes-disturb, then makes the seed's three connections to the launcher, which
    stay (and says so)."""
    bowtie = load_dot(GRAPHS / "bowtie.dot")
    cluster = _start(hand, tmp_path / "bowtie", list(HOSTS.values()),
                     [(HOSTS[a], HOSTS[b]) for a, b in bowtie.edges])
    before = cluster.ask_all("nodes")
    short = {v: k for k, v in HOSTS.items()}
    mine = tmp_path / "mine.exs"  # a user's collector runs on every live node
    mine.write_text('[{"me", fn -> to_string(node()) end}]\n')
    for mode in (Mode.FIXED, Mode.NAIVE):
        out = tmp_path / f"{mode.value}.jsonl"
        args = ["record", "--attach", HOSTS["a"], "--cookie-file", str(cluster.cookie),
                "--collector", str(mine), "-o", str(out)]
        if mode is Mode.NAIVE:
            refused = inkworm(cluster, *args, "--mode", "naive")
            assert refused.returncode == 2 and refused.stderr.count("\n") == 1
            assert "--yes-disturb" in refused.stderr and not out.exists()
            args += ["--mode", "naive", "--yes-disturb"]
        proc = inkworm(cluster, *args)
        assert proc.returncode == 0, proc.stderr
        assert inkworm(cluster, "check", str(out)).returncode == 0
        trace = load_trace(out)
        predicted = simulate(bowtie, RunSpec(mode=mode))
        assert [short[n] for n in visit_order(trace.events)] == visit_order(predicted.events)
        got = result_map(trace.events)
        assert got is not None
        assert {short[n]: sorted(short[p] for p in ps) for n, ps in got.items()} == \
            {n: sorted(ps) for n, ps in (result_map(predicted.events) or {}).items()}
        assert {n: v for n, v in collected(trace.events).items()} == \
            {n: {"me": n} for n in HOSTS.values()}  # inkworm's own counts are not the user's
        attach = trace.header.meta["attach"]
        assert attach["node"] == HOSTS["a"] and attach["hidden"] is True
        assert attach["inkworm_node"].startswith("inkworm-")
        summary = inkworm(cluster, "summary", str(out)).stdout
        if mode is Mode.FIXED:
            _untouched(cluster, before)
            assert "interference: 0 connections made" in summary
        else:
            spurious = sorted(sorted((HOSTS["a"], HOSTS[x])) for x in "def")
            assert sorted(attach["interference"]["connections_stayed"]) == spurious
            assert "3 connections made (3 stayed" in summary
            seen = cluster.ask_all("nodes")
            assert all(HOSTS["a"] in seen[HOSTS[x]] for x in "def")  # they stay
            assert cluster.ask_all("loaded") == {n: [] for n in cluster.nodes}
        assert "probe left on: no node" in summary


def test_a_22_node_cluster_is_mapped_and_what_the_measurement_did_is_reported(
        tmp_path: Path, hand: list[HandCluster]) -> None:
    """A generated sparse cluster of 22 nodes: the fixed map is its topology, nothing is
    left; the figures (fixed and naive) are printed for the record."""
    dot = tmp_path / "gen22.dot"
    assert subprocess.run([sys.executable, "-m", "inkworm", "gen", "--nodes", "22", "--seed",
                           "3", "-o", str(dot)], check=False).returncode == 0
    topology = load_dot(dot)
    full = {n: f"{n}@127.0.0.1" for n in topology.nodes}
    cluster = _start(hand, tmp_path / "c22", list(full.values()),
                     [(full[a], full[b]) for a, b in topology.edges])
    before = cluster.ask_all("nodes")
    launch = full[topology.nodes[0]]
    proc = inkworm(cluster, "map", launch, "--cookie-file", str(cluster.cookie))
    assert proc.returncode == 0, proc.stderr
    assert parse_dot(proc.stdout).edge_set() == \
        {frozenset((full[a], full[b])) for a, b in topology.edges}
    _untouched(cluster, before)
    for mode in ("fixed", "naive"):
        out = tmp_path / f"{mode}.jsonl"
        extra = ["--yes-disturb"] if mode == "naive" else []
        proc = inkworm(cluster, "record", "--attach", launch, "--cookie-file",
                       str(cluster.cookie), "--mode", mode, *extra, "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        figures = load_trace(out).header.meta["attach"]["interference"]
        print(f"22 nodes, {mode}: {figures}")
        assert figures["nodes_reached"] == 22 and figures["probe_left_on"] == []
        made = len(figures["connections_made"])
        assert made == 0 if mode == "fixed" else made > 0


def test_a_node_without_elixir_is_a_clear_error_or_with_tolerant_a_partial_map(
        tmp_path: Path, hand: list[HandCluster]) -> None:
    x1, plain, x2 = "x1@127.0.0.1", "plain@127.0.0.1", "x2@127.0.0.1"
    cluster = _start(hand, tmp_path / "plain", [x1, plain, x2], [(plain, x1), (x2, plain)],
                     plain=frozenset({plain}))
    cookie = str(cluster.cookie)
    at_plain = inkworm(cluster, "map", plain, "--cookie-file", cookie)
    assert at_plain.returncode == 3 and at_plain.stderr.count("\n") == 1
    assert "has no Elixir stdlib on its code path" in at_plain.stderr
    crashed = inkworm(cluster, "map", x1, "--cookie-file", cookie)
    assert crashed.returncode == 3 and crashed.stdout == ""
    assert "no Elixir" in crashed.stderr and "no map" in crashed.stderr
    partial = inkworm(cluster, "map", x1, "--cookie-file", cookie, "--tolerant")
    assert partial.returncode == 0, partial.stderr
    assert parse_dot(partial.stdout).edge_set() == {frozenset((x1, plain))}
    assert f"partial map: not reached: {plain}" in partial.stderr
    assert cluster.ask_all("loaded") == {n: [] for n in (x1, x2)} | {plain: []}


def test_a_node_that_stops_during_the_run_is_one_line_or_a_partial_map(
        tmp_path: Path, hand: list[HandCluster]) -> None:
    """Two neighbours of the launcher halt as soon as a probe starts on them: without
    --tolerant the worm fails (the parent's erpc gets noconnection), one line and exit 3;
    with it, the map of what answered names what did not."""
    x1, f1, f2, x3 = (f"{n}@127.0.0.1" for n in ("x1", "f1", "f2", "x3"))
    cluster = _start(hand, tmp_path / "fragile", [x1, f1, f2, x3],
                     [(f1, x1), (f2, x1), (x3, x1)], fragile=frozenset({f1, f2}))
    cookie = str(cluster.cookie)
    failed = inkworm(cluster, "map", x1, "--cookie-file", cookie)
    assert failed.returncode == 3 and failed.stdout == "", failed.stderr
    assert "crashed" in failed.stderr and "noconnection" in failed.stderr
    assert not cluster.nodes[f1].alive()
    partial = inkworm(cluster, "map", x1, "--cookie-file", cookie, "--tolerant")
    assert partial.returncode == 0, partial.stderr
    assert f"partial map: not reached: {f2}" in partial.stderr
    assert frozenset((x1, x3)) in parse_dot(partial.stdout).edge_set()
    assert cluster.nodes[x1].ask("loaded") == [] and cluster.nodes[x3].ask("loaded") == []


def test_a_worm_past_its_deadline_is_stopped_and_taken_off_the_launcher(
        tmp_path: Path, hand: list[HandCluster]) -> None:
    """A neighbour whose load never returns holds the seed's worm (no timeout) for good:
    ``--deadline`` ends the run in one line, exit 3, and the launcher keeps no probe."""
    x1, stuck = "x1@127.0.0.1", "stuck@127.0.0.1"
    cluster = _start(hand, tmp_path / "stuck", [x1, stuck], [(stuck, x1)],
                     hanging=frozenset({stuck}))
    proc = inkworm(cluster, "map", x1, "--cookie-file", str(cluster.cookie), "--deadline", "2")
    assert proc.returncode == 3 and proc.stderr.count("\n") == 1 and proc.stdout == ""
    assert "had not answered after 2.0 s (--deadline)" in proc.stderr
    assert cluster.nodes[x1].ask("loaded") == [] and cluster.nodes[x1].ask("hidden") == []
    assert all(node.alive() for node in cluster.nodes.values())


def test_an_interrupted_attach_takes_its_probe_off_the_launcher(
        tmp_path: Path, hand: list[HandCluster]) -> None:
    """Ctrl-C while the worm is held: inkworm ends, and its node first removes the probe
    from the launcher (the driver's lifeline is its standard input)."""
    x1, stuck = "x1@127.0.0.1", "stuck@127.0.0.1"
    cluster = _start(hand, tmp_path / "stuck", [x1, stuck], [(stuck, x1)],
                     hanging=frozenset({stuck}))
    env = {**os.environ, **cluster.inkworm_env()}
    proc = subprocess.Popen([sys.executable, "-m", "inkworm", "map", x1, "--cookie-file",
                             str(cluster.cookie)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while cluster.nodes[x1].ask("loaded") == [] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cluster.nodes[x1].ask("loaded") != []  # pasted, the worm held at stuck
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0 and "Traceback" not in err
    assert cluster.nodes[x1].ask("loaded") == [] and cluster.nodes[x1].ask("hidden") == []


@pytest.mark.skipif(short_host() is None, reason="this host name does not resolve to loopback")
def test_short_names_are_told_from_the_node_and_mapped(
        tmp_path: Path, hand: list[HandCluster]) -> None:
    """``s1@host`` (no dot): inkworm joins with a short name of its own (``--name-kind``
    auto), and maps the cluster."""
    host = short_host()
    s1, s2 = f"s1@{host}", f"s2@{host}"
    cluster = _start(hand, tmp_path / "short", [s1, s2], [(s2, s1)])
    before = cluster.ask_all("nodes")
    proc = inkworm(cluster, "map", s1, "--cookie-file", str(cluster.cookie))
    assert proc.returncode == 0, proc.stderr
    assert parse_dot(proc.stdout).edge_set() == {frozenset((s1, s2))}
    forced = inkworm(cluster, "map", s1, "--cookie-file", str(cluster.cookie),
                     "--name-kind", "long")  # a long-named node cannot reach a short one
    assert forced.returncode == 3 and forced.stderr.count("\n") == 1
    _untouched(cluster, before)


def test_what_cannot_attach_is_one_line(tmp_path: Path, hand: list[HandCluster]) -> None:
    """A cookie others can read (2), a wrong cookie (3), a node that is not there (3), the
    fault options and a GRAPH with --attach (2), an attach option without it (2)."""
    n1, n2 = "n1@127.0.0.1", "n2@127.0.0.1"
    cluster = _start(hand, tmp_path / "two", [n1, n2], [(n2, n1)])
    before = cluster.ask_all("nodes")
    loose = tmp_path / "loose.cookie"
    loose.write_text(cluster.cookie.read_text())
    loose.chmod(0o644)
    wrong = tmp_path / "wrong.cookie"
    wrong.write_text("not-the-cookie")
    wrong.chmod(0o400)
    cases = [
        (["map", n1, "--cookie-file", str(loose)], 2, "readable by others (mode 644)"),
        (["map", n1, "--cookie-file", str(wrong)], 3, "the cookie is not the cluster's"),
        (["map", "nobody@127.0.0.1", "--cookie-file", str(cluster.cookie)], 3,
         "epmd at 127.0.0.1 knows no nobody"),
        (["record", "--attach", n1, "--cookie-file", str(cluster.cookie), "--kill", n2,
          "--after", n1], 2, "--kill is for a cluster inkworm starts"),
        (["record", str(GRAPHS / "bowtie.dot"), "--attach", n1], 2, "no GRAPH"),
        (["record", str(GRAPHS / "bowtie.dot"), "--yes-disturb"], 2,
         "--yes-disturb goes with --attach"),
    ]
    for args, code, words in cases:
        proc = inkworm(cluster, *args)
        assert (proc.returncode, proc.stderr.count("\n")) == (code, 1), (args, proc.stderr)
        assert words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    _untouched(cluster, before)
