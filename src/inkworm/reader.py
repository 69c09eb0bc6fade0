"""Reading trace v1: a validating reader that names the file and line of the first fault.

Anything that is not trace v1 (empty file, no header, header only, wrong version, unknown
kind, missing fields, wrong types, a truncated line) raises :class:`InputError`; a trace
without ``result``/``crash`` is read and marked :attr:`~inkworm.trace.Trace.truncated`. Lines
are parsed with orjson and events built through one fast path per kind, with the cyclic GC
paused; a line that fails is judged again with the standard library for its message.
"""

from __future__ import annotations

import enum
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import IO, Any

import orjson

from inkworm.errors import InputError, decode_text, gc_paused, open_input
from inkworm.run import AutoConnect, EdgeOrder, Mode, Strategy
from inkworm.trace import (
    EVENT_CLASSES,
    OPTIONAL,
    READABLE,
    SCHEMA,
    Event,
    FieldType,
    Header,
    Kind,
    NodeSet,
    ProbeStart,
    Source,
    Trace,
)
from inkworm.tracefile import MAX_TRACE_BYTES

#: A trace line longer than this is refused before it is parsed (the longest line of a
#: trace inkworm writes, a 200,000-edge result map, is ~5 MB).
MAX_LINE_BYTES = 64 * 2**20

#: A 64-bit integer, as ``seq`` and ``t_us`` are (BEAM clocks; what orjson reads).
_INT64 = 2**63


def load_trace(path: str | os.PathLike[str]) -> Trace:
    """Read and validate a trace file, streaming its lines as bytes (see :func:`parse_trace`);
    a UTF-8 byte-order mark is allowed. A pipe or device is refused, and so is a line over
    :data:`MAX_LINE_BYTES` or a file over :data:`~inkworm.trace.MAX_TRACE_BYTES` (counted as
    read: the file's size is not trusted)."""
    where = str(path)
    try:
        with open_input(where, "trace") as stream, gc_paused():
            return parse_trace(_without_bom(_bounded_lines(stream, where)), where)
    except OSError as err:
        raise InputError(f"cannot read trace file: {err.strerror or err}", where) from None


def _bounded_lines(stream: IO[bytes], where: str) -> Iterator[bytes]:
    """The lines of ``stream``, none read past :data:`MAX_LINE_BYTES`, all together at most
    :data:`~inkworm.trace.MAX_TRACE_BYTES`."""
    readline = stream.readline
    total = 0
    lineno = 0
    while line := readline(MAX_LINE_BYTES + 1):
        lineno += 1
        total += len(line)
        if len(line) > MAX_LINE_BYTES:
            raise InputError(f"line longer than {MAX_LINE_BYTES // 2**20} MiB: not a trace "
                             "line inkworm reads", where, lineno)
        if total > MAX_TRACE_BYTES:
            raise InputError(f"trace larger than {MAX_TRACE_BYTES // 2**30} GiB, more than "
                             "inkworm writes or reads", where, lineno)
        yield line


def _without_bom(lines: Iterable[bytes]) -> Iterator[bytes]:
    it = iter(lines)
    first = next(it, None)
    if first is not None:
        yield first.removeprefix(b"\xef\xbb\xbf")
    yield from it


def read_trace_bytes(data: bytes, where: str) -> Trace:
    """Validate a trace given as bytes (for stdin and tests)."""
    return parse_trace(split_lines(decode_text(data, where, "trace")), where)


def split_lines(text: str) -> list[str]:
    """Lines ended by ``\\n`` only (JSON strings may hold U+2028 and other line breaks that
    ``str.splitlines`` would cut at)."""
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def parse_trace(lines: Iterable[str | bytes], where: str = "<trace>") -> Trace:
    """Validate trace v1 lines (text or UTF-8 bytes, each ending in a newline but maybe the
    last); raise :class:`InputError` naming the line of the first fault."""
    numbered = enumerate(lines, start=1)
    header = None
    lineno = 0
    for lineno, text in numbered:
        if text.strip():
            header = _parse_header(_json_line(text, where, lineno), where, lineno)
            break
    if header is None:
        raise InputError("empty trace: no header line", where, 1)
    events: list[Event] = []
    append = events.append
    order = _VisitOrder(header.version)
    for lineno, text in numbered:
        try:
            obj = _loads(text)
        except ValueError:  # orjson's errors are ValueErrors
            if not text.strip():
                continue
            if text[-1:] not in (b"\n", "\n"):
                raise InputError("truncated last line (not valid JSON)", where,
                                 lineno) from None
            obj = _json_line(text, where, lineno)
        try:
            event = _parse_event(obj, where, lineno)
        except InputError:  # judge the line as the standard library reads it (big integers)
            event = _parse_event(_json_line(text, where, lineno), where, lineno)
        order.resolve(event, where)
        append(event)
    if not events:
        raise InputError("header only: the trace has no events", where, lineno or 1)
    return Trace(header, events, where)


