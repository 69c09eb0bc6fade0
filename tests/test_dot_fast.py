"""The fast DOT parser (inkworm.dotparse) against pydot's (the reference, inkworm.dotref):
every DOT file of the repository, pydot's quirks one by one, and generated DOT, valid and
broken, give the same topology (every field) or the same refusal (the same message, line and
column).

``make test`` runs a fixed budget of generated files; ``make fuzz`` sets INKWORM_FUZZ_EXAMPLES
higher.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from conftest import CORPUS, GRAPHS, ROOT
from inkworm import InputError, Topology, dotscan, parse_dot
from inkworm.errors import read_text
from inkworm.topology import DotParser

EXAMPLES = int(os.environ.get("INKWORM_FUZZ_EXAMPLES", "150"))
DIFF = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FILES = sorted([*GRAPHS.glob("*.dot"), *CORPUS.glob("**/*.dot"),
                *(CORPUS / "dot" / "good").glob("*.expect")])  # .expect: DOT and // warnings

Outcome = tuple[object, ...] | str


def outcome(text: str, parser: DotParser) -> Outcome:
    """Every field of the topology (attribute order included), or the refusal's one line."""
    try:
        t = parse_dot(text, source="f.dot", path="dir/f.dot", parser=parser)
    except InputError as err:
        return f"refused: {err}"
    except TypeError as err:  # pydot's Node(name, **attrs): an attribute called name, src...
        if parser == "pydot" and "multiple values for argument" in str(err):
            reject()
        raise
    return (t.nodes, t.edges, t.name, t.source, t.path,
            [(n, list(a.items())) for n, a in t.node_attrs.items()],
            [(e, list(a.items())) for e, a in t.edge_attrs.items()],
            list(t.graph_attrs.items()), list(t.subgraph_of.items()), t.warnings)


def assert_same(text: str) -> Outcome:
    __tracebackhide__ = True
    fast, reference = outcome(text, "fast"), outcome(text, "pydot")
    assert fast == reference, f"\n{text!r}\nfast:  {fast}\npydot: {reference}"
    return fast


def _file_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", FILES, ids=[_file_id(p) for p in FILES])
def test_every_dot_file_reads_the_same(path: Path) -> None:
    try:
        text = read_text(path, "DOT")
    except InputError:  # binary, not UTF-8: refused before any parser sees it
        return
    assert_same(text)


def test_the_corpus_is_all_there() -> None:
    """Good and bad files, both kinds (a glob that found nothing would pass vacuously)."""
    outcomes = [assert_same(read_text(p, "DOT")) for p in FILES
                if p.parent.name in ("good", "bad", "hostile") and "binary" not in p.name
                and p.name not in ("latin1.dot", "utf16.dot")]
    assert len(FILES) >= 60
    assert sum(isinstance(o, str) for o in outcomes) >= 15
    assert sum(isinstance(o, tuple) for o in outcomes) >= 25


