"""``inkworm dot`` writes what the loader reads back: every topology round-trips through
to_dot and parse_dot with the same names, node order and edge order (a node's place decides
the default launch node), or to_dot refuses a name DOT cannot hold."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from inkworm import InputError, Topology, parse_dot, to_dot
from inkworm.topology import quote_id

EXAMPLES = int(os.environ.get("INKWORM_FUZZ_EXAMPLES", "150"))

AWKWARD = ["node", "Graph", "EDGE", "strict", "subgraph", "a b", 'say "hi"', "x\\y", "x\\\\",
           "\\\\\"", "a\u202eb", "\u202e", "\x1b[31mred", "1abc", "123", "-1", "1.5", "a.b",
           "a:b", "<b>", "n\nm", "tab\there", "é", "漢字", "\U0001d518nicode", "a\\", '\\"', "\x00",
           "a\\\nb", " ", "#x", "//x", "/*x*/", "{", "}", "--", ";", "=", "[x]", "½", "٣"]

names = st.one_of(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=6),
                  st.sampled_from(AWKWARD))


@st.composite
def topologies(draw: st.DrawFn) -> Topology:
    pool = draw(st.lists(names, min_size=1, max_size=7, unique=True))
    order = tuple(draw(st.permutations(pool)))
    edges: dict[frozenset[str], tuple[str, str]] = {}
    if len(pool) > 1:
        for u, v in draw(st.lists(st.tuples(st.sampled_from(pool), st.sampled_from(pool)),
                                  max_size=12)):
            if u != v:
                edges.setdefault(frozenset((u, v)), (u, v))
    return Topology(nodes=order, edges=tuple(edges.values()), name=draw(names))


def unwritable(name: str) -> bool:
    """What DOT cannot hold in a quoted ID, as the loader reads one: a NUL, or a backslash
    that ends the name or comes before a quote or a line end (once pairs are taken)."""
    if "\x00" in name:
        return True
    i = 0
    while i < len(name):
        if name[i] == "\\":
            if i + 1 == len(name) or name[i + 1] in '"\n\r':
                return True
            i += 2
        else:
            i += 1
    return False


@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(topologies())
@example(Topology(nodes=("z", "a"), edges=(("a", "z"),)))  # z declared before its edge
@example(Topology(nodes=("a", "x\u202ey"), edges=(("a", "x\u202ey"),)))
@example(Topology(nodes=("c", "a", "b", "lonely"), edges=(("a", "b"), ("c", "b"))))
def test_to_dot_round_trips(topology: Topology) -> None:
    try:
        text = to_dot(topology)
    except InputError:
        assert any(unwritable(n) for n in (*topology.nodes, topology.name))
        return
    assert not any(unwritable(n) for n in (*topology.nodes, topology.name))
    back = parse_dot(text)
    assert back.nodes == topology.nodes
    assert back.edges == topology.edges
    assert back.name == topology.name
    assert back.warnings == ()


def test_bare_ids_are_exactly_those_pydots_grammar_reads_bare() -> None:
    """pydot's identifier is BMP letters and digits (and ``_``); anything else is quoted."""
    import pyparsing

    bare = set(pyparsing.unicode.BasicMultilingualPlane.alphanums) | {"_"}
    wrong = [c for c in map(chr, range(1, 0x10000))
             if not 0xD800 <= ord(c) <= 0xDFFF and c != "\\"
             if (quote_id("a" + c) == "a" + c) != (c in bare)]
    assert wrong == []


@pytest.mark.parametrize("text", [
    'graph G {\n  z;\n  a -- z;\n}\n',
    'graph G {\n  a -- "x\u202ey";\n}\n',
    'graph "my graph" {\n  "node" -- b;\n  lonely;\n  c -- b;\n}\n',
])
def test_dot_files_survive_normalising(text: str) -> None:
    once = parse_dot(text)
    again = parse_dot(to_dot(once))
    assert (again.nodes, again.edges, again.name) == (once.nodes, once.edges, once.name)
