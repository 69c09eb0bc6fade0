"""Writing a trace: JSON Lines, one header then one event a line (``shared/trace-v1.md``,
``docs/trace-v2.md``), visit sets as references where they are long, within a size limit,
atomically to a file.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import IO, Any

from inkworm.errors import InputError
from inkworm.output import atomic_text
from inkworm.trace import (
    OPTIONAL,
    SCHEMA,
    VERSION,
    Event,
    FieldType,
    Header,
    Neighbors,
    NodeSet,
    ProbeStart,
    Result,
    Trace,
)


def header_to_json(header: Header) -> dict[str, Any]:
    """The header as the JSON object of line 1."""
    obj: dict[str, Any] = {
        "inkworm_trace": VERSION,
        "launch": header.launch,
        "mode": header.mode.value,
        "source": header.source.value,
    }
    optional = {"graph": header.graph,
                "edge_order": header.edge_order and header.edge_order.value,
                "auto_connect": header.auto_connect and header.auto_connect.value,
                "strategy": header.strategy and header.strategy.value}
    obj.update({k: v for k, v in optional.items() if v is not None})
    if header.meta:
        obj["meta"] = dict(header.meta)
    obj.update({k: v for k, v in header.extra.items() if k not in obj})
    return obj


def event_to_json(event: Event, refs: VisitRefs | None = None) -> dict[str, Any]:
    """One event as its JSON object, fields in schema order: sets by reference to the visit
    order when ``refs`` is given (trace v2), else sorted lists (v1)."""
    obj: dict[str, Any] = {"seq": event.seq, "t_us": event.t_us, "node": event.node,
                           "kind": event.kind.value}
    for spec in SCHEMA[event.kind]:
        value = getattr(event, spec.attr)
        if spec.type is FieldType.SET:
            value = refs.ref(value) if refs is not None else sorted(value)
        elif spec.type is FieldType.NODES:
            value = list(value)
        elif spec.type is FieldType.MAP:
            value = {k: list(value[k]) for k in sorted(value)}
        elif spec.type is FieldType.VALUES:
            value = {k: value[k] for k in sorted(value)}
        obj[spec.json] = value
    for spec in OPTIONAL[event.kind]:
        value = getattr(event, spec.attr)
        if value is not None:
            obj[spec.json] = value
    return obj


class VisitRefs:
    """The visit order as written so far (distinct ``probe_start`` nodes, in file order), to
    write node sets by reference (trace v2, ``docs/trace-v2.md``): a prefix of it, a slice of
    it, or, for any other set, the sorted list. O(1) for the simulator's :class:`NodeSet`
    values (once their order is seen to agree with the file's), O(size) for others."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.pos: dict[str, int] = {}
        self._agreed: dict[int, int] = {}

    def ref(self, nodes: AbstractSet[str]) -> Any:
        if not nodes:
            return {"prefix": 0}
        span = self._span(nodes)
        if span is None:
            return sorted(nodes)
        lo, hi = span
        return {"prefix": hi} if lo == 0 else {"slice": [lo, hi]}

    def saw(self, event: Event) -> None:
        """Advance past ``event`` (a first ``probe_start`` extends the visit order)."""
        if isinstance(event, ProbeStart) and event.node not in self.pos:
            self.pos[event.node] = len(self.order)
            self.order.append(event.node)

    def _span(self, nodes: AbstractSet[str]) -> tuple[int, int] | None:
        if isinstance(nodes, NodeSet) and self._agrees(nodes._order, nodes._hi):
            return nodes._lo, nodes._hi
        where: list[int] = []
        for n in nodes:
            i = self.pos.get(n)
            if i is None:
                return None
            where.append(i)
        lo, hi = min(where), max(where) + 1
        return (lo, hi) if hi - lo == len(nodes) else None

    def _agrees(self, order: Sequence[str], hi: int) -> bool:
        """Whether ``order[:hi]`` is the visit order written so far (checked once per item)."""
        k = self._agreed.get(id(order), 0)
        mine = self.order
        while k < hi and k < len(mine) and order[k] == mine[k]:
            k += 1
        self._agreed[id(order)] = k
        return k >= hi


def dumps_line(obj: Mapping[str, Any]) -> str:
    """One JSON Lines line (UTF-8 text, no ASCII escaping)."""
    return json.dumps(obj, ensure_ascii=False) + "\n"


#: Refuse to write a trace larger than this (sets by reference keep trace v2 linear in the
#: run's events; only a run of millions of events gets there).
MAX_TRACE_BYTES = 1 << 30


def least_size(trace: Trace) -> int:
    """A lower bound of the bytes :func:`write_trace` writes, without serialising: each event
    takes at least 49 bytes plus its node's name, each name in a node list or map its length
    plus 4 (quotes, comma, space), a set the least of that and a reference (13 bytes). The
    sets of the simulator and the log importer (:class:`NodeSet`) are measured in O(1) each,
    from prefix sums of their order."""
    prefix: dict[int, list[int]] = {}

    def weight(nodes: Collection[str]) -> int:
        if isinstance(nodes, NodeSet):
            sums = prefix.get(id(nodes._order))
            if sums is None:
                sums = prefix[id(nodes._order)] = list(itertools.accumulate(
                    map(len, nodes._order), initial=0))
            return sums[nodes._hi] - sums[nodes._lo] + 4 * len(nodes)
        return sum(map(len, nodes)) + 4 * len(nodes)

    size = 0
    for e in trace.events:
        size += 49 + len(e.node)
        for attr in ("visited", "keys"):
            nodes = getattr(e, attr, None)
            if nodes is not None:
                size += min(13, weight(nodes))
        if isinstance(e, Neighbors):
            size += weight(e.nodes)
        if isinstance(e, Result):
            size += weight(e.map) + sum(weight(peers) for peers in e.map.values())
    return size


class TraceTooLarge(InputError):
    """The trace passes :data:`MAX_TRACE_BYTES`; what was written of it is partial."""


def write_trace(trace: Trace, out: IO[str], limit: int = MAX_TRACE_BYTES) -> int:
    """Write a trace as JSON Lines to an open text stream; return the bytes written.

    Raises :class:`TraceTooLarge` before writing anything when the trace is sure to pass
    ``limit`` (:func:`least_size`), else as soon as the UTF-8 bytes written would pass it,
    leaving a partial stream: write to a file through :func:`save_trace` (or
    :func:`~inkworm.output.atomic_text`), which then removes it.
    """
    least = least_size(trace)
    if least > limit:
        raise TraceTooLarge(f"the trace would be over {_size(least)} "
                            f"({len(trace.events):,} events); refusing to write it")
    written = 0
    write = out.write
    for obj in _objects(trace):
        line = dumps_line(obj)
        written += len(line) if line.isascii() else len(line.encode("utf-8"))
        if written > limit:
            raise TraceTooLarge(f"the trace passes {_size(limit)} at event "
                                f"{obj.get('seq', 0):,} of {len(trace.events):,}; refusing "
                                "to write it")
        write(line)
    return written


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**29 else f"{count / 2**20:.1f} MiB"


def _objects(trace: Trace) -> Iterator[Mapping[str, Any]]:
    yield header_to_json(trace.header)
    refs = VisitRefs()
    for event in trace.events:
        yield event_to_json(event, refs)
        refs.saw(event)


def save_trace(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Write a trace to ``path`` atomically (temporary file beside it, then rename)."""
    with atomic_text(path) as out:
        write_trace(trace, out)
