"""Stage 1: a cluster topology from a DOT file, as the BEAM would see it.

The DOT file is read as pydot reads it (:mod:`inkworm.dotparse`, pydot's grammar at a hundred
times its speed; pydot itself on request, :mod:`inkworm.dotref`); the statements are walked in
file order (subgraphs and clusters included, so no node is lost), and every edge is a
*connection* made one at a time.
What the worm needs is each node's peer list in connection order (``:erlang.nodes()`` lists
peers oldest first, new connections append), which :meth:`Topology.peers` gives for either
edge order. Attributes (labels, colours, ``pos``) are kept for the layout stage.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from inkworm import dotparse
from inkworm.dotparse import Block, EdgeStmt, NodeStmt, RawAttrs, Stmt
from inkworm.dotscan import MAX_EDGES, prescan
from inkworm.errors import InputError, gc_paused, read_text
from inkworm.run import EdgeOrder

if TYPE_CHECKING:
    import networkx as nx

Attrs = Mapping[str, str]
DotParser = Literal["fast", "pydot"]
"""Who reads DOT text: :mod:`inkworm.dotparse` (the default) or pydot itself, the reference
(:mod:`inkworm.dotref`, a hundred times slower); both give the same topology."""


@dataclass(frozen=True)
class Topology:
    """An undirected cluster topology with its connection order and DOT attributes."""

    nodes: tuple[str, ...]
    """Node names in order of first appearance in the file."""
    edges: tuple[tuple[str, str], ...]
    """Distinct edges in file order, each as written (first endpoint connects to the second)."""
    name: str = "G"
    source: str | None = None
    """File name of the DOT file (what traces record in their header)."""
    path: str | None = None
    """Where it was loaded from, for error messages."""
    node_attrs: Mapping[str, Attrs] = field(default_factory=dict)
    edge_attrs: Mapping[tuple[str, str], Attrs] = field(default_factory=dict)
    graph_attrs: Attrs = field(default_factory=dict)
    subgraph_of: Mapping[str, str] = field(default_factory=dict)
    """Innermost named subgraph or cluster holding each node declared in one."""
    warnings: tuple[str, ...] = ()

    def peers(self, edge_order: EdgeOrder = EdgeOrder.DOT) -> dict[str, list[str]]:
        """Each node's peers in connection order, as ``:erlang.nodes()`` returns them."""
        result: dict[str, list[str]] = {n: [] for n in self.nodes}
        ordered = self.edges if edge_order is EdgeOrder.DOT else reversed(self.edges)
        for u, v in ordered:
            result[u].append(v)
            result[v].append(u)
        return result

    def edge_set(self) -> frozenset[frozenset[str]]:
        """The edges as unordered pairs."""
        return frozenset(frozenset(e) for e in self.edges)

    def to_networkx(self) -> nx.Graph:
        """A fresh networkx graph with every node and edge attribute (callers may mutate it)."""
        import networkx as nx  # imported when needed: it is half of inkworm's start-up time

        graph = nx.Graph(name=self.name, **self.graph_attrs)
        for n in self.nodes:
            graph.add_node(n, **self.node_attrs.get(n, {}))
        for e in self.edges:
            graph.add_edge(*e, **self.edge_attrs.get(e, {}))
        return graph

    @classmethod
    def from_edges(
        cls, edges: Iterable[tuple[str, str]], nodes: Iterable[str] = (), name: str = "G"
    ) -> Topology:
        """A topology from plain edges (and extra isolated nodes), deduplicated, order kept."""
        builder = _Builder("<edges>", "")
        for n in nodes:
            builder.add_node(n, {}, None)
        for u, v in edges:
            builder.add_edge(u, v, {})
        return builder.build(name, {})


def load_dot(path: str | os.PathLike[str], *, parser: DotParser = "fast") -> Topology:
    """Load a DOT file; raise :class:`InputError` naming the file and line for bad input."""
    return parse_dot(read_text(path, "DOT"), source=Path(path).name, path=str(path),
                     parser=parser)