class _Ref(tuple[int, int]):
    """A set written by reference (trace v2): visit-order positions ``lo`` to ``hi``."""

    __slots__ = ()


_SET_ATTRS = {EVENT_CLASSES[kind]: attrs for kind in Kind
              if (attrs := tuple(f.attr for f in SCHEMA[kind] if f.type is FieldType.SET))}
"""The node-set attributes of each event class that has any (looked up by class: hashing a
class is C, hashing an Enum member is Python, and this runs once per event)."""


class _VisitOrder:
    """The visit order as read so far; turns v2 references into :class:`NodeSet` values that
    share it (so a 20,000-node trace holds its sets in O(1) each)."""

    def __init__(self, version: int) -> None:
        self.version = version
        self.order: list[str] = []
        self.pos: dict[str, int] = {}

    def resolve(self, event: Event, where: str) -> None:
        cls = type(event)
        attrs = _SET_ATTRS.get(cls)
        if attrs is None:
            return
        for attr in attrs:
            value = getattr(event, attr)
            if isinstance(value, _Ref):
                lo, hi = value
                if self.version < 2:
                    raise InputError(f"{event.kind.value} event: field '{attr}' must be a list "
                                     "of node names (references are trace v2)", where,
                                     event.line)
                if hi > len(self.order):
                    raise InputError(f"{event.kind.value} event: field '{attr}' refers to "
                                     f"visit-order positions up to {hi}, but only "
                                     f"{len(self.order)} nodes were visited so far", where,
                                     event.line)
                setattr(event, attr, NodeSet(self.order, self.pos, lo, hi))
        if cls is ProbeStart and event.node not in self.pos:
            self.pos[event.node] = len(self.order)
            self.order.append(event.node)


_loads: Callable[[str | bytes], Any] = orjson.loads
"""orjson parses a trace line ~4x faster than the json module. It reads integers beyond 64
bits as floats and refuses some valid JSON, so every line it refuses or that fails
validation is judged again as :func:`_json_line` (the standard library) reads it."""


