"""DOT loading: connection order, attributes, subgraphs, and the good/bad corpus."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from conftest import CORPUS, GRAPHS, assert_corpus_error, expect_text
from inkworm import EdgeOrder, InputError, Topology, load_dot, parse_dot, to_dot

GOOD = sorted((CORPUS / "dot" / "good").glob("*.dot"))
BAD = sorted((CORPUS / "dot" / "bad").glob("*.dot"))


@pytest.mark.parametrize("path", GOOD, ids=[p.stem for p in GOOD])
def test_good_corpus(path: Path) -> None:
    topology = load_dot(path)
    got = expect_text(to_dot(topology), topology.warnings, str(path))
    assert got == path.with_suffix(".expect").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_corpus(path: Path) -> None:
    assert_corpus_error(path, load_dot)


def test_bowtie_peers_in_connection_order() -> None:
    topology = load_dot(GRAPHS / "bowtie.dot")
    assert topology.peers() == {
        "a": ["b", "c"], "b": ["a", "c", "d"], "c": ["b", "a"],
        "d": ["b", "e", "f"], "e": ["d", "f"], "f": ["e", "d"],
    }
    assert topology.peers(EdgeOrder.REVERSE) == {
        "a": ["c", "b"], "b": ["d", "c", "a"], "c": ["a", "b"],
        "d": ["f", "e", "b"], "e": ["f", "d"], "f": ["d", "e"],
    }


def test_chained_edges_connect_in_order() -> None:
    topology = parse_dot("graph { c -- a -- b; }")
    assert topology.edges == (("c", "a"), ("a", "b"))
    assert topology.peers() == {"c": ["a"], "a": ["c", "b"], "b": ["a"]}


def test_attributes_and_subgraph_membership_are_kept() -> None:
    topology = load_dot(CORPUS / "dot" / "good" / "attributes.dot")
    assert topology.node_attrs["a"] == {"label": "Alpha", "pos": "0,0!", "color": "#ff0000"}
    assert topology.edge_attrs[("a", "b")] == {"color": "blue"}
    clusters = load_dot(CORPUS / "dot" / "good" / "clusters.dot")
    assert clusters.subgraph_of == {"a": "cluster_left", "b": "cluster_left",
                                    "c": "cluster_right", "d": "cluster_right", "e": "inner"}
    graph = clusters.to_networkx()
    assert graph.nodes["c"]["color"] == "red"
    assert sorted(graph.nodes) == ["a", "b", "c", "d", "e"]


def test_to_networkx_is_a_fresh_copy() -> None:
    topology = load_dot(GRAPHS / "bowtie.dot")
    graph = topology.to_networkx()
    graph.add_edge("a", "f")
    assert ("a", "f") not in topology.edges
    assert nx.is_isomorphic(topology.to_networkx(), load_dot(GRAPHS / "bowtie.dot").to_networkx())


def test_export_round_trips() -> None:
    for path in [*GRAPHS.glob("*.dot"), *GOOD]:
        topology = load_dot(path)
        again = parse_dot(to_dot(topology))
        assert again.nodes == topology.nodes
        assert again.edges == topology.edges


def test_from_edges_dedupes_and_keeps_order() -> None:
    topology = Topology.from_edges([("a", "b"), ("b", "a"), ("b", "c")], nodes=["z"])
    assert topology.nodes == ("z", "a", "b", "c")
    assert topology.edges == (("a", "b"), ("b", "c"))


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        load_dot(tmp_path)


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read DOT file"):
        load_dot(tmp_path / "nope.dot")


def test_plain_ids_of_ascii_follow_the_letter_rule() -> None:
    """to_dot writes an ASCII name bare by a regex: the same rule as for any name (letters,
    digits, _, not a leading digit unless all digits, no keyword), every 1- and 2-character
    ASCII name checked."""
    from inkworm.topology import _plain

    def rule(name: str) -> bool:
        if not name or name.lower() in {"node", "edge", "graph", "digraph", "subgraph",
                                         "strict"}:
            return False
        if name.isdigit():
            return True
        return (name[0].isalpha() or name[0] == "_") and all(
            c.isalpha() or c.isdigit() or c == "_" for c in name)

    ascii_chars = [chr(c) for c in range(128)]
    names = ascii_chars + [a + b for a in ascii_chars for b in ascii_chars]
    names += ["node", "Strict", "nodes", "a_b_9", "9a", "007", "a.b", "a-b", "x" * 300]
    assert [n for n in names if _plain(n) != rule(n)] == []


def test_a_self_loop_is_dropped_with_a_warning_naming_its_line() -> None:
    """Graphviz gallery files have self-loops; an Erlang node cannot connect to itself. They
    were refused outright (exit 2); now dropped, the warning naming file:line."""
    chain = load_dot(CORPUS / "hostile" / "chain_self_loop.dot")
    assert chain.edges == (("a", "b"),)
    assert len(chain.warnings) == 1
    assert chain.warnings[0].endswith("chain_self_loop.dot:2: self-loop b -- b dropped (an "
                                      "Erlang node cannot connect to itself)")
    alone = parse_dot("graph G { a -- a; }", "alone.dot")
    assert alone.nodes == ("a",) and alone.edges == ()