def parse_dot(text: str, source: str = "<dot>", path: str | None = None, *,
              parser: DotParser = "fast") -> Topology:
    """Parse DOT text into a :class:`Topology` (see :func:`load_dot`)."""
    where = path or source
    if not text.strip():
        raise InputError("empty file: no graph", where, 1)
    scan = prescan(text, where)  # the limits inkworm reads, refused before any parsing
    with gc_paused():  # statements and dicts, no cycles: the collector would only rescan them
        if parser == "pydot":
            from inkworm import dotref  # imports pydot and builds its grammar: half a second

            graphs = dotref.parse(text, where)
        else:
            graphs = dotparse.parse(text, where)
        if len(graphs) > 1:
            raise InputError(f"file holds {len(graphs)} graphs; inkworm reads one", where)
        graph = graphs[0]
        builder = _Builder(where, text)
        if graph.kind == "digraph":
            builder.warnings.append(
                f"{where}: digraph loaded as undirected (BEAM connections are bidirectional)"
            )
        builder.walk(graph.body, None)
    if not builder.nodes:
        raise InputError("empty graph: no nodes", where, 1)
    if "" in builder.nodes:  # a trace cannot name it, and no BEAM node is called that
        raise InputError('node named "": a node needs a name', where, scan.empty_name_line)
    topology = builder.build(_unquote(graph.name or "G"), _attrs(graph.attrs), source=source)
    return replace(topology, path=path)


def to_dot(topology: Topology, name: str | None = None) -> str:
    """The topology in the seed's DOT notation: ``graph G { a -- b; ... }``, read back by
    :func:`parse_dot` as the same topology: names, node order, edges and their order.

    A node is declared on its own (``lonely;``) when no edge would bring it in at its place
    in the node order (an isolated node, or one declared before its edges). Attributes are
    not written. Raises :class:`InputError` for a name DOT cannot hold (see
    :func:`quote_id`).
    """
    order = {n: i for i, n in enumerate(topology.nodes)}
    lines = [f"graph {quote_id(name if name is not None else topology.name)} {{"]
    seen = 0  # nodes[:seen] have appeared in the lines so far

    def declare_up_to(index: int) -> None:
        nonlocal seen
        lines.extend(f"  {quote_id(n)};" for n in topology.nodes[seen:index])
        seen = max(seen, index)

    for u, v in topology.edges:
        while True:  # the edge must bring in its new ends exactly at their places
            new = [order[w] for w in (u, v) if order[w] >= seen]
            if new == list(range(seen, seen + len(new))):
                break
            first = min(new)
            declare_up_to(first if first > seen else first + 1)
        lines.append(f"  {quote_id(u)} -- {quote_id(v)};")
        seen += len(new)
    declare_up_to(len(topology.nodes))
    lines.append("}")
    return "\n".join(lines) + "\n"


_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}
_ASCII_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")


def locate(topology: Topology, *words: str) -> tuple[str | None, int | None]:
    """The file and first line of ``topology``'s DOT text holding all ``words`` (for errors
    about attributes, which the statements keep no positions for)."""
    where = topology.path or topology.source
    if topology.path is None:
        return where, None
    try:
        with open(topology.path, encoding="utf-8-sig") as stream:
            for number, line in enumerate(stream, start=1):
                if all(word in line for word in words):
                    return where, number
    except (OSError, UnicodeDecodeError):
        pass
    return where, None


def quote_id(name: str) -> str:
    """A DOT identifier for ``name``, quoted only when it has to be, that :func:`parse_dot`
    reads back as ``name``; :class:`InputError` when none can be (see :func:`_quoted`)."""
    if _plain(name):
        return name
    return _quoted(name)