def _json_line(text: str | bytes, where: str, lineno: int) -> dict[str, Any]:
    """Parse one line with the standard library, for the error message that names it."""
    if isinstance(text, bytes):
        if b"\x00" in text:
            raise InputError("binary data (NUL byte), not a trace file", where, lineno)
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("not UTF-8", where, lineno) from None
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
    try:  # json accepts escaped lone surrogates ("\ud800"), which no UTF-8 output can hold
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("a string holds a lone surrogate (not valid Unicode)", where,
                         lineno) from None
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
    if type(version) is not int or version not in READABLE:
        raise InputError(f"unsupported trace version {_short(version)} (this reader knows 1 "
                         "and 2)", where, line)
    launch = obj.get("launch")
    if not isinstance(launch, str) or not launch:
        raise InputError("header field 'launch' must be a node name", where, line)
    meta = obj.get("meta", {})
    if not isinstance(meta, dict):
        raise InputError("header field 'meta' must be an object", where, line)
    graph = obj.get("graph")
    if graph is not None and not isinstance(graph, str):
        raise InputError("header field 'graph' must be a string", where, line)
    known = {"inkworm_trace", "launch", "mode", "source", "graph", "edge_order",
             "auto_connect", "strategy", "meta"}
    return Header(
        launch=launch,
        mode=_enum(Mode, obj, "mode", where, line),
        source=_enum(Source, obj, "source", where, line),
        graph=graph,
        edge_order=_enum(EdgeOrder, obj, "edge_order", where, line, required=False),
        auto_connect=_enum(AutoConnect, obj, "auto_connect", where, line, required=False),
        strategy=_enum(Strategy, obj, "strategy", where, line, required=False),
        meta=meta,
        extra={k: v for k, v in obj.items() if k not in known},
        version=version,
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


def _check_set(v: Any) -> frozenset[str] | _Ref | None:
    """A list of names, or (trace v2) ``{"prefix": N}`` / ``{"slice": [I, J]}``."""
    if type(v) is dict and len(v) == 1:
        if type(v.get("prefix")) is int and 0 <= v["prefix"] < _INT64:
            return _Ref((0, v["prefix"]))
        span = v.get("slice")
        if (type(span) is list and len(span) == 2 and all(type(x) is int for x in span)
                and 0 <= span[0] <= span[1] < _INT64):
            return _Ref((span[0], span[1]))
        return None
    return frozenset(v) if _names(v) else None


_PATH = re.compile(r"0(\.[1-9][0-9]{0,9})*")


def _check_path(v: Any) -> str | None:
    """A probe's path: ``"0"``, then ``".i"`` (1-based) for each call down the tree."""
    return v if type(v) is str and _PATH.fullmatch(v) else None


def _check_map(v: Any) -> dict[str, tuple[str, ...]] | None:
    if type(v) is not dict or not all(_names(nodes) for nodes in v.values()):
        return None
    return {k: tuple(nodes) for k, nodes in v.items()}


def _check_values(v: Any) -> dict[str, Any] | None:
    return v if type(v) is dict and all(type(k) is str and k for k in v) else None


_CHECKERS: dict[FieldType, tuple[Callable[[Any], Any], str]] = {
    FieldType.VALUES: (_check_values, "an object mapping collector names to values"),
    FieldType.NODE: (_check_str, "a string"),
    FieldType.TEXT: (_check_str, "a string"),
    FieldType.NODES: (_check_nodes, "a list of node names"),
    FieldType.SET: (_check_set, "a list of node names, or a reference {\"prefix\": N} or "
                                "{\"slice\": [I, J]}"),
    FieldType.MAP: (_check_map, "an object mapping node names to lists of node names"),
    FieldType.PROBE: (_check_path, "a probe path such as \"0\" or \"0.2.1\""),
}

_MISSING = object()
_Fields = tuple[tuple[str, str, Callable[[Any], Any]], ...]
_PARSERS: dict[Any, tuple[Kind, Any, _Fields, _Fields]] = {
    kind.value: (kind, EVENT_CLASSES[kind],
                 tuple((f.json, f.attr, _CHECKERS[f.type][0]) for f in SCHEMA[kind]),
                 tuple((f.json, f.attr, _CHECKERS[f.type][0]) for f in OPTIONAL[kind]))
    for kind in Kind
}


def _parse_event(obj: Any, where: str, line: int) -> Event:
    """Fast path: a well-formed event; anything else goes to :func:`_event_error`."""
    if type(obj) is dict:
        kind = obj.get("kind")
        parser = _PARSERS.get(kind) if type(kind) is str else None
        seq, t_us, node = obj.get("seq"), obj.get("t_us"), obj.get("node")
        if parser is not None and type(seq) is int and type(t_us) is int \
                and -_INT64 <= seq < _INT64 and -_INT64 <= t_us < _INT64 \
                and type(node) is str and node:
            values = {attr: check(obj.get(name, _MISSING)) for name, attr, check in parser[2]}
            for name, attr, check in parser[3]:  # optional: absent, or valid
                if name in obj:
                    values[attr] = check(obj[name])
            if None not in values.values():
                event: Event = parser[1](seq=seq, t_us=t_us, node=node, line=line, **values)
                return event
    raise _event_error(obj, where, line)


def _short(value: object, limit: int = 40) -> str:
    """A JSON value as a message shows it: ``repr``, cut short (a 400-digit number, too)."""
    try:
        text = repr(value)
    except ValueError:  # an integer too long for repr (Python's int_max_str_digits)
        return f"an integer of more than {limit} digits"
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
                              f"{_short(obj[name])}", where, line)
        if not -_INT64 <= obj[name] < _INT64:
            return InputError(f"{kind.value} event: field '{name}' is out of range (a 64-bit "
                              f"integer), got {_short(obj[name])}", where, line)
    node = obj.get("node")
    if not isinstance(node, str) or not node:
        what = "missing field 'node'" if node is None else "field 'node' must be a node name"
        return InputError(f"{kind.value} event: {what}", where, line)
    for spec in (*SCHEMA[kind], *OPTIONAL[kind]):
        if spec.json not in obj:
            if spec in OPTIONAL[kind]:
                continue
            return InputError(f"{kind.value} event: missing field '{spec.json}'", where, line)
        check, expected = _CHECKERS[spec.type]
        if check(obj[spec.json]) is None:
            return InputError(f"{kind.value} event: field '{spec.json}' must be {expected}",
                              where, line)
    return InputError(f"{kind.value} event: invalid", where, line)
