"""Stage 3: trace v1 (``shared/trace-v1.md``), the validated file between the stages.

A trace is a header plus a stream of typed events. Sets of nodes (``visited``, ``keys``) are
kept as :class:`~collections.abc.Set` values and written sorted; ``neighbors.nodes`` keeps the
runtime's order. :func:`load_trace` validates as it reads and raises :class:`InputError` with
the file and line for anything that is not trace v1; a trace without ``result``/``crash`` is
readable but marked :attr:`Trace.truncated`; a header with no event at all is not.
"""

from __future__ import annotations

import enum
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar

from inkworm.errors import InputError, decode_text, gc_paused
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
    source: str
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
    path: str | None = None

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

_FIELDS: dict[Kind, tuple[tuple[str, str, str], ...]] = {
    # kind: ((json name, attribute, type), ...); types: str, nodes (list), set, map
    Kind.PROBE_START: (("visited", "visited", "set"),),
    Kind.NEIGHBORS: (("nodes", "nodes", "nodes"),),
    Kind.SKIP: (("neighbor", "neighbor", "str"),),
    Kind.LOAD_BINARY: (("to", "to", "str"),),
    Kind.CALL: (("to", "to", "str"), ("visited", "visited", "set")),
    Kind.RETURN: (("from", "source", "str"), ("keys", "keys", "set")),
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
    for name, attr, typ in _FIELDS[event.kind]:
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


def estimated_size(trace: Trace) -> int:
    """Roughly how many bytes :func:`write_trace` will write (cheap: no serialisation)."""
    names = sum(len(getattr(e, "visited", ())) + len(getattr(e, "keys", ()))
                + len(getattr(e, "nodes", ())) for e in trace.events)
    longest = max((len(e.node) for e in trace.events[:1000]), default=1)
    return 80 * len(trace.events) + (longest + 4) * names


def write_trace(trace: Trace, out: IO[str]) -> None:
    """Write a trace as JSON Lines to an open text stream.

    Raises :class:`InputError` before writing anything when the trace would exceed
    :data:`MAX_TRACE_BYTES`.
    """
    size = estimated_size(trace)
    if size > MAX_TRACE_BYTES:
        raise InputError(f"the trace would be ~{size / 2**30:.1f} GiB (trace v1 repeats the "
                         f"visited set in every probe_start and call: {len(trace.events):,} "
                         "events); refusing to write it")
    out.write(dumps_line(header_to_json(trace.header)))
    for event in trace.events:
        out.write(dumps_line(event_to_json(event)))


def save_trace(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Write a trace to ``path`` atomically (temporary file beside it, then rename)."""
    with atomic_text(path) as out:
        write_trace(trace, out)


# --- reading -------------------------------------------------------------------------------


def load_trace(path: str | os.PathLike[str]) -> Trace:
    """Read and validate a trace file, streaming it line by line (see :func:`parse_trace`)."""
    where = str(path)
    if Path(path).is_dir():
        raise InputError("is a directory, expected a trace file", where)
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream, gc_paused():
            return parse_trace(stream, where)
    except OSError as err:
        raise InputError(f"cannot read trace file: {err.strerror or err}", where) from None


def read_trace_bytes(data: bytes, where: str) -> Trace:
    """Validate a trace given as bytes (for stdin and tests)."""
    return parse_trace(split_lines(decode_text(data, where, "trace")), where)


def split_lines(text: str) -> list[str]:
    """Lines ended by ``\\n`` only (JSON strings may hold U+2028 and other line breaks that
    ``str.splitlines`` would cut at)."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def parse_trace(lines: Iterable[str], where: str = "<trace>") -> Trace:
    """Validate trace v1 lines; raise :class:`InputError` naming the line of the first fault."""
    numbered = enumerate(lines, start=1)
    lineno = 0
    try:
        header = None
        for lineno, text in numbered:
            if text.strip():
                header = _parse_header(_json_line(text, where, lineno), where, lineno)
                break
        if header is None:
            raise InputError("empty trace: no header line", where, 1)
        events: list[Event] = []
        append = events.append
        for lineno, text in numbered:
            try:
                obj, end = _scan(text, 0)
                if end < len(text) and text[end:].strip():
                    raise ValueError("extra data")
            except (ValueError, StopIteration, RecursionError):
                if not text.strip():
                    continue
                if not text.endswith("\n"):
                    raise InputError("truncated last line (not valid JSON)", where,
                                     lineno) from None
                obj = _json_line(text, where, lineno)
            append(_parse_event(obj, where, lineno))
    except UnicodeDecodeError:
        raise InputError("not UTF-8", where, _bad_utf8_line(lines, lineno + 1)) from None
    if not events:
        raise InputError("header only: the trace has no events", where, lineno or 1)
    return Trace(header, events, where)


def _bad_utf8_line(lines: Iterable[str], guess: int) -> int:
    """The line of the first invalid UTF-8 byte (a text stream decodes ahead, by chunks)."""
    name = getattr(lines, "name", None)
    if not isinstance(name, str):
        return guess
    with open(name, "rb") as raw:
        for lineno, data in enumerate(raw, start=1):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                return lineno
    return guess


_scan: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
"""The C scanner behind ``json.loads``, without its per-call wrappers (lines start with ``{``)."""


def _json_line(text: str, where: str, lineno: int) -> dict[str, Any]:
    if "\x00" in text:
        raise InputError("binary data (NUL byte), not a trace file", where, lineno)
    try:
        obj = json.loads(text)
    except RecursionError:
        raise InputError("JSON nested too deeply", where, lineno) from None
    except ValueError as err:
        raise InputError(f"not valid JSON: {getattr(err, 'msg', err)}", where, lineno) from None
    if not isinstance(obj, dict):
        raise InputError(f"expected a JSON object, got {type(obj).__name__}", where, lineno)
    return obj


def _enum(cls: type[enum.Enum], obj: Mapping[str, Any], name: str, where: str, line: int,
          required: bool = True) -> Any:
    value = obj.get(name)
    if value is None and not required:
        return None
    allowed = [m.value for m in cls]
    if value not in allowed:
        got = "missing" if value is None else f"got {value!r}"
        raise InputError(f"header field '{name}' must be one of {allowed}, {got}", where, line)
    return cls(value)


def _parse_header(obj: dict[str, Any], where: str, line: int) -> Header:
    version = obj.get("inkworm_trace")
    if "inkworm_trace" not in obj:
        raise InputError("not an inkworm trace: line 1 has no 'inkworm_trace' field", where, line)
    if version != VERSION or isinstance(version, bool):
        raise InputError(f"unsupported trace version {version!r} (this reader knows 1)",
                         where, line)
    launch = obj.get("launch")
    if not isinstance(launch, str) or not launch:
        raise InputError("header field 'launch' must be a node name", where, line)
    meta = obj.get("meta", {})
    if not isinstance(meta, dict):
        raise InputError("header field 'meta' must be an object", where, line)
    graph = obj.get("graph")
    if graph is not None and not isinstance(graph, str):
        raise InputError("header field 'graph' must be a string", where, line)
    edge_order = obj.get("edge_order")
    if edge_order is not None and edge_order not in ("dot", "reverse"):
        raise InputError(f"header field 'edge_order' must be 'dot' or 'reverse', got "
                         f"{edge_order!r}", where, line)
    known = {"inkworm_trace", "launch", "mode", "source", "graph", "edge_order",
             "auto_connect", "meta"}
    return Header(
        launch=launch,
        mode=_enum(Mode, obj, "mode", where, line),
        source=_enum(Source, obj, "source", where, line),
        graph=graph,
        edge_order=edge_order,
        auto_connect=_enum(AutoConnect, obj, "auto_connect", where, line, required=False),
        meta=meta,
        extra={k: v for k, v in obj.items() if k not in known},
    )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _names(v: Any) -> bool:
    """A JSON list of strings (checked in C: the set of the items' types)."""
    return type(v) is list and (not v or set(map(type, v)) == {str})


def _check_str(v: Any) -> str | None:
    return v if type(v) is str else None


def _check_nodes(v: Any) -> tuple[str, ...] | None:
    return tuple(v) if _names(v) else None


def _check_set(v: Any) -> frozenset[str] | None:
    return frozenset(v) if _names(v) else None


def _check_map(v: Any) -> dict[str, tuple[str, ...]] | None:
    if type(v) is not dict or not all(_names(nodes) for nodes in v.values()):
        return None
    return {k: tuple(nodes) for k, nodes in v.items()}


_CHECKERS: dict[str, tuple[Callable[[Any], Any], str]] = {
    "str": (_check_str, "a string"),
    "nodes": (_check_nodes, "a list of node names"),
    "set": (_check_set, "a list of node names"),
    "map": (_check_map, "an object mapping node names to lists of node names"),
}

_MISSING = object()
_PARSERS: dict[Any, tuple[Kind, Any, tuple[tuple[str, Callable[[Any], Any]], ...]]] = {
    kind.value: (kind, EVENT_CLASSES[kind],
                 tuple((name, _CHECKERS[typ][0]) for name, _attr, typ in _FIELDS[kind]))
    for kind in Kind
}


def _parse_event(obj: Any, where: str, line: int) -> Event:
    """Fast path: a well-formed event; anything else goes to :func:`_event_error`."""
    if type(obj) is dict:
        kind = obj.get("kind")
        parser = _PARSERS.get(kind) if type(kind) is str else None
        seq, t_us, node = obj.get("seq"), obj.get("t_us"), obj.get("node")
        if parser is not None and type(seq) is int and type(t_us) is int \
                and type(node) is str and node:
            values = [check(obj.get(name, _MISSING)) for name, check in parser[2]]
            if None not in values:
                event: Event = parser[1](seq, t_us, node, *values, line=line)
                return event
    raise _event_error(obj, where, line)


def _event_error(obj: Any, where: str, line: int) -> InputError:
    """The one-line error for an event line that is not valid trace v1."""
    if not isinstance(obj, dict):
        return InputError(f"expected a JSON object, got {type(obj).__name__}", where, line)
    raw_kind = obj.get("kind")
    try:
        kind = Kind(raw_kind)
    except (ValueError, TypeError):
        what = "missing field 'kind'" if raw_kind is None else f"unknown event kind {raw_kind!r}"
        return InputError(what, where, line)
    for name in ("seq", "t_us"):
        if name not in obj:
            return InputError(f"{kind.value} event: missing field '{name}'", where, line)
        if not _is_int(obj[name]):
            return InputError(f"{kind.value} event: field '{name}' must be an integer, got "
                              f"{obj[name]!r}", where, line)
    node = obj.get("node")
    if not isinstance(node, str) or not node:
        what = "missing field 'node'" if node is None else "field 'node' must be a node name"
        return InputError(f"{kind.value} event: {what}", where, line)
    for name, _attr, typ in _FIELDS[kind]:
        if name not in obj:
            return InputError(f"{kind.value} event: missing field '{name}'", where, line)
        check, expected = _CHECKERS[typ]
        if check(obj[name]) is None:
            return InputError(f"{kind.value} event: field '{name}' must be {expected}", where,
                              line)
    return InputError(f"{kind.value} event: invalid", where, line)
