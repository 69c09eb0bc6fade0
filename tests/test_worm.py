"""The worm model: exact event transcripts (as networkx's test_dfs) and properties."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import GRAPHS
from inkworm import AutoConnect, EdgeOrder, Mode, Topology, check, load_dot, simulate
from inkworm.run import RunSpec
from inkworm.views import dfs_tree, map_edges, result_map, transcript, visit_order

BOWTIE_NAIVE = """\
a probe_start []
a neighbors [b,c]
a load_binary b
a call b [a]
b probe_start [a]
b neighbors [a,c,d]
b skip a
b load_binary c
b call c [a,b]
c probe_start [a,b]
c neighbors [b,a]
c skip b
c skip a
c probe_end [c]
b return c [c]
b load_binary d
b call d [a,b,c]
d probe_start [a,b,c]
d connect a
a connect d
d neighbors [b,e,f,a]
d skip b
d load_binary e
d call e [a,b,c,d]
e probe_start [a,b,c,d]
e connect a
a connect e
e neighbors [d,f,a]
e skip d
e load_binary f
e call f [a,b,c,d,e]
f probe_start [a,b,c,d,e]
f connect a
a connect f
f neighbors [e,d,a]
f skip e
f skip d
f skip a
f probe_end [f]
e return f [f]
e skip a
e probe_end [e,f]
d return e [e,f]
d skip f
d skip a
d probe_end [d,e,f]
b return d [d,e,f]
b probe_end [b,c,d,e,f]
a return b [b,c,d,e,f]
a skip c
a probe_end [a,b,c,d,e,f]
a result a:[b,c] b:[a,c,d] c:[b,a] d:[b,e,f,a] e:[d,f,a] f:[e,d,a]
"""

BOWTIE_FIXED_REVERSED = """\
a probe_start []
a neighbors [c,b]
a load_binary c
a call c [a]
c probe_start [a]
c neighbors [a,b]
c skip a
c load_binary b
c call b [a,c]
b probe_start [a,c]
b neighbors [d,c,a]
b load_binary d
b call d [a,b,c]
d probe_start [a,b,c]
d neighbors [f,e,b]
d load_binary f
d call f [a,b,c,d]
f probe_start [a,b,c,d]
f neighbors [d,e]
f skip d
f load_binary e
f call e [a,b,c,d,f]
e probe_start [a,b,c,d,f]
e neighbors [f,d]
e skip f
e skip d
e probe_end [e]
f return e [e]
f probe_end [e,f]
d return f [e,f]
d skip e
d skip b
d probe_end [d,e,f]
b return d [d,e,f]
b skip c
b skip a
b probe_end [b,d,e,f]
c return b [b,d,e,f]
c probe_end [b,c,d,e,f]
a return c [b,c,d,e,f]
a skip b
a probe_end [a,b,c,d,e,f]
a result a:[c,b] b:[d,c,a] c:[a,b] d:[f,e,b] e:[f,d] f:[d,e]
"""

BOWTIE_NAIVE_NEVER_TAIL = """\
b call d [a,b,c]
d probe_start [a,b,c]
b error d {:exception, :terminated}
a error b {:exception, {:exception, :terminated}}
a crash {:exception, {:exception, :terminated}}
"""


def bowtie() -> Topology:
    return load_dot(GRAPHS / "bowtie.dot")


def test_bowtie_naive_transcript() -> None:
    trace = simulate(bowtie(), RunSpec(mode=Mode.NAIVE))
    assert "\n".join(transcript(trace.events)) + "\n" == BOWTIE_NAIVE
    assert [e.seq for e in trace.events] == list(range(len(trace.events)))


def test_bowtie_fixed_reversed_is_what_the_blog_printed() -> None:
    trace = simulate(bowtie(), RunSpec(mode=Mode.FIXED, edge_order=EdgeOrder.REVERSE))
    assert "\n".join(transcript(trace.events)) + "\n" == BOWTIE_FIXED_REVERSED
    assert visit_order(trace.events) == list("acbdfe")


def test_bowtie_fixed_returns_the_topology() -> None:
    trace = simulate(bowtie(), RunSpec(mode=Mode.FIXED))
    assert visit_order(trace.events) == list("abcdef")
    assert dfs_tree(trace.events) == [("a", "b"), ("b", "c"), ("b", "d"), ("d", "e"), ("e", "f")]
    result = result_map(trace.events)
    assert result == {n: tuple(p) for n, p in bowtie().peers().items()}


def test_bowtie_naive_never_crashes_at_d() -> None:
    trace = simulate(bowtie(), RunSpec(mode=Mode.NAIVE, auto_connect=AutoConnect.NEVER))
    tail = transcript(trace.events)[-5:]
    assert "\n".join(tail) + "\n" == BOWTIE_NAIVE_NEVER_TAIL
    assert result_map(trace.events) is None
    assert check(trace) == []


def test_fixed_never_is_unaffected() -> None:
    never = simulate(bowtie(), RunSpec(mode=Mode.FIXED, auto_connect=AutoConnect.NEVER))
    always = simulate(bowtie(), RunSpec(mode=Mode.FIXED))
    assert transcript(never.events) == transcript(always.events)


def test_virtual_time_is_non_decreasing_and_deterministic() -> None:
    one = simulate(bowtie(), RunSpec(mode=Mode.NAIVE))
    two = simulate(bowtie(), RunSpec(mode=Mode.NAIVE))
    times = [e.t_us for e in one.events]
    assert times == sorted(times) and times[-1] > 0
    assert [e.t_us for e in two.events] == times


def test_single_node_and_disconnected() -> None:
    solo = simulate(Topology.from_edges([], nodes=["solo"]))
    assert transcript(solo.events) == ["solo probe_start []", "solo neighbors []",
                                       "solo probe_end [solo]", "solo result solo:[]"]
    split = simulate(Topology.from_edges([("a", "b"), ("c", "d")]))
    assert visit_order(split.events) == ["a", "b"]


# --- properties on random connected graphs ---------------------------------------------------


@st.composite
def connected_graphs(draw: st.DrawFn) -> Topology:
    n = draw(st.integers(min_value=1, max_value=14))
    names = [f"v{i}" for i in range(n)]
    edges = [(names[draw(st.integers(0, k - 1))], names[k]) for k in range(1, n)]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    if pairs:
        edges += draw(st.lists(st.sampled_from(pairs), max_size=2 * n))
    order = draw(st.permutations(edges))
    return Topology.from_edges(order, nodes=names)


def preorder(topology: Topology, launch: str, order: EdgeOrder) -> list[str]:
    peers, seen, out = topology.peers(order), set(), []

    def visit(node: str) -> None:
        seen.add(node)
        out.append(node)
        for peer in peers[node]:
            if peer not in seen:
                visit(peer)

    visit(launch)
    return out


@settings(max_examples=150, deadline=None)
@given(connected_graphs(), st.sampled_from(list(EdgeOrder)), st.data())
def test_properties(topology: Topology, order: EdgeOrder, data: st.DataObject) -> None:
    launch = data.draw(st.sampled_from(topology.nodes))
    truth = topology.edge_set()
    fixed = simulate(topology, RunSpec(launch=launch, mode=Mode.FIXED, edge_order=order))
    naive = simulate(topology, RunSpec(launch=launch, mode=Mode.NAIVE, edge_order=order))
    assert visit_order(fixed.events) == preorder(topology, launch, order)
    assert visit_order(naive.events) == visit_order(fixed.events)
    fixed_result = result_map(fixed.events)
    naive_result = result_map(naive.events)
    assert fixed_result is not None and naive_result is not None
    assert {frozenset(e) for e in map_edges(fixed_result)} == truth
    adjacent = set(topology.peers()[launch])
    artefacts = {frozenset((launch, v)) for v in topology.nodes
                 if v != launch and v not in adjacent}
    assert {frozenset(e) for e in map_edges(naive_result)} == truth | artefacts
    assert check(fixed) == [] and check(naive) == []
    tree = dfs_tree(fixed.events)
    assert len(tree) == len(topology.nodes) - 1
    assert not tree or nx.is_tree(nx.Graph(tree))
