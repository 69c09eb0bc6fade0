"""Stage 3: the trace (v2, ``docs/trace-v2.md``; v1 read forever), the validated file between
the stages.

A trace is a header plus a stream of typed events (one class per kind). Sets of nodes
(``visited``, ``keys``) are kept as :class:`~collections.abc.Set` values and written sorted;
``neighbors.nodes`` keeps the runtime's order. This module holds the model;
:mod:`inkworm.tracefile` writes it, :mod:`inkworm.reader` reads and validates.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, ClassVar

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
