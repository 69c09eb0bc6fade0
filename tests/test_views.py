"""The one fold over a run (views.walk): the state after every event, exactly."""

from __future__ import annotations

from conftest import GRAPHS
from inkworm import AutoConnect, Mode, load_dot, load_trace, simulate
from inkworm.run import RunSpec
from inkworm.trace import Crash, Kill, ProbeStart, Trace
from inkworm.views import (
    event_nodes,
    final_state,
    state_at,
    states_at,
    trace_nodes,
    visit_order,
    walk,
)


def bowtie(mode: Mode = Mode.NAIVE) -> Trace:
    return simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=mode))


def test_the_stack_at_every_probe_start() -> None:
    stacks = [(e.node, list(s.stack)) for e, s in walk(bowtie()) if isinstance(e, ProbeStart)]
    assert stacks == [("a", ["a"]), ("b", ["a", "b"]), ("c", ["a", "b", "c"]),
                      ("d", ["a", "b", "d"]), ("e", ["a", "b", "d", "e"]),
                      ("f", ["a", "b", "d", "e", "f"])]


def test_the_final_state_of_the_naive_bowtie() -> None:
    state = final_state(bowtie())
    assert state.visited == list("abcdef")
    assert state.stack == []
    assert list(state.made) == [("a", "d"), ("a", "e"), ("a", "f")]
    assert state.failures == [] and state.killed == set()
    assert state.seen["d"] == ("b", "e", "f", "a")
    assert state.outcome is not None and state.outcome.kind.value == "result"


def test_the_fixed_probe_makes_no_connection() -> None:
    assert final_state(bowtie(Mode.FIXED)).made == {}


def test_states_at_are_snapshots_that_later_events_do_not_change() -> None:
    trace = bowtie()
    f_start = next(e.seq for e in trace.events if isinstance(e, ProbeStart) and e.node == "f")
    states = states_at(trace, [0, f_start])
    assert states[0].visited == ["a"] and states[0].active == "a"
    assert states[f_start].active == "f"
    # a-f appears between f's probe start and its nodes() call, not before
    assert list(states[f_start].made) == [("a", "d"), ("a", "e")]
    assert state_at(trace, f_start) == states[f_start]
    assert state_at(trace, 10_000) is None


def test_a_killed_ancestor_leaves_its_callees_on_the_stack() -> None:
    """The orphaned branch keeps walking: only the killed node leaves the stack."""
    trace = load_trace(GRAPHS / "bowtie-fixed.beam.jsonl")
    events = [e for e in trace.events if not isinstance(e, ProbeStart) or e.node != "f"]
    e_start = next(i for i, e in enumerate(events) if isinstance(e, ProbeStart) and e.node == "e")
    kill = Kill(seq=0, t_us=events[e_start].t_us, node="d")
    state = final_state([*events[: e_start + 1], kill])
    assert state.stack == ["a", "b", "e"]
    assert state.killed == {"d"} and state.failures == [kill]


def test_a_crash_is_the_outcome_and_a_failure() -> None:
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"),
                     RunSpec(mode=Mode.NAIVE, auto_connect=AutoConnect.NEVER))
    state = final_state(trace)
    assert isinstance(state.outcome, Crash)
    assert state.outcome in state.failures
    assert visit_order(trace) == state.visited == list("abcd")


def test_names_are_matched_once_to_the_topology() -> None:
    from inkworm import parse_dot
    from inkworm.views import renamed

    trace = bowtie()
    assert renamed(trace, load_dot(GRAPHS / "bowtie.dot")) is trace  # already its names
    full = parse_dot("graph { " + " ".join(f"\"{a}@mac\" -- \"{b}@mac\";" for a, b in
                                            ["ab", "bc", "ac", "bd", "de", "ef", "fd"]) + " }")
    named = renamed(trace, full)
    assert named.header.launch == "a@mac"
    assert visit_order(named) == [f"{n}@mac" for n in "abcdef"]
    assert list(final_state(named).made) == [("a@mac", "d@mac"), ("a@mac", "e@mac"),
                                             ("a@mac", "f@mac")]
    from inkworm import check

    assert check(named) == []


def test_every_node_a_trace_mentions_in_the_order_it_first_does() -> None:
    """The shortcut through visited sets that are slices of one visit order names what
    reading every event whole names, in the same order (simulated, parallel, recorded,
    read back from files)."""
    from inkworm.gen import sparse_cluster
    from inkworm.run import Fault, Faults, Strategy

    ring = load_dot(GRAPHS / "ring12.dot")
    traces = [simulate(sparse_cluster(200, seed=3), RunSpec(mode=Mode.FIXED)),
              simulate(ring, RunSpec(mode=Mode.NAIVE, strategy=Strategy.PARALLEL)),
              simulate(ring, RunSpec(mode=Mode.NAIVE), faults=Faults(Fault("r4", "r7"))),
              *(load_trace(path) for path in sorted(GRAPHS.glob("*.jsonl")))]
    # slices of one order naming nodes no event named before: ahead of what was read, over
    # it, behind it, a gap then what fills it
    from dataclasses import replace

    from inkworm.trace import Call, NodeSet

    made = simulate(sparse_cluster(40, seed=1), RunSpec(mode=Mode.FIXED))
    order = [f"z{i}" for i in range(100)]
    pos = {name: i for i, name in enumerate(order)}
    spans = iter([(0, 10), (5, 30), (40, 60), (2, 8), (0, 70), (65, 100), (90, 95)] * 40)
    events = [replace(e, visited=NodeSet(order, pos, *next(spans))) if isinstance(e, Call)
              else e for e in made.events]
    traces.append(Trace(made.header, events))
    assert len(traces) > 5
    for trace in traces:
        whole: dict[str, None] = {trace.header.launch: None}
        for e in trace.events:
            whole.update(dict.fromkeys(event_nodes(e)))
        assert trace_nodes(trace) == list(whole)
