"""Stage 3: trace v1 (``shared/trace-v1.md``), the validated file between the stages.

A trace is a header plus a stream of typed events (one class per kind). Sets of nodes
(``visited``, ``keys``) are kept as :class:`~collections.abc.Set` values and written sorted;
``neighbors.nodes`` keeps the runtime's order. This module holds the model and the writer;
:mod:`inkworm.reader` reads and validates.
"""

from __future__ import annotations

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

VERSION = 1


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
    RESULT = "result"
    CRASH = "crash"


class Mode(enum.Enum):
    """How the probe treats its group leader (see the seed's gotcha)."""

    NAIVE = "naive"
    FIXED = "fixed"


class Source(enum.Enum):
    """Where a trace comes from."""

    BEAM = "beam"
    SIMULATED = "simulated"
    LOG = "log"


class AutoConnect(enum.Enum):
    """``-kernel dist_auto_connect``: ``always`` (BEAM default) or ``never``."""

    ALWAYS = "always"
    NEVER = "never"


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

    __hash__ = AbstractSet._hash


@dataclass(slots=True)
class Event:
    """Fields common to every event; subclasses add the fields of their kind."""

    seq: int
    t_us: int
    node: str
    line: int = field(default=0, kw_only=True, compare=False)
    """Line in the file it was read from (0 when made in memory)."""
    kind: ClassVar[Kind]

    def others(self) -> tuple[str, ...]:
        """The other nodes this event names (``to``, ``from``, ``peer``, ``neighbor``)."""
        return tuple(getattr(self, attr) for _, attr, typ in FIELDS[self.kind]
                     if typ == "str" and attr in _NODEFIELDS)


_NODEFIELDS = frozenset({"to", "callee", "peer", "neighbor"})


@dataclass(slots=True)
class ProbeStart(Event):
    visited: AbstractSet[str]
    kind: ClassVar[Kind] = Kind.PROBE_START


@dataclass(slots=True)
class Neighbors(Event):
    nodes: tuple[str, ...]
    kind: ClassVar[Kind] = Kind.NEIGHBORS


@dataclass(slots=True)
class Skip(Event):
    neighbor: str
    kind: ClassVar[Kind] = Kind.SKIP


@dataclass(slots=True)
class LoadBinary(Event):
    to: str
    kind: ClassVar[Kind] = Kind.LOAD_BINARY


@dataclass(slots=True)
class Call(Event):
    to: str
    visited: AbstractSet[str]
    kind: ClassVar[Kind] = Kind.CALL


@dataclass(slots=True)
class Return(Event):
    callee: str
    """The callee answering (``from`` in the file)."""
    keys: AbstractSet[str]
    kind: ClassVar[Kind] = Kind.RETURN


@dataclass(slots=True)
class ProbeEnd(Event):
    keys: AbstractSet[str]
    kind: ClassVar[Kind] = Kind.PROBE_END


@dataclass(slots=True)
class Connect(Event):
    peer: str
    kind: ClassVar[Kind] = Kind.CONNECT


@dataclass(slots=True)
class Disconnect(Event):
    peer: str
    reason: str
    kind: ClassVar[Kind] = Kind.DISCONNECT


@dataclass(slots=True)
class Error(Event):
    to: str
    reason: str
    kind: ClassVar[Kind] = Kind.ERROR


@dataclass(slots=True)
class Kill(Event):
    kind: ClassVar[Kind] = Kind.KILL


@dataclass(slots=True)
class Result(Event):
    map: Mapping[str, tuple[str, ...]]
    kind: ClassVar[Kind] = Kind.RESULT


@dataclass(slots=True)
class Crash(Event):
    reason: str
    kind: ClassVar[Kind] = Kind.CRASH


