"""Attach to a live cluster inkworm did not start: run the worm from one of its nodes.

``inkworm map NODE`` and ``inkworm record --attach NODE``. Python finds the cookie and starts
``probe/attach.exs`` as a **hidden** node that listens nowhere (``-dist_listen false``, no
epmd of its own: nothing can connect to it) and never connects by itself (``-kernel
dist_auto_connect never``): its one connection is the one it makes to NODE. The driver pastes
the probe on NODE (the seed's "paste it into iex"), runs the worm there as if from NODE's own
shell, removes the probe from every node the worm reached (over the worm's own call tree:
no new connection) and reports what each node looked like afterwards. Python turns that into
the trace's ``meta.attach``: what the measurement did to the cluster.

The cookie is the user's: ``--cookie-file FILE`` (refused when group- or world-readable) or
``~/.erlang.cookie``. It reaches the node as its own HOME's cookie file (mode 0400, in a
private folder removed afterwards), never on a command line or in an environment.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from inkworm.collect import collected
from inkworm.errors import InputError, read_text
from inkworm.reader import load_trace
from inkworm.record import (
    DEFAULT_DEADLINE_S,
    ERL_ENV,
    RecorderError,
    check_run_options,
    drive,
    last_report,
    private_home,
    probe_dir,
)
from inkworm.run import Mode, Strategy
from inkworm.trace import Collect, Error, Event, LoadBinary, Trace
from inkworm.views import connections, result_map

NODE_NAME = re.compile(r"[A-Za-z0-9_-]{1,200}@[A-Za-z0-9_.-]{1,255}")
_RUN_PREFIX = "inkworm-attach-"
_SLACK_S = 60.0
"""What the driver may take besides the worm: connecting, pasting, cleaning up."""
_ERL_ENV = tuple(name for name in ERL_ENV if name != "ERL_EPMD_PORT")
"""What would change how inkworm's node starts (ERL_EPMD_PORT stays: it says where the
cluster's epmd listens)."""
_HIDDEN = ("-dist_listen false -hidden -start_epmd false -kernel dist_auto_connect never")


@dataclass(frozen=True)
class AttachOptions:
    """What to run on the live cluster, and how to reach it."""

    node: str
    """The launcher: a running node's full name (``n1@10.0.0.5``, ``a@host``)."""
    mode: Mode = Mode.FIXED
    strategy: Strategy = Strategy.SEQUENTIAL
    collect: tuple[str, ...] = ()
    collector: Path | None = None
    timeout_ms: int | None = None
    tolerant: bool = False
    deadline_s: float = DEFAULT_DEADLINE_S
    cookie_file: Path | None = None
    """``None``: the user's ``~/.erlang.cookie``."""
    name_kind: str | None = None
    """``short`` or ``long``; ``None``: from NODE's host (a dot in it: long)."""


@dataclass(frozen=True)
class Attached:
    """An attached run: its trace (with ``meta.attach``) and the driver's report."""

    trace: Trace
    report: dict[str, Any]


def name_kind(node: str, chosen: str | None = None) -> str:
    """``long`` for ``a@host.domain`` and ``a@10.0.0.5``, ``short`` for ``a@host``."""
    if chosen is not None:
        return chosen
    return "long" if "." in node.partition("@")[2] else "short"


def find_cookie(path: Path | None) -> tuple[str, str]:
    """The cluster's cookie and how it was found; refuses a file others can read."""
    how = f"--cookie-file {path}"
    if path is None:
        path = Path.home() / ".erlang.cookie"
        how = "~/.erlang.cookie"
        if not path.is_file():
            raise InputError("no cookie: give --cookie-file FILE (or have ~/.erlang.cookie)")
    try:
        mode = path.stat().st_mode
    except OSError as e:
        raise InputError(f"cookie file: {e.strerror}", str(path)) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InputError(f"cookie file is readable by others (mode {stat.S_IMODE(mode):o}): "
                         "chmod 400 it", str(path))
    cookie = read_text(path, "cookie file").strip()
    if not cookie or not re.fullmatch(r"[!-~]{1,255}", cookie):
        raise InputError("cookie file holds no cookie (one line of printable characters)",
                         str(path))
    return cookie, how


def validate(options: AttachOptions) -> None:
    """Refuse what the run cannot use, before any process starts."""
    if not NODE_NAME.fullmatch(options.node):
        raise InputError(f"{options.node!r} is not a node name (name@host)")
    check_run_options(options.timeout_ms, options.collect, options.collector,
                      options.deadline_s)


def _spec(options: AttachOptions, out: Path) -> dict[str, Any]:
    collector = None
    if options.collector is not None:
        collector = [str(options.collector), read_text(options.collector, "collector")]
    return {"node": options.node, "mode": options.mode.value,
            "strategy": options.strategy.value, "timeout_ms": options.timeout_ms,
            "tolerant": options.tolerant,
            "collect": list(dict.fromkeys([*options.collect, "process_count"])),
            "collector": collector, "deadline_ms": max(1, round(options.deadline_s * 1000)),
            "out": str(out)}