QUIRKS = [
    # keywords are case-blind prefixes; a bare node called node/edge/graph is dropped
    "graph G { subgraphx {a} }", "graphG { a }", "str\u0131ct graph G { a }",
    "graph G { node; NODE; node:p; \"node\"; a }", "graph G { edge -- node }",
    "graph G { Subgraph -- a; nodes [x=1]; edgy; graphs -- b }", "STRICT DIGRAPH { a -> b }",
    # attribute values: a numeral stops at a letter; later names win, by their raw spelling
    "graph G { a [label=12ab]; }", "graph G { a [x= 1.5abc] }", "graph G { a [x=-1.5.3] }",
    "graph G { a [x=/*c*/1.5abc] }", 'graph G { a [b=1, "b"=2, b=3]; }',
    "graph G { a [b=1]; a [b]; }", "graph G { a [b=1, b]; }",
    "graph G { a -- b [x=1] [y=2] [] }", "graph G { a -- b [] ; }",
    # quoted IDs: + joins, backslash-newline continues, ports stay on odd names
    'graph "G" + "H" { a }', "graph <G> { a }", 'graph G { "a" + "b" -- c }',
    'graph G { "a\\\nb" -- "c\\\\" }', 'graph G { "a\\\\":p -- "c" }',
    "graph G { <a:b> -- x; <a:b>; }", "graph G { a:/*c*/p -- b }",
    # blocks: a ; after a block continues a chain; edges to blocks mention what they hold
    "graph G { a -- {b}; -- c }", "graph G { {a -- b -- c} -- d }",
    "graph G { a -- {b -- c} -- d }",
    "graph G { subgraph s {a} -- b; subgraph t { c -- subgraph u { d } } }",
    'graph G { label="x"; a; subgraph s { b; y=z }; a -- {c d} }',
    "  // c\ngraph G { a -- b } /* x */ # y", "graph G { a } ;",
    # refusals: where the statements stop, the header, the end
    "graph G { a -- b -- ; }", "graph G { a:b:c:d; }", "graph G { a } trailing",
    "graph G { a;;; }", "graph G { a -- b;; }", "graph G { a = ; }", "graph G {  [a] }",
    "graph G { a [ }", "graph G { a [label=] }", "graph G { -- b }", 'graph G { "a }',
    "graph G { a b c } graph H { d }", "graph G { a  b \n", "hello", "graph", "graph G",
    "strict G {}", "digraph G a", "}", "graph G {a} graph H {", "graph G {a} graph H {b} x",
    "graph G { a } ; ;", "graph G { a -- b } /* x ", "graph G { a [x=1;y=2] }",
    "graph G { a [x=-] }", "graph G { a [x=- 1] }", "graph G { a [x=-y] }",
    'graph G { "a" + b -- c }', "graph G { edge [color=red] -- node }",
    "graph G { a -- -- b }", "graph G { subgraph s { a -- } }", "graph G { a /* c */ = ; }",
    "graph G { a;  // x\n = }", "graph G { a [x=1][y=2][z=3 }", "graph G { a\f-- b }",
    "graph G { a\u00a0-- b }", "// only a comment", "graph G { a -- b -- b }",
    "\ufeffgraph G { a }", "graph G { a -- b }\r\n\r\n", "graph G {\r\n a -- ;\r\n}",
    "graph G { a -- <b -- c }", "graph G { {{{{{{{ a }}}}}}} }",
    # bare IDs: letters and digits of the BMP only (Python's \w takes more)
    "graph G { a\U0001d518b -- c }", "graph G { x½ }", "graph G { Ⅻ -- a }", "graph G { ٣ }",
]


@pytest.mark.parametrize("text", QUIRKS)
def test_pydot_quirks_read_the_same(text: str) -> None:
    assert_same(text)


def test_pydot_crashes_where_the_fast_parser_reads() -> None:
    """pydot passes attributes to Node(name, **attrs): one called ``name`` is a TypeError (an
    internal failure, exit 70); the fast parser keeps it like any other."""
    text = "graph G { a [name=x]; b -- a [src=1] }"
    with pytest.raises(TypeError):
        parse_dot(text, parser="pydot")
    topology = parse_dot(text)
    assert topology.node_attrs == {"a": {"name": "x"}}
    assert topology.edge_attrs == {("b", "a"): {"src": "1"}}


