"""What a run cost: probes, duplicate probes, messages, bytes shipped and virtual time.

Counted from the events alone, so any trace (simulated, recorded, sequential or parallel) has
them. Every erpc request and every reply is one message: a ``load_binary`` is 2, a ``call`` is
2 (a multicall to k targets is k requests and k replies, 2k). Bytes shipped are the probe's
object code for each ``load_binary`` (:data:`CODE_BYTES`, or the size a recording measured,
``meta.code_bytes``), the same binary again in each ``call``'s arguments (the seed's
``run_probe(binary, visited)`` carries it on, so that the callee can ship it further), and
each ``call``'s visited set as the external term of an Elixir ``MapSet`` of the node-name atoms
(:func:`mapset_size`). Not counted: the replies' maps, and the distribution's atom cache, which
shrinks repeated atoms on a live connection.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from inkworm.etf import Atom, Term, encode
from inkworm.trace import Call, Crash, LoadBinary, NodeSet, ProbeStart, Result, Trace

CODE_BYTES = 29_108
"""``byte_size`` of the worm module's object code (``InkwormProbe.Worm``: the seed's walk, the
parallel fan-out, the collectors), as ``Code.compile_quoted/2`` gives it on Elixir 1.14.0 /
OTP 25. Measure again after changing the probe:
``elixir -e 'Code.require_file("src/inkworm/probe/inkworm_probe.exs");
IO.puts(InkwormProbe.run([]).code_bytes)'`` (a recording writes it as ``meta.code_bytes``)."""


def mapset_term(names: Iterable[str]) -> Term:
    """``MapSet.new(names)`` as Elixir 1.14 builds it: ``%MapSet{map: %{name => []},
    version: 2}``, names as atoms."""
    return {Atom("__struct__"): Atom("Elixir.MapSet"),
            Atom("map"): {Atom(n): [] for n in names}, Atom("version"): 2}


_EMPTY = len(encode(mapset_term(())))


def atom_bytes(name: str) -> int:
    """The bytes one element adds to a MapSet's external term: the atom and its ``[]``."""
    size = len(name.encode("utf-8"))
    return size + (2 if size < 256 else 3) + 1


def mapset_size(names: Iterable[str]) -> int:
    """``byte_size(:erlang.term_to_binary(MapSet.new(names)))`` (OTP 26+ encoding; the same
    bytes as :func:`~inkworm.etf.encode` of :func:`mapset_term`, without building it)."""
    return _EMPTY + sum(map(atom_bytes, names))


@dataclass(frozen=True)
class Costs:
    """One run's costs."""

    probes: int
    """Probes started (``probe_start`` events)."""
    duplicates: int
    """Probes started on a node already probed (a parallel worm's duplicate work)."""
    messages: int
    """erpc requests and replies: 2 per ``load_binary``, 2 per ``call``."""
    code_bytes: int
    """Object code shipped: :data:`CODE_BYTES` per ``load_binary``."""
    call_code_bytes: int
    """The same binary again in each ``call``'s arguments."""
    visited_bytes: int
    """Visited sets shipped: one MapSet per ``call``."""
    t_us: int | None
    """Virtual (or measured) time of the outcome, ``result`` or ``crash``; ``None`` when the
    trace has neither."""

    @property
    def bytes(self) -> int:
        """Bytes shipped: code (loaded, and carried in calls) and visited sets."""
        return self.code_bytes + self.call_code_bytes + self.visited_bytes


def costs(trace: Trace, code_bytes: int | None = None) -> Costs:
    """Count what ``trace``'s run cost (linear in the trace: a sequential worm's visited sets,
    prefixes of one visit order, are measured from its prefix sums). ``code_bytes``: the
    probe's size (default: what the trace's ``meta`` says, else :data:`CODE_BYTES`)."""
    if code_bytes is None:
        measured = trace.header.meta.get("code_bytes")
        code_bytes = measured if isinstance(measured, int) and measured > 0 else CODE_BYTES
    starts = loads = calls = visited = 0
    probed: set[str] = set()
    measure = _SetSizes()
    for e in trace.events:
        if isinstance(e, ProbeStart):
            starts += 1
            probed.add(e.node)
        elif isinstance(e, LoadBinary):
            loads += 1
        elif isinstance(e, Call):
            calls += 1
            visited += measure(e.visited)
    outcome = trace.outcome
    return Costs(probes=starts, duplicates=starts - len(probed), messages=2 * (loads + calls),
                 code_bytes=loads * code_bytes, call_code_bytes=calls * code_bytes,
                 visited_bytes=visited,
                 t_us=outcome.t_us if isinstance(outcome, Result | Crash) else None)


class _SetSizes:
    """:func:`mapset_size` of many sets: in O(1) for a slice of a shared visit order."""

    def __init__(self) -> None:
        self.prefix: dict[int, tuple[Sequence[str], list[int]]] = {}

    def __call__(self, nodes: AbstractSet[str]) -> int:
        if not isinstance(nodes, NodeSet):
            return mapset_size(nodes)
        order, lo, hi = nodes.span
        known = self.prefix.get(id(order))
        if known is None or known[0] is not order or len(known[1]) <= hi:
            known = self.prefix[id(order)] = (order, list(itertools.accumulate(
                map(atom_bytes, order), initial=0)))
        sums = known[1]
        return _EMPTY + sums[hi] - sums[lo]


def cost_lines(c: Costs) -> list[str]:
    """The costs as ``summary`` prints them: two lines."""
    time = f"{c.t_us:,} us" if c.t_us is not None else "time unknown (no result, no crash)"
    return [f"costs: {c.probes:,} probes ({c.duplicates:,} duplicate), {c.messages:,} "
            f"messages, {time}",
            f"bytes shipped: {c.bytes:,} (code {c.code_bytes:,} loaded and "
            f"{c.call_code_bytes:,} again in calls, visited sets {c.visited_bytes:,})"]
