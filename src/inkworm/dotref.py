"""The reference DOT reader: pydot's own parser, slow, kept as the definition of what
:mod:`inkworm.dotparse` reads (``parse_dot(..., parser="pydot")`` and the differential test).

pydot's parse is a tree of ``obj_dict`` mappings, each (sub)graph keeping its nodes, edges
and subgraphs apart, numbered in file order; it is turned into the statements of
:mod:`inkworm.dotparse`, in that order.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from inkworm.dotparse import Block, DotGraph, EdgeStmt, NodeStmt, RawAttrs, Stmt
from inkworm.errors import InputError


def parse(text: str, where: str) -> list[DotGraph]:
    """Every graph in ``text`` as pydot reads it; :class:`InputError` for what it refuses."""
    with warnings.catch_warnings():  # pydot 4 uses pyparsing names deprecated in pyparsing 3.3
        warnings.simplefilter("ignore", DeprecationWarning)
        import pydot.dot_parser  # the pyparsing grammar is built on first use
        from pyparsing import ParseBaseException

        graphs = _parse_with(pydot.dot_parser.GraphParser.parser, ParseBaseException, text,
                             where)
    return [_graph(graph.obj_dict) for graph in graphs]


def _parse_with(parser: Any, error: type[Exception], text: str, where: str) -> list[Any]:
    try:
        graphs = list(parser.parse_string(text, parse_all=True))
    except error as err:
        message = str(getattr(err, "msg", err))
        near = str(getattr(err, "line", "")).strip()
        detail = f"DOT syntax error: {message}" + (f" near '{near[:40]}'" if near else "")
        raise InputError(detail, where, getattr(err, "lineno", None),
                         getattr(err, "col", None)) from None
    except RecursionError:
        raise InputError("DOT nesting too deep", where) from None
    if not graphs:
        raise InputError("no graph in file", where, 1)
    return graphs


def _graph(obj: Mapping[str, Any]) -> DotGraph:
    kind: Literal["graph", "digraph"] = "digraph" if obj["type"] == "digraph" else "graph"
    return DotGraph(kind, str(obj.get("name") or ""), _raw(obj.get("attributes", {})),
                    _body(obj))


def _body(graph: Mapping[str, Any]) -> tuple[Stmt, ...]:
    """The statements of one (sub)graph in file order (a default statement is a node named
    ``node``, ``edge`` or ``graph``: pydot's way; the topology skips those names)."""
    body: list[Stmt] = []
    for kind, obj in _children(graph):
        attrs = _raw(obj.get("attributes", {}))
        if kind == "node":
            body.append(NodeStmt(str(obj["name"]), attrs))
        elif kind == "subgraph":
            body.append(Block(str(obj.get("name") or ""), _body(obj)))
        else:
            tail, head = (Block(str(p.get("name") or ""), _body(p))
                          if isinstance(p, Mapping) else str(p) for p in obj["points"])
            body.append(EdgeStmt(tail, head, attrs))
    return tuple(body)


def _children(graph: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The statements of one (sub)graph in file order: ("node"|"edge"|"subgraph", obj)."""
    items: list[tuple[int, str, Mapping[str, Any]]] = []
    for kind in ("nodes", "edges", "subgraphs"):
        for objs in graph.get(kind, {}).values():
            items.extend((o.get("sequence", 0), kind[:-1], o) for o in objs)
    items.sort(key=lambda item: item[0])
    for _, kind, obj in items:
        yield kind, obj


def _raw(attrs: Mapping[Any, Any]) -> RawAttrs:
    return {str(k): None if v is None else str(v) for k, v in attrs.items()}