def test_loading_dot_does_not_import_pydot() -> None:
    """The fast parser is the default, and pydot (half a second to import and build its
    grammar) is not loaded at all."""
    code = ("import sys, inkworm; t = inkworm.load_dot(sys.argv[1]); "
            "assert t.edges, t; print('pydot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(GRAPHS / "bowtie.dot")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- generated DOT -------------------------------------------------------------------------

BLANKS = [" ", " ", " ", " ", "\n", "\n", "  ", "\t", "\r\n", "/* c */", " /*{*/ ", "// c\n",
          "# c\n", ""]
WORDS = ["a", "b", "c", "d", "e", "f", "g", "h", "n1", "n2", "N3", "_x", "1", "42", "1.5", ".5",
         "x.y", "ñodo", "漢字"]
ODD_WORDS = ["node", "Node", "EDGE", "graph", "subgraph", "subgraphx", "strict", "nodes",
             "edge_x", "digraph", "graphG", "β", '""']
BAD_WORDS = ["a½", "Ⅻ", "\U0001d518", "-x", "a-b"]  # not IDs for pydot
CHARS = st.sampled_from(["a", "b", " ", "@", ":", ";", "{", "-", "\\\\", '\\"', "\\\n", "\\n",
                         "ü", "漢", "\n", "<", "'", "+", "\\\r\n"])


def quoted() -> st.SearchStrategy[str]:
    return st.lists(CHARS, min_size=1, max_size=5).map(lambda cs: '"' + "".join(cs) + '"')


def ids(odd: bool = False) -> st.SearchStrategy[str]:
    return st.integers(0, 20 if odd else 19).flatmap(lambda pick: (
        st.sampled_from(BAD_WORDS) if pick == 20 else
        st.sampled_from(WORDS) if pick < 12 else
        st.sampled_from(ODD_WORDS) if pick < 14 else
        quoted() if pick < 17 else
        st.tuples(quoted(), st.sampled_from([" + ", "+", " /**/+\n"]), quoted())
        .map("".join) if pick < 18 else
        st.sampled_from(["<b>x</b>", "<<i>a</i>>", "<a:b>", "<>", "<x y>"])))


@st.composite
def dot_files(draw: st.DrawFn) -> str:
    """A DOT file of pydot's grammar, with its odd corners; valid mostly (one in four files
    may hold what pydot refuses)."""
    odd = draw(st.integers(0, 3)) == 0

    def blank() -> str:
        return draw(st.sampled_from(BLANKS))

    def ref() -> str:
        parts = [draw(ids(odd)) for _ in range(draw(st.sampled_from([1, 1, 1, 1, 1, 2, 2, 3])))]
        return (blank() + ":" + blank()).join(parts)

    def value() -> str:
        if draw(st.integers(0, 3)):
            return draw(ids())
        return draw(st.sampled_from(["-1", "-1.5", "0.5", "1.5abc", "-.5", "12ab"]))

    def attrs() -> str:
        lists = []
        for _ in range(draw(st.integers(1, 2))):
            items = [draw(ids()) + (f"{blank()}={blank()}{value()}" if draw(st.booleans())
                                    else "") for _ in range(draw(st.integers(0, 3)))]
            sep = draw(st.sampled_from([",", " ", ", ", " ,"]))
            lists.append("[" + blank() + sep.join(items) + blank() + "]")
        return blank().join(lists)

    def block(depth: int) -> str:
        head = draw(st.sampled_from(["", "", "subgraph ", "subgraph", "SubGraph "]))
        name = draw(ids()) + " " if head and draw(st.booleans()) else ""
        return head + name + "{" + stmts(depth + 1) + "}"

    def point(depth: int) -> str:
        return block(depth) if depth < 3 and draw(st.integers(0, 5)) == 0 else ref()

    def stmt(depth: int) -> str:
        kind = draw(st.sampled_from(["node", "edge", "edge", "edge", "default", "assign",
                                     "block"]))
        if kind == "node":
            text = ref() + (blank() + attrs() if draw(st.booleans()) else "")
            ends = ["", ";", ";", "\n", ";;"]
        elif kind == "edge":
            ops = ["--", "->"]
            text = point(depth)
            for _ in range(draw(st.integers(1, 3))):
                text += blank() + draw(st.sampled_from(ops)) + blank() + point(depth)
            text += blank() + attrs() if draw(st.integers(0, 3)) == 0 else ""
            ends = ["", ";", ";", "\n"]
        elif kind == "default":
            text = draw(st.sampled_from(["node", "edge", "graph", "NODE"])) + blank() + attrs()
            ends = ["", ";", ";", "\n"]
        elif kind == "assign":
            text = draw(ids()) + blank() + "=" + blank() + value()
            ends = ["", ";", ";", "\n"]
        else:
            text = block(depth) if depth < 3 else ref()
            ends = ["", ";", ";", "\n", ";;"]
        return text + draw(st.sampled_from(ends + ([";;", ";;;"] if odd else [])))

    def stmts(depth: int) -> str:
        count = draw(st.integers(1 if depth == 1 else 0, 5))
        return blank() + blank().join(stmt(depth) for _ in range(count)) + blank()

    head = draw(st.sampled_from(["", "", "strict ", "STRICT "]))
    kind = draw(st.sampled_from(["graph", "graph", "digraph", "Graph"]))
    name = draw(ids()) if draw(st.booleans()) else ""
    text = blank() + head + kind + " " + name + blank() + "{" + stmts(1) + "}" + blank()
    if odd:
        text += draw(st.sampled_from([";", "graph H { z }", "x", "/* open", "; ;"]))
    return text


@st.composite
def broken(draw: st.DrawFn) -> str:
    """A generated file with a few characters deleted or inserted (DOT's own characters)."""
    text = draw(dot_files())
    body = text.find("{") + 1  # mostly past the header
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0 if draw(st.integers(0, 9)) == 0 else body, len(text)))
        if draw(st.booleans()):
            text = text[:at] + text[at + draw(st.integers(1, 3)):]
        else:
            text = text[:at] + draw(st.sampled_from(list('{}[];=-">:<,+#/*\\\f'))) + text[at:]
    return text