def _run(options: AttachOptions, folder: Path, me: str, kind: str) -> dict[str, Any]:
    """Start inkworm's hidden node on ``attach.exs``; its report, or one line of error."""
    from inkworm.etf import encode

    spec_path = folder / "spec.etf"
    spec_path.write_bytes(encode(_spec(options, folder / "trace.jsonl")))
    env = {k: v for k, v in os.environ.items() if k not in _ERL_ENV}
    env.update(HOME=str(folder / "home"), ERL_CRASH_DUMP=str(folder / "erl_crash.dump"))
    name_flag = "--name" if kind == "long" else "--sname"
    command = ["elixir", name_flag, me, "--erl", _HIDDEN,
               str(probe_dir() / "attach.exs"), str(spec_path)]
    code, stdout, stderr = drive(command, env, folder, options.deadline_s + _SLACK_S,
                                 f"attaching to {options.node} took longer than "
                                 f"{options.deadline_s + _SLACK_S:g} s: stopped")
    if code != 0:
        lines = [line for line in stderr.splitlines() if line.startswith("attach: ")]
        message = lines[-1][len("attach: "):] if lines else f"exit code {code}"
        raise RecorderError(message)
    return last_report(stdout, "the attach driver")


def attach(options: AttachOptions) -> Attached:
    """Run the worm on the live cluster from ``options.node``; its trace, with what the
    measurement did to the cluster in ``meta.attach``."""
    validate(options)
    cookie, how = find_cookie(options.cookie_file)
    kind = name_kind(options.node, options.name_kind)
    me = f"inkworm-{secrets.token_hex(4)}" + ("@127.0.0.1" if kind == "long" else "")
    with private_home(_RUN_PREFIX, cookie) as folder:
        report = _run(options, folder, me, kind)
        trace = load_trace(folder / "trace.jsonl")
    trace.path = None
    figures = interference(trace, report)
    meta = {**trace.header.meta, "attach": {
        "node": options.node, "cookie": how, "inkworm_node": report["inkworm_node"],
        "inkworm_connected_to": report["inkworm_connected"],
        "name_kind": kind, "hidden": True,
        "interference": figures}}
    trace.header = replace(trace.header, meta=meta)
    if "process_count" not in options.collect:
        trace = _unmeasured(trace)
    return Attached(trace, report)


def _unmeasured(trace: Trace) -> Trace:
    """The trace as the user asked for it: without the process counts inkworm collected for
    its own interference figures (a ``collect`` event left empty goes, the seqs follow)."""
    events: list[Event] = []
    for e in trace.events:
        if isinstance(e, Collect):
            values = {k: v for k, v in e.values.items() if k != "process_count"}
            if not values:
                continue
            e = replace(e, values=values)
        events.append(replace(e, seq=len(events)))
    meta = dict(trace.header.meta)
    kept = [name for name in meta.get("collect", []) if name != "process_count"]
    if kept:
        meta["collect"] = kept
    else:
        meta.pop("collect", None)
    return Trace(replace(trace.header, meta=meta), events)


def interference(trace: Trace, report: dict[str, Any]) -> dict[str, Any]:
    """What the measurement did to the cluster, from the trace and the driver's look at
    every reached node afterwards."""
    after = report["after"]
    made = [list(pair) for pair in connections(trace.events)]
    still = {frozenset((n, p)) for n, seen in after.items() for p in seen.get("nodes", [])}
    probes = collected(trace.events)
    # afterwards, the count is taken by an erpc call: its own process is one of them
    extra = [int(probes[n]["process_count"]) - (int(seen["processes"]) - 1)
             for n, seen in after.items()
             if "processes" in seen and "process_count" in probes.get(n, {})]
    left = sorted(n for n, seen in after.items()
                  if seen.get("worm_loaded") or seen.get("worm_old_code") or seen.get("probing"))
    loads = sum(isinstance(e, LoadBinary) for e in trace.events)
    return {
        "connections_made": made,
        "connections_stayed": [pair for pair in made if frozenset(pair) in still],
        "peak_extra_processes": max(extra, default=0),
        "code_bytes_shipped": report["pasted_bytes"] + loads * (report["code_bytes"] or 0),
        "nodes_reached": len(report["reached"]),
        "probe_left_on": left + [f"{trace.header.launch} ({m})"
                                 for m in report["pasted_loaded_after"]],
        "unreachable_after": sorted(n for n, seen in after.items() if "unreachable" in seen),
        "wall_ms": round(report["total_us"] / 1000, 1),
        "worm_ms": round(report["worm_call_us"] / 1000, 1),
    }


def without_elixir(report: dict[str, Any]) -> list[str]:
    """The reached nodes with no Elixir stdlib on their code path (the worm cannot run)."""
    return sorted(n for n, seen in report["after"].items()
                  if seen.get("elixir") == "non_existing")


def missing(trace: Trace, report: dict[str, Any]) -> list[str]:
    """What a partial map lacks: each neighbour a failed call never reached, with why."""
    mapped = result_map(trace.events) or {}
    bare = set(without_elixir(report))
    return [f"{e.to} ({'no Elixir stdlib on its code path' if e.to in bare else e.reason})"
            for e in trace.events if isinstance(e, Error) and e.to not in mapped]


def crash_line(trace: Trace, report: dict[str, Any]) -> str:
    """Why an attached worm crashed, in words: a node without Elixir, or the reason."""
    failed = [e.to for e in trace.events if isinstance(e, Error)]
    bare = [n for n in failed if n in set(without_elixir(report))]
    outcome = trace.outcome
    reason = getattr(outcome, "reason", "")
    if bare:
        return (f"the worm crashed: {bare[0]} has no Elixir stdlib on its code path (the "
                f"worm is Elixir; {reason})")
    where = f" at {failed[-1]}" if failed else ""
    return f"the worm crashed{where} ({reason})"