def _plain(name: str) -> bool:
    """An ID both Graphviz and pydot read bare: letters (BMP: pydot's grammar), digits and
    ``_``, not starting with a digit, or only ASCII digits; never a keyword."""
    if not name or name.lower() in _KEYWORDS:
        return False
    if name.isascii():  # the same rule, at once (to_dot of 10,000 edges: 60 ms less)
        return _ASCII_PLAIN.fullmatch(name) is not None
    first = name[0]
    return (first.isalpha() or first == "_") and all(
        (c.isalpha() or c.isdigit() or c == "_") and c <= "\uffff" for c in name)


def _quoted(name: str) -> str:
    """``name`` as a quoted DOT string. In one, a backslash escapes the next character for
    the grammar, and only ``\\"`` means something else (a quote); a backslash before a line
    end joins the lines. So a name ending in a lone backslash, with a backslash before a
    quote, or before a line end cannot be written, nor a NUL."""
    out: list[str] = []
    i = 0
    while i < len(name):
        char = name[i]
        if char == "\\":  # kept as it is, with the character it escapes
            pair = name[i:i + 2]
            if len(pair) < 2 or pair[1] in '"\n\r':
                raise InputError(f"node name '{name}' cannot be written in DOT (a backslash "
                                 "ends it or comes before a quote or a line end)")
            out.append(pair)
            i += 2
            continue
        if char == "\x00":
            raise InputError(f"node name '{name}' cannot be written in DOT (a NUL character)")
        out.append('\\"' if char == '"' else char)
        i += 1
    text = '"' + "".join(out) + '"'
    assert _unquote(text) == name, (name, text)  # what parse_dot reads back
    return text


def _unquote(raw: str) -> str:
    """A DOT ID as its value: surrounding quotes removed, ``\\"`` unescaped."""
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1].replace('\\"', '"').replace("\\\n", "")
    return raw


def _node_name(raw: str) -> str:
    """A node reference without its port (``a:p1:n`` → ``a``, ``"x:y":p`` → ``x:y``)."""
    if raw.startswith('"'):
        end = raw.find('"', 1)
        while end > 0 and raw[end - 1] == "\\":
            end = raw.find('"', end + 1)
        return _unquote(raw[: end + 1]) if end > 0 else _unquote(raw)
    if raw.startswith("<"):
        return raw
    return raw.split(":", 1)[0]


def _attrs(raw: RawAttrs) -> dict[str, str]:
    """Attributes as values: names and values unquoted, a name without a value dropped."""
    if not raw:
        return {}
    return {_unquote(k): _unquote(v) for k, v in raw.items() if v is not None}