@DIFF
@given(dot_files())
def test_fuzz_generated_dot_reads_the_same(text: str) -> None:
    assert_same(text)


@DIFF
@given(broken())
def test_fuzz_broken_dot_is_refused_the_same(text: str) -> None:
    assert_same(text)


@DIFF
@given(st.lists(st.tuples(st.sampled_from([*WORDS[:8], '"a b"', "<x>", '"q\\"s"']),
                          st.sampled_from([*WORDS[:8], '"a b"', "<x>"])), min_size=1,
                max_size=8))
def test_fuzz_repeated_edges_warn_the_same(edges: list[tuple[str, str]]) -> None:
    """Repeats (either way round), self-loops and keyword names, with their lines."""
    assert_same("graph G {\n" + "".join(f"  {u} -- {v};\n" for u, v in edges) + "}\n")


def test_a_topology_equal_to_pydots_is_a_topology() -> None:
    """The comparison sees every field (a vacuous one would pass anything)."""
    a = outcome("graph G { a -- b [w=1] }", "fast")
    b = outcome("graph G { a -- b [w=2] }", "fast")
    assert a != b
    assert isinstance(parse_dot("graph G { a }"), Topology)


# --- the pre-scan: runs of plain statements counted at once, as token by token -------------


def scanned(text: str, runs: bool) -> object:
    try:
        return dotscan.prescan(text, "f.dot", runs=runs)
    except InputError as err:
        return f"refused: {err}"


@st.composite
def plain_heavy(draw: st.DrawFn) -> str:
    """Runs of ``a -- b;`` with what breaks them: keywords (``node -- a``, also after a
    quoted ``"node"``), ports, attributes, blocks, comments, ``=``."""
    words = [*WORDS[:10], "node", "NODE", "graph", "subgraph", "strict", '"node"', '"a"',
             "a:p", "x=1", "{ b; }", "[c=d]", "[c; d -- e; f]", "/* e */", "<f>"]
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        chain = draw(st.lists(st.sampled_from(words), min_size=1, max_size=4))
        op = draw(st.sampled_from([" -- ", "->", "--", " -> "]))
        lines.append(op.join(chain) + draw(st.sampled_from([";", ";", ";\n", "", " ;"])))
    return "graph G {\n" + "\n".join(lines) + "\n}\n"


@DIFF
@given(st.one_of(plain_heavy(), dot_files()), st.sampled_from(["MAX_NODES", "MAX_EDGES"]),
       st.integers(1, 12))
def test_fuzz_prescan_counts_runs_as_token_by_token(text: str, limit: str, low: int) -> None:
    """The same counts, or the same refusal at the same place, also with one limit low
    enough to be passed inside a run."""
    assert scanned(text, runs=True) == scanned(text, runs=False)
    with mock.patch.object(dotscan, limit, low):
        assert scanned(text, runs=True) == scanned(text, runs=False)


def test_prescan_takes_a_plain_file_in_runs() -> None:
    """The 10,000-edge file of the benchmark is one run (what makes the pre-scan fast)."""
    text = "graph G {\n" + "".join(f"  n{i} -- n{i // 2};\n" for i in range(1, 10_000)) + "}\n"
    kinds = [kind for kind, _, _ in dotscan.tokens(text, "f.dot", runs=True)]
    assert kinds == ["id", "id", "open", "plain", "close"]
    assert dotscan.prescan(text, "f.dot") == dotscan.prescan(text, "f.dot", runs=False)
