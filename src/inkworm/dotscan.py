"""A linear pre-scan of DOT text, run before pydot's grammar sees it.

pydot's pyparsing grammar tries a nested ``{...}`` block as an edge operand first, then again
as a statement, so its time doubles with every level of nesting (measured: a trivial body
8 levels deep parses in ~0.9 s, 9 in 1.8 s, 20 in about an hour), and it handles some 600
statements a second (a 200,000-node file would take four minutes). The scan lexes the text as
pydot does (quoted strings, ``//``, ``#`` and ``/* */`` comments, HTML ``<...>`` IDs), in one
pass, and refuses what the grammar cannot answer in time: nesting deeper than
:data:`MAX_DEPTH`, more than :data:`MAX_NODES` names or :data:`MAX_EDGES` edge operators, each
with the file, line and column where the limit is passed.

inkworm now parses with :mod:`inkworm.dotparse` (linear, pydot's grammar) and keeps pydot only
as the reference; the limits stay, since they are what inkworm reads and how it refuses the
rest. Runs of plain statements (``a -- b;``) are counted at once, not token by token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from inkworm.errors import InputError

MAX_DEPTH = 7
"""Levels of ``{`` (the graph's own body is level 1): pydot parses a trivial body 7 levels
deep in ~0.5 s, 8 in ~0.9 s, and each level doubles the time of what is inside it."""

MAX_NODES = 100_000
"""Distinct node names; also what ``inkworm gen`` makes at most."""

MAX_EDGES = 200_000
"""Edge operators (``--``, ``->``) in the file, and edges of the topology once expanded."""

_TOKEN = re.compile(
    r"""[ \t\r\n\f\v]*(?:
      (?P<comment>//[^\n]*|\#[^\n]*|/\*.*?\*/)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<html><)
    | (?P<edge>--|->)
    | (?P<id>[\w.]+)
    | (?P<open>\{) | (?P<close>\}) | (?P<lbrack>\[) | (?P<rbrack>\]) | (?P<eq>=) | (?P<colon>:)
    | (?P<end>"|/\*|\Z)
    | (?P<other>.)
    )""",
    re.DOTALL | re.VERBOSE,
)
_ANGLE = re.compile(r"[<>]")
_PLAIN_RUN = re.compile(r"(?:[ \t\r\n]*[A-Za-z0-9_.]+(?![\w.])"
                        r"(?:[ \t\r\n]*-[->][ \t\r\n]*[A-Za-z0-9_.]+(?![\w.]))*[ \t\r\n]*;)+")
"""Statements like ``a -- b -- c;`` or ``a;``, one after the other: plain IDs, edge operators,
blanks (what most large files are made of, read at once by :func:`prescan`)."""
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.]+")
_KEYWORDS = frozenset({"graph", "digraph", "subgraph", "node", "edge", "strict"})
_NAMING = frozenset({"graph", "digraph", "subgraph"})  # the next ID names a (sub)graph


@dataclass(frozen=True)
class Scan:
    """What the pre-scan found."""

    names: int
    """Distinct node names (an upper bound: a name written quoted and bare counts twice)."""
    edges: int
    """Edge operators."""
    empty_name_line: int | None
    """Line of the first node named ``""``, if any."""


def tokens(text: str, where: str, runs: bool = False) -> Iterator[tuple[str, str, int]]:
    """``(kind, text, offset)`` for each token pydot would see (comments dropped), refusing
    nesting deeper than :data:`MAX_DEPTH`. Stops at an unterminated string, comment or HTML
    ID: the grammar fails there too, and nothing after it is ever parsed. With ``runs``,
    statements of plain IDs and edge operators after a ``;``, ``{`` or ``}`` come as one
    token of kind ``plain`` (see :data:`_PLAIN_RUN`), blanks before them included."""
    depth = 0
    pos = 0
    match = _TOKEN.match
    boundary = runs
    while True:
        if boundary:
            run = _PLAIN_RUN.match(text, pos)
            if run is not None:
                yield "plain", run.group(), pos
                pos = run.end()
        m = match(text, pos)
        assert m is not None and m.lastgroup is not None  # the last alternatives match anything
        kind, start, pos = m.lastgroup, m.start(m.lastgroup), m.end()
        if kind == "end":
            return
        if kind == "comment":
            continue
        if kind == "html":
            pos = html_end(text, start)
            if pos < 0:
                return
        elif kind == "open":
            depth += 1
            if depth > MAX_DEPTH:
                raise InputError(f"DOT nesting deeper than {MAX_DEPTH} levels (pydot's time "
                                 "doubles with each level)", where, *_line_col(text, start))
        elif kind == "close":
            depth -= 1
        raw = text[start:pos]
        boundary = runs and (kind in ("open", "close") or raw == ";")
        yield kind, raw, start


def html_end(text: str, start: int) -> int:
    """The end of the HTML ID opening at ``start`` (``<`` and ``>`` balance, as pydot counts
    them), or -1 when they never do."""
    level = 0
    for m in _ANGLE.finditer(text, start):
        level += 1 if m.group() == "<" else -1
        if level == 0:
            return m.end()
    return -1


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _name(kind: str, raw: str) -> str:
    return raw[1:-1].replace('\\"', '"') if kind == "string" else raw


def _new_name(names: set[str], name: str, at: int, text: str, where: str) -> bool:
    """Count ``name`` (a node named at offset ``at``) once; whether it was new. Past
    :data:`MAX_NODES` names, :class:`InputError`."""
    if name in names:
        return False
    names.add(name)
    if len(names) > MAX_NODES:
        raise InputError(f"more than {MAX_NODES:,} nodes, more than inkworm reads", where,
                         *_line_col(text, at))
    return True


def prescan(text: str, where: str, *, runs: bool = True) -> Scan:
    """Scan DOT text (see the module doc); raise :class:`InputError` at the first limit
    passed. Runs of plain statements are counted at once unless ``runs`` is false (token by
    token, what the tests compare it with)."""
    names: set[str] = set()
    edges = 0
    empty_at: int | None = None
    in_attrs = False
    skip_next = False  # the next ID names a graph, a port or an attribute value
    pending: tuple[str, int] | None = None  # an ID that names a node unless '=' follows

    def run(raw: str) -> bool:
        """Count a run of plain statements at once, when token by token would come to the
        same: between statements, no keyword (``node -- a``), no limit passed."""
        nonlocal edges
        if in_attrs or skip_next or pending is not None:  # only in_attrs can be, after ;
            return False
        ids = _PLAIN_ID.findall(raw)
        new = set(ids).difference(names)
        operators = raw.count("--") + raw.count("->")
        if (not _KEYWORDS.isdisjoint(map(str.lower, new)) or len(names) + len(new) > MAX_NODES
                or edges + operators > MAX_EDGES):
            return False
        names.update(new)
        edges += operators
        return True

    for kind, raw, offset in _plain_runs_split(tokens(text, where, runs=runs), run, where):
        if in_attrs:
            in_attrs = kind != "rbrack"
            continue
        if kind == "eq":
            pending, skip_next = None, True
            continue
        if pending is not None:
            name, at = pending
            pending = None
            if _new_name(names, name, at, text, where) and not name and empty_at is None:
                empty_at = _line_col(text, at)[0]
        if kind in ("id", "string", "html"):
            if skip_next:
                skip_next = False
            elif kind == "id" and raw.lower() in _KEYWORDS:
                skip_next = raw.lower() in _NAMING
            else:
                pending = (_name(kind, raw), offset)
            continue
        skip_next = kind == "colon"
        if kind == "lbrack":
            in_attrs = True
        elif kind == "edge":
            edges += 1
            if edges > MAX_EDGES:
                raise InputError(f"more than {MAX_EDGES:,} edges, more than inkworm reads",
                                 where, *_line_col(text, offset))
    return Scan(len(names), edges, empty_at)  # a name still pending ends a broken file


def _plain_runs_split(stream: Iterator[tuple[str, str, int]], counted: Callable[[str], bool],
                      where: str) -> Iterator[tuple[str, str, int]]:
    """The tokens of ``stream``, a ``plain`` run passed as its own tokens unless
    ``counted(run)`` took it at once."""
    for kind, raw, offset in stream:
        if kind != "plain":
            yield kind, raw, offset
        elif not counted(raw):
            for sub_kind, sub_raw, sub_offset in tokens(raw, where):
                yield sub_kind, sub_raw, offset + sub_offset
