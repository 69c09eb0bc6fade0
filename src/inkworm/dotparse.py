"""DOT text to statements, in one pass: pydot's grammar without pyparsing.

pydot parses with a pyparsing grammar, some 600 statements a second. This module reads the
same language the same way, a recursive descent over the text with a few regular
expressions, about a hundred times faster, and hands :mod:`inkworm.topology` the same
statements pydot would: the same IDs as raw text (quotes kept), in file order, and the same
refusals at the same line and column with the same message. The differential test
(``tests/test_dot_fast.py``) holds it to that; :mod:`inkworm.dotref` is pydot's side.

pydot's grammar, as it reads (ordered choice: the first alternative that matches wins, and
each element skips blanks ``[ \\t\\r\\n]`` and ``//``, ``#`` and ``/* */`` comments first)::

    file       = graph+ END
    graph      = "strict"? ("digraph" | "graph") ID? block
    block      = "{" (stmt ";"?)* "}" ";"?
    stmt       = ID "=" value                               (a graph attribute)
               | point (("--" | "->") point)+ attrs?        (edges, a chain)
               | ("graph" | "node" | "edge") attrs          (defaults: not kept)
               | subgraph | block
               | node_id attrs? ";"?
    point      = subgraph | block | node_id
    subgraph   = "subgraph" ID? block
    node_id    = ID (":" ID)? (":" ID)?                     (a node and its port)
    attrs      = ("[" (ID ("=" value)? ","?)* "]")+
    value      = -?[0-9.]+ (no blank inside) | ID
    ID         = QUOTED ("+" QUOTED)+ | QUOTED | [letters, digits, _ and . of the BMP]+ | HTML

Keywords match case-blind and as prefixes, as pyparsing's ``CaselessLiteral`` does:
``subgraphx {a}`` is a subgraph named ``x``, ``graphG {}`` a graph named ``G``. That is why
this reads characters, not the tokens of :func:`inkworm.dotscan.tokens`.
"""

from __future__ import annotations

import re
from itertools import pairwise
from typing import Literal

from inkworm.dotast import Block, DotGraph, EdgeStmt, NodeStmt, RawAttrs, Stmt
from inkworm.dotscan import html_end
from inkworm.errors import InputError

__all__ = ["Block", "DotGraph", "EdgeStmt", "NodeStmt", "RawAttrs", "Stmt", "parse"]

_BLANK = re.compile(r"(?:[ \t\r\n]*(?://[^\n]*|#[^\n]*|/\*.*?\*/))*[ \t\r\n]*", re.DOTALL)
_SKIPPED = frozenset(" \t\r\n/#")
_QUOTED = re.compile(r'"(?:\\.|[^"\\])*"', re.DOTALL)
_IDENT = re.compile(r"[\w.]+")  # then cut to pydot's letters and digits (see _ident_end)
_NUMERAL = re.compile(r"-?[0-9.]+")
_EDGE_OPS = ("--", "->")
_PLAIN = r"[A-Za-z0-9_.]+(?![\w.])"
_SIMPLE = re.compile(rf"[ \t\r\n]*({_PLAIN})((?:[ \t\r\n]*-[->][ \t\r\n]*{_PLAIN})*)"
                     r"[ \t\r\n]*(?=([;}]))")
"""The statement most files are made of, ``a -- b -- c;`` or ``a;`` (plain IDs, blanks, and a
``;`` or ``}`` next), which the grammar reads the same way: read at once (see :meth:`stmt`)."""
_PLAIN_ID = re.compile(_PLAIN)


