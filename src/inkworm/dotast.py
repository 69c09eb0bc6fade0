"""What a DOT file says, as :mod:`inkworm.dotparse` reads it: statements with raw IDs (quotes
kept), before :mod:`inkworm.topology` turns them into a topology."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RawAttrs = dict[str, str | None]
"""Attributes as written: raw IDs (quotes kept), ``None`` for a name without ``= value``."""


@dataclass(frozen=True, slots=True)
class NodeStmt:
    """``a [attrs]``: the node's raw ID, its port cut off as pydot's ``Node`` does."""

    name: str
    attrs: RawAttrs


@dataclass(frozen=True, slots=True)
class Block:
    """A subgraph, ``subgraph s { ... }`` or ``{ ... }``, with its statements."""

    name: str
    """Raw ID, ``""`` when anonymous."""
    body: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True)
class EdgeStmt:
    """One edge of an edge statement (a chain ``a -- b -- c`` is two), ends as written: a raw
    ``node_id`` (port kept) or a block."""

    tail: str | Block
    head: str | Block
    attrs: RawAttrs


Stmt = NodeStmt | Block | EdgeStmt


@dataclass(frozen=True, slots=True)
class DotGraph:
    """One ``graph``/``digraph`` of a file."""

    kind: Literal["graph", "digraph"]
    name: str
    """Raw ID, ``""`` when anonymous."""
    attrs: RawAttrs
    """The graph's own ``name = value`` statements (a subgraph's are not kept)."""
    body: tuple[Stmt, ...]
