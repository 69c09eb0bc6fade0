"""Stage 3: the trace (v2, ``docs/trace-v2.md``; v1 read forever), the validated file between
the stages.

A trace is a header plus a stream of typed events (one class per kind). Sets of nodes
(``visited``, ``keys``) are kept as :class:`~collections.abc.Set` values and written sorted;
``neighbors.nodes`` keeps the runtime's order. This module holds the model and the writer;
:mod:`inkworm.reader` reads and validates.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import json
import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar

from inkworm.errors import InputError
from inkworm.output import atomic_text
from inkworm.run import AutoConnect, EdgeOrder, Mode, Strategy

VERSION = 2
"""The version this module writes (``docs/trace-v2.md``); readers take 1 and 2."""
READABLE = (1, 2)


class Kind(enum.Enum):
    """Event kinds of trace v1."""

    PROBE_START = "probe_start"
    NEIGHBORS = "neighbors"
    SKIP = "skip"
    LOAD_BINARY = "load_binary"
    CALL = "call"
    RETURN = "return"
    PROBE_END = "probe_end"
    CONNECT = "connect"
    DISCONNECT = "disconnect"
    ERROR = "error"
    KILL = "kill"
    COLLECT = "collect"
    RESULT = "result"
    CRASH = "crash"


class Source(enum.Enum):
    """Where a trace comes from."""

    BEAM = "beam"
    SIMULATED = "simulated"
    LOG = "log"


class NodeSet(AbstractSet[str]):
    """A set of node names that is a slice of a shared visit order, stored in O(1).

    In a sequential depth-first worm every ``visited`` set is a prefix of the visit order and
    every subtree's ``keys`` a contiguous slice of it, so the simulator never copies them.
    """

    __slots__ = ("_hi", "_lo", "_order", "_pos")

    def __init__(self, order: Sequence[str], pos: Mapping[str, int], lo: int, hi: int) -> None:
        self._order, self._pos, self._lo, self._hi = order, pos, lo, hi

    def __contains__(self, item: object) -> bool:
        i = self._pos.get(item) if isinstance(item, str) else None
        return i is not None and self._lo <= i < self._hi

    def __iter__(self) -> Iterator[str]:
        return iter(self._order[self._lo : self._hi])

    def __len__(self) -> int:
        return self._hi - self._lo

    def __repr__(self) -> str:
        return f"NodeSet({sorted(self)!r})"

    @property
    def span(self) -> tuple[Sequence[str], int, int]:
        """The visit order it is a slice of, and the slice: ``(order, lo, hi)`` (measure many
        sets of one order in O(1) each, from its prefix sums)."""
        return self._order, self._lo, self._hi

    __hash__ = AbstractSet._hash


class FieldType(enum.Enum):
    """What an event field holds, and so how it is read, written and checked."""

    NODE = "node"
    """One node name."""
    NODES = "nodes"
    """Node names in the runtime's order (``nodes()``)."""
    SET = "set"
    """A set of node names (written sorted in v1, by reference to the visit order in v2)."""
    MAP = "map"
    """Node name to node names (the result map)."""
    TEXT = "text"
    """Free text (a reason)."""
    VALUES = "values"
    """Collector name to any JSON value (the worm that works: ``collect``)."""
    PROBE = "probe"
    """A probe's path in a parallel worm's call tree: ``"0"`` (the launcher's), ``"0.2.1"``
    (the first target of the second target of the launcher's probe)."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of an event kind: its attribute, its JSON name, its type."""

    attr: str
    json: str
    type: FieldType


def _field(kind: FieldType, json: str | None = None, optional: bool = False) -> Any:
    """Declare an event field: its type (and JSON name, when it differs from the attribute).
    An ``optional`` field is ``None`` when absent, and then not written."""
    if optional:
        return field(default=None, metadata={"type": kind, "json": json, "optional": True})
    return field(metadata={"type": kind, "json": json})


@dataclass(slots=True, kw_only=True)
class Event:
    """Fields common to every event; subclasses declare the fields of their kind, once, with
    :func:`_field` (type and JSON name); :data:`SCHEMA` derives from them. Build events by
    keyword."""

    seq: int
    t_us: int
    node: str
    line: int = field(default=0, compare=False)
    """Line in the file it was read from (0 when made in memory)."""
    probe: str | None = _field(FieldType.PROBE, optional=True)
    """The probe that wrote it, in a parallel trace (``docs/trace-v2.md``): its path in the
    call tree. ``None`` in sequential traces and on the runtime's own observations."""
    kind: ClassVar[Kind]

    def others(self) -> tuple[str, ...]:
        """The other nodes this event names (``to``, ``from``, ``peer``, ``neighbor``)."""
        return tuple(getattr(self, f.attr) for f in SCHEMA[self.kind]
                     if f.type is FieldType.NODE)


@dataclass(slots=True, kw_only=True)
class ProbeStart(Event):
    visited: AbstractSet[str] = _field(FieldType.SET)
    kind: ClassVar[Kind] = Kind.PROBE_START


@dataclass(slots=True, kw_only=True)
class Neighbors(Event):
    nodes: tuple[str, ...] = _field(FieldType.NODES)
    kind: ClassVar[Kind] = Kind.NEIGHBORS


@dataclass(slots=True, kw_only=True)
class Skip(Event):
    neighbor: str = _field(FieldType.NODE)
    kind: ClassVar[Kind] = Kind.SKIP