@dataclass(frozen=True)
class Header:
    """Line 1 of a trace."""

    launch: str
    mode: Mode
    source: Source
    graph: str | None = None
    edge_order: str | None = None
    auto_connect: AutoConnect | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Unknown header fields, kept and written back."""


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

FIELDS: dict[Kind, tuple[tuple[str, str, str], ...]] = {
    # kind: ((json name, attribute, type), ...); types: str, nodes (list), set, map
    Kind.PROBE_START: (("visited", "visited", "set"),),
    Kind.NEIGHBORS: (("nodes", "nodes", "nodes"),),
    Kind.SKIP: (("neighbor", "neighbor", "str"),),
    Kind.LOAD_BINARY: (("to", "to", "str"),),
    Kind.CALL: (("to", "to", "str"), ("visited", "visited", "set")),
    Kind.RETURN: (("from", "callee", "str"), ("keys", "keys", "set")),
    Kind.PROBE_END: (("keys", "keys", "set"),),
    Kind.CONNECT: (("peer", "peer", "str"),),
    Kind.DISCONNECT: (("peer", "peer", "str"), ("reason", "reason", "str")),
    Kind.ERROR: (("to", "to", "str"), ("reason", "reason", "str")),
    Kind.KILL: (),
    Kind.RESULT: (("map", "map", "map"),),
    Kind.CRASH: (("reason", "reason", "str"),),
}

EVENT_CLASSES: dict[Kind, type[Event]] = {  # the typed class of each kind
    cls.kind: cls
    for cls in (ProbeStart, Neighbors, Skip, LoadBinary, Call, Return, ProbeEnd, Connect,
                Disconnect, Error, Kill, Result, Crash)
}


def header_to_json(header: Header) -> dict[str, Any]:
    """The header as the JSON object of line 1."""
    obj: dict[str, Any] = {
        "inkworm_trace": VERSION,
        "launch": header.launch,
        "mode": header.mode.value,
        "source": header.source.value,
    }
    optional = {"graph": header.graph, "edge_order": header.edge_order,
                "auto_connect": header.auto_connect and header.auto_connect.value}
    obj.update({k: v for k, v in optional.items() if v is not None})
    if header.meta:
        obj["meta"] = dict(header.meta)
    obj.update({k: v for k, v in header.extra.items() if k not in obj})
    return obj


def event_to_json(event: Event) -> dict[str, Any]:
    """One event as its JSON object, fields in a fixed order, sets sorted."""
    obj: dict[str, Any] = {"seq": event.seq, "t_us": event.t_us, "node": event.node,
                           "kind": event.kind.value}
    for name, attr, typ in FIELDS[event.kind]:
        value = getattr(event, attr)
        if typ == "set":
            value = sorted(value)
        elif typ == "nodes":
            value = list(value)
        elif typ == "map":
            value = {k: list(value[k]) for k in sorted(value)}
        obj[name] = value
    return obj


def dumps_line(obj: Mapping[str, Any]) -> str:
    """One JSON Lines line (UTF-8 text, no ASCII escaping)."""
    return json.dumps(obj, ensure_ascii=False) + "\n"


#: Refuse to write a trace larger than this (trace v1 repeats the visited set in every
#: probe_start and call, so its size grows with the square of the number of nodes).
MAX_TRACE_BYTES = 1 << 30


def least_size(trace: Trace) -> int:
    """A lower bound of the bytes :func:`write_trace` writes, without serialising: each event
    takes at least 49 bytes plus its node's name, each name in a node list or map its length
    plus 4 (quotes, comma, space). The visited sets and key sets of the simulator and the log
    importer (:class:`NodeSet`) are measured in O(1) each, from prefix sums of their order."""
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
        for attr in ("visited", "keys", "nodes"):
            nodes = getattr(e, attr, None)
            if nodes is not None:
                size += weight(nodes)
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
        raise TraceTooLarge(f"the trace would be over {_size(least)} (trace v1 "
                            "repeats the visited set in every probe_start and call: "
                            f"{len(trace.events):,} events); refusing to write it")
    written = 0
    write = out.write
    for obj in _objects(trace):
        line = dumps_line(obj)
        written += len(line) if line.isascii() else len(line.encode("utf-8"))
        if written > limit:
            raise TraceTooLarge(f"the trace passes {_size(limit)} at event "
                                f"{obj.get('seq', 0):,} of {len(trace.events):,} (trace v1 "
                                "repeats the visited set in every probe_start and call); "
                                "refusing to write it")
        write(line)
    return written


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**29 else f"{count / 2**20:.1f} MiB"


def _objects(trace: Trace) -> Iterator[Mapping[str, Any]]:
    yield header_to_json(trace.header)
    for event in trace.events:
        yield event_to_json(event)


def save_trace(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Write a trace to ``path`` atomically (temporary file beside it, then rename)."""
    with atomic_text(path) as out:
        write_trace(trace, out)