class _Parser:
    """The grammar of the module doc; each method takes a position and returns the position
    after what it read, with what it read, or ``None`` when it does not match there."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.blocks: dict[int, tuple[int, tuple[Stmt, ...]] | None] = {}
        """Blocks read so far, by position: a statement is tried as an edge first, so a
        block is met again at the same place (pydot's time doubles with each level)."""

    def skip(self, pos: int) -> int:
        text = self.text
        if pos < len(text) and text[pos] not in _SKIPPED:
            return pos
        match = _BLANK.match(text, pos)
        assert match is not None  # matches the empty string
        return match.end()

    def keyword(self, pos: int, word: str) -> int:
        """Position after ``word`` (upper case) at ``pos``, or -1: pyparsing's
        ``CaselessLiteral`` (no word boundary)."""
        end = pos + len(word)
        return end if self.text[pos:end].upper() == word else -1

    def ident(self, pos: int) -> tuple[int, str] | None:
        text = self.text
        pos = self.skip(pos)
        char = text[pos:pos + 1]
        if char == '"':
            return self.quoted(pos)
        if char == "<":
            end = html_end(text, pos)
            return None if end < 0 else (end, text[pos:end])
        match = _IDENT.match(text, pos)
        if match is None:
            return None
        end = match.end()
        if not match.group().isascii():
            end = _ident_end(text, pos, end)
            if end == pos:
                return None
        return end, text[pos:end]

    def quoted(self, pos: int) -> tuple[int, str] | None:
        """A double-quoted string, or several joined with ``+``, as one raw ID."""
        text = self.text
        match = _QUOTED.match(text, pos)
        if match is None:
            return None
        end = match.end()
        pieces = [_continued(match.group())]
        while True:
            plus = self.skip(end)
            if not text.startswith("+", plus):
                break
            match = _QUOTED.match(text, self.skip(plus + 1))
            if match is None:
                break
            end = match.end()
            pieces.append(_continued(match.group()))
        if len(pieces) == 1:
            return end, pieces[0]
        return end, '"' + "".join(piece[1:-1] for piece in pieces) + '"'

    def value(self, pos: int) -> tuple[int, str] | None:
        pos = self.skip(pos)
        match = _NUMERAL.match(self.text, pos)
        if match is not None:
            return match.end(), match.group()
        return self.ident(pos)

    def node_id(self, pos: int) -> tuple[int, str] | None:
        first = self.ident(pos)
        if first is None:
            return None
        end, raw = first
        for _ in range(2):
            colon = self.skip(end)
            if not self.text.startswith(":", colon):
                break
            port = self.ident(colon + 1)
            if port is None:
                break
            end, raw = port[0], raw + ":" + port[1]
        return end, raw

    def attr_lists(self, pos: int) -> tuple[int, RawAttrs] | None:
        """One or more ``[...]``, merged (a later name replaces an earlier one)."""
        text = self.text
        attrs: RawAttrs = {}
        end = -1
        while True:
            pos = self.skip(pos)
            if not text.startswith("[", pos):
                break
            pos += 1
            this: list[tuple[str, str | None]] = []
            while (name := self.ident(pos)) is not None:
                pos, value = name[0], None
                equals = self.skip(pos)
                if text.startswith("=", equals) and (got := self.value(equals + 1)) is not None:
                    pos, value = got
                this.append((name[1], value))
                comma = self.skip(pos)
                if text.startswith(",", comma):
                    pos = comma + 1
            pos = self.skip(pos)
            if not text.startswith("]", pos):
                break
            attrs.update(this)
            end = pos = pos + 1
        return None if end < 0 else (end, attrs)

    def block(self, pos: int) -> tuple[int, tuple[Stmt, ...]] | None:
        pos = self.skip(pos)
        if pos in self.blocks:
            return self.blocks[pos]
        result = None
        if self.text.startswith("{", pos):
            end, body, _ = self.stmts(pos + 1)
            close = self.skip(end)
            if self.text.startswith("}", close):
                result = self.semicolon(close + 1), body
        self.blocks[pos] = result
        return result

    def semicolon(self, pos: int) -> int:
        """After an optional ``;``."""
        semi = self.skip(pos)
        return semi + 1 if self.text.startswith(";", semi) else pos

    def stmts(self, pos: int) -> tuple[int, tuple[Stmt, ...], RawAttrs]:
        """Statements up to where none matches (a ``}`` if the text is good)."""
        body: list[Stmt] = []
        attrs: RawAttrs = {}
        while (got := self.stmt(pos)) is not None:
            pos, stmt = got
            if isinstance(stmt, tuple):
                attrs[stmt[0]] = stmt[1]
            elif isinstance(stmt, list):
                body += stmt
            elif stmt is not None:
                body.append(stmt)
            pos = self.semicolon(pos)
        return pos, tuple(body), attrs

    def stmt(self, pos: int) -> tuple[int, Stmt | list[EdgeStmt] | tuple[str, str] | None] | None:
        """One statement: a node, a block, the edges of a chain, a graph attribute (a
        ``(name, value)`` pair) or a default statement (``None``)."""
        simple = _SIMPLE.match(self.text, pos)
        if simple is not None:  # no port, attribute, comment or subgraph: the alternatives
            # below come to the same (an ID before "--" or ";" is no assignment, a subgraph
            # or a default statement), a node statement takes its ";"
            if simple.end(2) > simple.start(2):
                ids = _PLAIN_ID.findall(self.text, simple.start(1), simple.end(2))
                return simple.end(2), [EdgeStmt(u, v, {}) for u, v in pairwise(ids)]
            end = simple.end(1) if simple.group(3) == "}" else simple.end() + 1
            return end, NodeStmt(simple.group(1), {})
        name = self.ident(pos)
        if name is not None:
            equals = self.skip(name[0])
            if self.text.startswith("=", equals):
                value = self.value(equals + 1)
                if value is not None:
                    return value[0], (name[1], value[1])
        edges = self.edges(pos)
        if edges is not None:
            return edges
        start = self.skip(pos)
        for word in ("GRAPH", "NODE", "EDGE"):
            after = self.keyword(start, word)
            if after >= 0:
                attrs = self.attr_lists(after)
                if attrs is not None:
                    return attrs[0], None
                break
        sub = self.subgraph(start)
        if sub is not None:
            return sub
        node = self.node_id(start)
        if node is None:
            return None
        end, raw = node
        attrs = self.attr_lists(end)
        if attrs is not None:
            end = attrs[0]
        semi = self.skip(end)
        if self.text.startswith(";", semi):
            end = semi + 1
        return end, NodeStmt(_without_port(raw), attrs[1] if attrs else {})

    def subgraph(self, pos: int) -> tuple[int, Block] | None:
        """``subgraph ID? {...}`` or ``{...}`` at ``pos`` (blanks skipped)."""
        name = ""
        after = self.keyword(pos, "SUBGRAPH")
        if after >= 0:
            named = self.ident(after)
            if named is not None:
                after, name = named
            block = self.block(after)
            if block is not None:
                return block[0], Block(name, block[1])
        block = self.block(pos)
        return None if block is None else (block[0], Block("", block[1]))

    def point(self, pos: int) -> tuple[int, str | Block] | None:
        start = self.skip(pos)
        sub = self.subgraph(start)
        return sub if sub is not None else self.node_id(start)

    def edges(self, pos: int) -> tuple[int, list[EdgeStmt]] | None:
        first = self.point(pos)
        if first is None:
            return None
        end, point = first
        points = [point]
        while True:
            op = self.skip(end)
            if not self.text.startswith(_EDGE_OPS, op) or (nxt := self.point(op + 2)) is None:
                break
            end, point = nxt
            points.append(point)
        if len(points) < 2:
            return None
        attrs: RawAttrs = {}
        got = self.attr_lists(end)
        if got is not None:
            end, attrs = got
        return end, [EdgeStmt(u, v, attrs) for u, v in pairwise(points)]

    def graph(self, pos: int, where: str) -> tuple[int, DotGraph]:
        """One graph at ``pos``; :class:`InputError` where pydot's grammar fails."""
        start = self.skip(pos)
        strict = self.keyword(start, "STRICT")
        start = self.skip(strict) if strict >= 0 else start
        after = self.keyword(start, "DIGRAPH")
        kind: Literal["graph", "digraph"] = "digraph"
        if after < 0:
            after, kind = self.keyword(start, "GRAPH"), "graph"
        if after < 0:
            raise self.error("Expected {'DIGRAPH' | 'GRAPH'}", start, where)
        name = ""
        named = self.ident(after)
        if named is not None:
            after, name = named
        brace = self.skip(after)
        if not self.text.startswith("{", brace):
            raise self.error("Expected lbrace", brace, where)
        end, body, attrs = self.stmts(brace + 1)
        close = self.skip(end)
        if not self.text.startswith("}", close):
            raise self.error("Expected rbrace", close, where)
        return self.semicolon(close + 1), DotGraph(kind, name, attrs, body)

    def error(self, expected: str, pos: int, where: str) -> InputError:
        """pyparsing's message: what was expected, at line and column, near the line."""
        text = self.text
        start = text.rfind("\n", 0, pos) + 1
        stop = text.find("\n", pos)
        near = text[start:stop if stop >= 0 else len(text)].strip()
        detail = f"DOT syntax error: {expected}" + (f" near '{near[:40]}'" if near else "")
        return InputError(detail, where, text.count("\n", 0, pos) + 1, pos - start + 1)


def parse(text: str, where: str) -> list[DotGraph]:
    """Every graph in ``text``; :class:`InputError` naming ``where``, the line and column
    where pydot's grammar would fail, with pydot's message."""
    parser = _Parser(text)
    end, graph = parser.graph(0, where)
    graphs = [graph]
    while True:
        try:
            end, graph = parser.graph(end, where)
        except InputError:  # what follows the first graph is not one: the text must end
            break
        graphs.append(graph)
    end = parser.skip(end)
    if end < len(text):
        raise parser.error("Expected end of text", end, where)
    return graphs


def _continued(raw: str) -> str:
    """A quoted string with its backslash-newline continuations removed (pydot does it)."""
    if "\\" in raw:
        return raw.replace("\\\r\n", "").replace("\\\n", "")
    return raw


def _ident_end(text: str, start: int, end: int) -> int:
    """Where a bare ID matched by ``[\\w.]+`` ends for pydot: letters and digits of the
    Basic Multilingual Plane (``\\w`` also takes numerals like ``½`` and other planes)."""
    for pos in range(start, end):
        char = text[pos]
        if char > "\uffff" or not (char.isalpha() or char.isdigit() or char in "_."):
            return pos
    return end


def _without_port(raw: str) -> str:
    """A node statement's ID without its port, cut as pydot's ``Node`` does: at the first
    ``:`` unless the ID is quoted (an HTML ID too is cut there)."""
    if not raw.startswith('"'):
        colon = raw.find(":")
        if 0 < colon < len(raw) - 1:
            return raw[:colon]
    return raw
