"""The worm that works (the seed: "it could also perform work on each node"): collectors.

A collector runs on every probed node right after its ``nodes()`` call; the probe then writes a
``collect`` event with each collector's value under its name (``docs/trace-v2.md``). The real
probe runs the built-ins below (and a user's own, ``record --collector FILE.exs``); the
simulator writes deterministic stand-ins, so that a simulated run with collectors is as
reproducible as one without.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from inkworm.errors import InputError
from inkworm.trace import Collect, Event, Neighbors, Result

BUILTINS: dict[str, str] = {
    "otp_release": "the node's OTP release (string)",
    "elixir_version": "Elixir's version on the node (string)",
    "memory": "bytes the node's VM uses, :erlang.memory(:total)",
    "process_count": "processes on the node",
    "uptime": "milliseconds since the node started",
}
"""The probe's built-in collectors (``InkwormProbe.builtins/0``), with what each returns."""


def parse_names(text: str) -> tuple[str, ...]:
    """``NAME[,NAME...]`` (``--collect``) as names, each a built-in; :class:`InputError`
    names the first that is not."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    for name in names:
        if name not in BUILTINS:
            raise InputError(f"--collect {name}: expected one of {', '.join(BUILTINS)}")
    return names


def stand_in(name: str, node: str, t_us: int) -> Any:
    """What the simulator reports for a built-in on ``node`` at ``t_us`` (the same every run:
    a hash of the node's name, and the run's virtual time for ``uptime``)."""
    h = zlib.crc32(node.encode("utf-8"))
    values: dict[str, Any] = {
        "otp_release": "25",
        "elixir_version": "1.14.0",
        "memory": 20_000_000 + (h % 1_000_000) * 8,
        "process_count": 60 + h % 40,
        "uptime": 1_500 + h % 500 + t_us // 1000,
    }
    return values[name]


def with_collectors(events: Iterable[Event], names: Sequence[str]) -> list[Event]:
    """``events`` with a ``collect`` event (the stand-ins of ``names``) right after each
    ``neighbors``, ``seq`` renumbered."""
    out: list[Event] = []
    for e in events:
        out.append(replace(e, seq=len(out)) if e.seq != len(out) else e)
        if names and isinstance(e, Neighbors):
            values = {n: stand_in(n, e.node, e.t_us) for n in names}
            out.append(Collect(seq=len(out), t_us=e.t_us, node=e.node, probe=e.probe,
                               values=values))
    return out


def collected(events: Iterable[Event]) -> dict[str, dict[str, Any]]:
    """Each node's collected values (the first probe's, when a node was probed twice), in
    visit order."""
    found: dict[str, dict[str, Any]] = {}
    for e in events:
        if isinstance(e, Collect) and e.node not in found:
            found[e.node] = dict(e.values)
    return found


def ignoring_launcher(events: list[Event], launch: str) -> list[Event]:
    """The result map of ``--mode ignore-launcher``: every row but the launcher's without the
    launcher (the seed's footnote: only the launcher's own ``nodes()`` names its peers)."""
    if events and isinstance(events[-1], Result):
        result = events[-1]
        rows = {n: row if n == launch else tuple(p for p in row if p != launch)
                for n, row in result.map.items()}
        events[-1] = replace(result, map=rows)
    return events


def show(name: str, value: Any) -> str:
    """A collected value as a person reads it: bytes in MB, milliseconds in seconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value) if not isinstance(value, dict) else f"failed {value.get('failed')}"
    if name == "memory":
        return f"{value / 1e6:.1f} MB"
    if name == "uptime":
        return f"{value / 1000:.1f} s"
    return f"{value:,}"


def lines(found: dict[str, dict[str, Any]], per_node: int = 9) -> list[str]:
    """What the collectors found: one line a node up to ``per_node`` nodes, else one line a
    collector (its range over the nodes, or its one value)."""
    if not found:
        return []
    names = list(dict.fromkeys(n for values in found.values() for n in values))
    if len(found) <= per_node:
        return [f"{node}: " + " · ".join(f"{n} {show(n, v[n])}" for n in names if n in v)
                for node, v in found.items()]
    out = []
    for name in names:
        values = [v[name] for v in found.values() if name in v]
        numbers = sorted(x for x in values if isinstance(x, int | float)
                         and not isinstance(x, bool))
        distinct = sorted({show(name, x) for x in values})
        if len(numbers) == len(values) and len(distinct) > 1:
            mid = numbers[len(numbers) // 2]
            out.append(f"{name}: {show(name, numbers[0])} to {show(name, numbers[-1])} "
                       f"(median {show(name, mid)}) on {len(values)} nodes")
        elif len(distinct) == 1:
            out.append(f"{name}: {distinct[0]} on all {len(values)} nodes")
        else:
            out.append(f"{name}: {len(distinct)} values on {len(values)} nodes")
    return out