@dataclass(slots=True, kw_only=True)
class LoadBinary(Event):
    to: str = _field(FieldType.NODE)
    kind: ClassVar[Kind] = Kind.LOAD_BINARY


@dataclass(slots=True, kw_only=True)
class Call(Event):
    to: str = _field(FieldType.NODE)
    visited: AbstractSet[str] = _field(FieldType.SET)
    child: str | None = _field(FieldType.PROBE, optional=True)
    """The path of the probe this call starts (parallel traces)."""
    kind: ClassVar[Kind] = Kind.CALL


@dataclass(slots=True, kw_only=True)
class Return(Event):
    callee: str = _field(FieldType.NODE, json="from")
    """The callee answering (``from`` in the file)."""
    keys: AbstractSet[str] = _field(FieldType.SET)
    child: str | None = _field(FieldType.PROBE, optional=True)
    """The path of the probe answering (parallel traces)."""
    kind: ClassVar[Kind] = Kind.RETURN


@dataclass(slots=True, kw_only=True)
class ProbeEnd(Event):
    keys: AbstractSet[str] = _field(FieldType.SET)
    kind: ClassVar[Kind] = Kind.PROBE_END


@dataclass(slots=True, kw_only=True)
class Connect(Event):
    peer: str = _field(FieldType.NODE)
    kind: ClassVar[Kind] = Kind.CONNECT


@dataclass(slots=True, kw_only=True)
class Disconnect(Event):
    peer: str = _field(FieldType.NODE)
    reason: str = _field(FieldType.TEXT)
    kind: ClassVar[Kind] = Kind.DISCONNECT


@dataclass(slots=True, kw_only=True)
class Error(Event):
    to: str = _field(FieldType.NODE)
    reason: str = _field(FieldType.TEXT)
    kind: ClassVar[Kind] = Kind.ERROR


@dataclass(slots=True, kw_only=True)
class Kill(Event):
    kind: ClassVar[Kind] = Kind.KILL


@dataclass(slots=True, kw_only=True)
class Collect(Event):
    """What the collectors found on ``node`` (``--collect``), right after its ``nodes()``."""

    values: Mapping[str, Any] = _field(FieldType.VALUES)
    kind: ClassVar[Kind] = Kind.COLLECT


@dataclass(slots=True, kw_only=True)
class Result(Event):
    map: Mapping[str, tuple[str, ...]] = _field(FieldType.MAP)
    kind: ClassVar[Kind] = Kind.RESULT


@dataclass(slots=True, kw_only=True)
class Crash(Event):
    reason: str = _field(FieldType.TEXT)
    kind: ClassVar[Kind] = Kind.CRASH


EVENT_CLASSES: dict[Kind, type[Event]] = {  # the typed class of each kind
    cls.kind: cls
    for cls in (ProbeStart, Neighbors, Skip, LoadBinary, Call, Return, ProbeEnd, Connect,
                Disconnect, Error, Kill, Collect, Result, Crash)
}

def _specs(cls: type[Event], optional: bool) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec(f.name, f.metadata["json"] or f.name, f.metadata["type"])
                 for f in dataclasses.fields(cls)
                 if "type" in f.metadata and f.metadata.get("optional", False) is optional)


SCHEMA: dict[Kind, tuple[FieldSpec, ...]] = {
    kind: _specs(cls, optional=False) for kind, cls in EVENT_CLASSES.items()}
"""Each kind's own (required) fields, in the order they are written: derived from the
classes above."""

OPTIONAL: dict[Kind, tuple[FieldSpec, ...]] = {
    kind: _specs(cls, optional=True) for kind, cls in EVENT_CLASSES.items()}
"""Each kind's optional fields (``probe``, a call's and a return's ``child``: parallel
traces), written after the required ones when set."""


@dataclass(frozen=True)
class Header:
    """Line 1 of a trace."""

    launch: str
    mode: Mode
    source: Source
    graph: str | None = None
    edge_order: EdgeOrder | None = None
    auto_connect: AutoConnect | None = None
    strategy: Strategy | None = None
    """``None`` (not written) or ``sequential``: the seed's walk; ``parallel``: the
    multicall worm (``docs/trace-v2.md``, "Parallel traces")."""
    meta: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Unknown header fields, kept and written back."""
    version: int = field(default=VERSION, compare=False)
    """The format version it was read in (written: always :data:`VERSION`)."""

    @property
    def parallel(self) -> bool:
        """Whether the run is the parallel worm's (probes carry paths, nodes may be probed
        twice)."""
        return self.strategy is Strategy.PARALLEL


@dataclass
class Trace:
    """One worm run: its header and its events in file (causal) order."""

    header: Header
    events: list[Event]
    path: str | None = field(default=None, compare=False)
    """The file it was read from (not part of what the trace is)."""

    @property
    def truncated(self) -> bool:
        """True when the run has neither ``result`` nor ``crash`` (the file was cut short)."""
        return not any(isinstance(e, Result | Crash) for e in self.events)

    @property
    def outcome(self) -> Result | Crash | None:
        """The ``result`` or ``crash`` on the launch node, if any."""
        for e in reversed(self.events):
            if isinstance(e, Result | Crash) and e.node == self.header.launch:
                return e
        return None


# --- writing -------------------------------------------------------------------------------

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