class _Builder:
    """Accumulates nodes and connections while walking the parsed statements."""

    def __init__(self, where: str, text: str) -> None:
        self.where = where
        self.text = text
        self.nodes: dict[str, dict[str, str]] = {}
        self.edges: dict[frozenset[str], tuple[str, str]] = {}
        self.edge_attrs: dict[tuple[str, str], dict[str, str]] = {}
        self.subgraph_of: dict[str, str] = {}
        self.repeats: dict[frozenset[str], int] = {}
        self.warnings: list[str] = []

    def add_node(self, name: str, attrs: Mapping[str, str], subgraph: str | None) -> None:
        node = self.nodes.get(name)
        if node is None:
            self.nodes[name] = node = {}
        if attrs:
            node.update(attrs)
        if subgraph:
            self.subgraph_of.setdefault(name, subgraph)

    def add_edge(self, u: str, v: str, attrs: Mapping[str, str]) -> None:
        if u == v:  # graphviz's gallery has them; an Erlang node cannot connect to itself
            self.add_node(u, {}, None)
            line = _locate_edge(self.text, u, v)
            at = f"{self.where}:{line}" if line else self.where
            self.warnings.append(f"{at}: self-loop {u} -- {v} dropped (an Erlang node cannot "
                                 "connect to itself)")
            return
        self.add_node(u, {}, None)
        self.add_node(v, {}, None)
        key = frozenset((u, v))
        if key in self.edges:
            self.repeats[key] = self.repeats.get(key, 1) + 1
            line = _locate_edge(self.text, u, v, nth=self.repeats[key])
            at = f"{self.where}:{line}" if line else self.where
            self.warnings.append(f"{at}: repeated edge {u} -- {v} ignored (already connected)")
            self.edge_attrs[self.edges[key]].update(attrs)
            return
        if self.text and len(self.edges) == MAX_EDGES:  # {a b} -- {c d} multiplies edges
            raise InputError(f"more than {MAX_EDGES:,} edges, more than inkworm reads",
                             self.where, _locate_edge(self.text, u, v))
        self.edges[key] = (u, v)
        self.edge_attrs[(u, v)] = dict(attrs)

    def walk(self, body: tuple[Stmt, ...], subgraph: str | None) -> list[str]:
        """Walk one (sub)graph's statements; return the nodes they mention (for edges to
        subgraphs)."""
        mentioned: list[str] = []
        for stmt in body:
            if isinstance(stmt, NodeStmt):
                if stmt.name in ("node", "edge", "graph"):
                    continue  # default-attribute statements, as pydot has them (a quoted
                    # "node" is a node)
                name = _node_name(stmt.name)
                self.add_node(name, _attrs(stmt.attrs), subgraph)
                mentioned.append(name)
            elif isinstance(stmt, Block):
                mentioned += self.walk(stmt.body, _unquote(stmt.name) or subgraph)
            else:
                mentioned += self._walk_edge(stmt, subgraph)
        return mentioned

    def _walk_edge(self, edge: EdgeStmt, subgraph: str | None) -> list[str]:
        tail, head = edge.tail, edge.head
        if isinstance(tail, str) and isinstance(head, str):  # what the loops below do, for
            u, v = _node_name(tail), _node_name(head)  # the edge most files are made of
            self.add_node(u, {}, subgraph)
            self.add_node(v, {}, subgraph)
            self.add_edge(u, v, _attrs(edge.attrs))
            return [u, v]
        ends: list[list[str]] = []
        for point in (edge.tail, edge.head):
            if isinstance(point, Block):  # an edge to a subgraph, {x y}: its name is not
                ends.append(self.walk(point.body, subgraph))  # kept (pydot's reading)
            else:
                name = _node_name(point)
                self.add_node(name, {}, subgraph)
                ends.append([name])
        attrs = _attrs(edge.attrs)
        for u in ends[0]:
            for v in ends[1]:
                self.add_edge(u, v, attrs)
        return ends[0] + ends[1]

    def build(
        self, name: str, graph_attrs: Mapping[str, str], source: str | None = None
    ) -> Topology:
        return Topology(
            nodes=tuple(self.nodes),
            edges=tuple(self.edges.values()),
            name=name,
            source=source,
            node_attrs={n: a for n, a in self.nodes.items() if a},
            edge_attrs={e: a for e, a in self.edge_attrs.items() if a},
            graph_attrs=dict(graph_attrs),
            subgraph_of=dict(self.subgraph_of),
            warnings=tuple(self.warnings),
        )


def _locate_edge(text: str, u: str, v: str, nth: int = 1) -> int | None:
    """Best-effort line number of the ``nth`` edge statement between ``u`` and ``v``.

    The statements keep no positions (pydot's never did, and the lines reported must not
    change), so the text is searched; ``None`` when it cannot be found.
    """
    if not text:
        return None

    def ref(name: str) -> str:
        return rf'(?:"{re.escape(name)}"|(?<![\w"]){re.escape(name)}(?![\w"]))(?::[\w"]+)*'

    pattern = re.compile(
        rf"(?:{ref(u)}\s*--?[->]\s*{ref(v)}|{ref(v)}\s*--?[->]\s*{ref(u)})"
    )
    matches = list(pattern.finditer(text))
    if len(matches) < nth:
        return None
    return text.count("\n", 0, matches[nth - 1].start()) + 1
