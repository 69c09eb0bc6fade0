"""The parallel worm (``--strategy parallel``, the seed's ``:erpc.multicall`` idea): exact
transcripts, duplicate probes, determinism, the checker's nesting rules, and what it costs."""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import GRAPHS
from conftest import inkworm_main as inkworm
from inkworm import AutoConnect, EdgeOrder, Mode, Topology, check, load_dot, simulate
from inkworm.costs import CODE_BYTES, Costs, costs, mapset_size, mapset_term
from inkworm.etf import encode
from inkworm.reader import read_trace_bytes
from inkworm.run import Faults, RunSpec, Strategy
from inkworm.trace import Call, Connect, Event, ProbeEnd, ProbeStart, Result, Return, Trace
from inkworm.tracefile import write_trace
from inkworm.views import describe, final_state, result_map, visit_order, walk

PARALLEL = RunSpec(strategy=Strategy.PARALLEL)
FIXED_PARALLEL = RunSpec(mode=Mode.FIXED, strategy=Strategy.PARALLEL)

#: The smallest graph where two branches reach a node at once: a square, d opposite a.
#:
#:     a -- b          probe 0 on a: nodes() [b, c], visited {}: targets b, c; both are
#:     |    |          sent {a, b, c}. Probe 0.1 on b: nodes() [a, d]: skip a, target d,
#:     c -- d          sent {a, b, c, d}; probe 0.2 on c, the same. So d is probed twice,
#:                     0.1.1 (from b) and 0.2.1 (from c), at the same moment.
DIAMOND = Topology.from_edges([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")],
                              ["a", "b", "c", "d"], name="diamond")


def line(e: Event) -> str:
    """One event with its probe path (``-`` for the runtime's) and a call's child."""
    child = getattr(e, "child", None)
    return " ".join([e.probe or "-", describe(e), *([f"-> {child}"] if child else [])])


def lines(trace: Trace) -> list[str]:
    return [line(e) for e in trace.events]


def assert_valid(trace: Trace) -> None:
    __tracebackhide__ = True
    assert [v.format() for v in check(trace)] == []


def rules(trace: Trace) -> set[str]:
    return {v.rule for v in check(trace)}


def dump(trace: Trace) -> str:
    out = io.StringIO()
    write_trace(trace, out)
    return out.getvalue()


def renumbered(trace: Trace, events: list[Event]) -> Trace:
    return Trace(trace.header, [dataclasses.replace(e, seq=i) for i, e in enumerate(events)])


def index(trace: Trace, test: Callable[[Event], bool]) -> int:
    return next(i for i, e in enumerate(trace.events) if test(e))


# --- the walk ------------------------------------------------------------------------------

# The bowtie (a-b b-c a-c b-d d-e e-f f-d), naive. Probe 0 on a sends {a,b,c} to b and c at
# once; c sees only visited nodes and ends; b's one target is d, sent {a,b,c,d}; d (connected
# to a first, naive) skips b and a and fans out to e and f with {a..f}; e and f skip all.
# Skips come first, then the loads, then the calls, each in nodes() order; the answers come
# back in target order once every target has answered. No node is probed twice here.
BOWTIE_NAIVE = """\
0 a probe_start []
0 a neighbors [b,c]
0 a load_binary b
0 a load_binary c
0 a call b [a,b,c] -> 0.1
0 a call c [a,b,c] -> 0.2
0.1 b probe_start [a,b,c]
0.2 c probe_start [a,b,c]
0.1 b neighbors [a,c,d]
0.2 c neighbors [b,a]
0.1 b skip a
0.2 c skip b
0.1 b skip c
0.2 c skip a
0.1 b load_binary d
0.2 c probe_end [c]
0.1 b call d [a,b,c,d] -> 0.1.1
0.1.1 d probe_start [a,b,c,d]
- d connect a
- a connect d
0.1.1 d neighbors [b,e,f,a]
0.1.1 d skip b
0.1.1 d skip a
0.1.1 d load_binary e
0.1.1 d load_binary f
0.1.1 d call e [a,b,c,d,e,f] -> 0.1.1.1
0.1.1 d call f [a,b,c,d,e,f] -> 0.1.1.2
0.1.1.1 e probe_start [a,b,c,d,e,f]
0.1.1.2 f probe_start [a,b,c,d,e,f]
- e connect a
- a connect e
- f connect a
- a connect f
0.1.1.1 e neighbors [d,f,a]
0.1.1.2 f neighbors [e,d,a]
0.1.1.1 e skip d
0.1.1.2 f skip e
0.1.1.1 e skip f
0.1.1.2 f skip d
0.1.1.1 e skip a
0.1.1.2 f skip a
0.1.1.1 e probe_end [e]
0.1.1.2 f probe_end [f]
0.1.1 d return e [e] -> 0.1.1.1
0.1.1 d return f [f] -> 0.1.1.2
0.1.1 d probe_end [d,e,f]
0.1 b return d [d,e,f] -> 0.1.1
0.1 b probe_end [b,d,e,f]
0 a return b [b,d,e,f] -> 0.1
0 a return c [c] -> 0.2
0 a probe_end [a,b,c,d,e,f]
0 a result a:[b,c] b:[a,c,d] c:[b,a] d:[b,e,f,a] e:[d,f,a] f:[e,d,a]
"""


def test_bowtie_parallel_transcript() -> None:
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), PARALLEL)
    assert lines(trace) == BOWTIE_NAIVE.splitlines()
    assert trace.header.strategy is Strategy.PARALLEL
    assert_valid(trace)


def test_bowtie_probe_and_visit_orders() -> None:
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), FIXED_PARALLEL)
    starts = [(e.probe, e.node) for e in trace.events if isinstance(e, ProbeStart)]
    assert starts == [("0", "a"), ("0.1", "b"), ("0.2", "c"), ("0.1.1", "d"),
                      ("0.1.1.1", "e"), ("0.1.1.2", "f")]
    assert visit_order(trace) == ["a", "b", "c", "d", "e", "f"]


# The diamond, fixed, default latencies (call 400, load 1200, start 60, nodes 15, skip 5),
# by hand: a starts at 0, nodes() at 60, no skip, loads at 75, calls at 75 + 1200 = 1275; b
# and c start at 1675, nodes() at 1735, skip a at 1750, load d at 1755, call d at 2955; both
# probes of d start at 3355, nodes() at 3415, skip b 3430, skip c 3435, end 3440; their
# answers reach b and c at 3840, which end then; theirs reach a at 4240: result at 4240.
DIAMOND_FIXED = """\
0 0 a probe_start []
60 0 a neighbors [b,c]
75 0 a load_binary b
75 0 a load_binary c
1275 0 a call b [a,b,c] -> 0.1
1275 0 a call c [a,b,c] -> 0.2
1675 0.1 b probe_start [a,b,c]
1675 0.2 c probe_start [a,b,c]
1735 0.1 b neighbors [a,d]
1735 0.2 c neighbors [a,d]
1750 0.1 b skip a
1750 0.2 c skip a
1755 0.1 b load_binary d
1755 0.2 c load_binary d
2955 0.1 b call d [a,b,c,d] -> 0.1.1
2955 0.2 c call d [a,b,c,d] -> 0.2.1
3355 0.1.1 d probe_start [a,b,c,d]
3355 0.2.1 d probe_start [a,b,c,d]
3415 0.1.1 d neighbors [b,c]
3415 0.2.1 d neighbors [b,c]
3430 0.1.1 d skip b
3430 0.2.1 d skip b
3435 0.1.1 d skip c
3435 0.2.1 d skip c
3440 0.1.1 d probe_end [d]
3440 0.2.1 d probe_end [d]
3840 0.1 b return d [d] -> 0.1.1
3840 0.1 b probe_end [b,d]
3840 0.2 c return d [d] -> 0.2.1
3840 0.2 c probe_end [c,d]
4240 0 a return b [b,d] -> 0.1
4240 0 a return c [c,d] -> 0.2
4240 0 a probe_end [a,b,c,d]
4240 0 a result a:[b,c] b:[a,d] c:[a,d] d:[b,c]
"""


def test_a_node_two_branches_reach_at_once_is_probed_twice() -> None:
    trace = simulate(DIAMOND, FIXED_PARALLEL)
    assert [f"{e.t_us} {line(e)}" for e in trace.events] == DIAMOND_FIXED.splitlines()
    assert_valid(trace)


def test_the_sequential_worm_probes_the_diamond_once_each() -> None:
    trace = simulate(DIAMOND, RunSpec(mode=Mode.FIXED))
    assert [e.node for e in trace.events if isinstance(e, ProbeStart)] == ["a", "b", "d", "c"]
    assert trace.header.strategy is None and all(e.probe is None for e in trace.events)


def test_concurrent_probes_of_one_node_share_its_naive_connection() -> None:
    """Both probes of d greet a at once; the second waits for the connection the first is
    making, so each side reports it once (check's connect rule) and both nodes() list a."""
    trace = simulate(DIAMOND, PARALLEL)
    connects = [(e.node, e.peer) for e in trace.events if isinstance(e, Connect)]
    assert connects == [("d", "a"), ("a", "d")]
    assert [e.nodes for e in trace.events if e.node == "d" and e.kind.value == "neighbors"] \
        == [("b", "c", "a"), ("b", "c", "a")]
    assert_valid(trace)


def test_never_fails_like_the_sequential_worm() -> None:
    """d cannot greet the launcher: both of its probes raise; b and c record the error and
    raise in turn; a records b's (first in target order), stops there and crashes."""
    trace = simulate(DIAMOND, RunSpec(auto_connect=AutoConnect.NEVER,
                                      strategy=Strategy.PARALLEL))
    assert lines(trace)[-6:] == [
        "0.1.1 d probe_start [a,b,c,d]",
        "0.2.1 d probe_start [a,b,c,d]",
        "0.1 b error d {:exception, :terminated}",
        "0.2 c error d {:exception, :terminated}",
        "0 a error b {:exception, {:exception, :terminated}}",
        "0 a crash {:exception, {:exception, :terminated}}",
    ]
    assert_valid(trace)


def test_tolerant_records_the_failure_and_goes_on() -> None:
    trace = simulate(DIAMOND, RunSpec(auto_connect=AutoConnect.NEVER,
                                      strategy=Strategy.PARALLEL), faults=Faults(tolerant=True))
    assert result_map(trace.events) == {"a": ("b", "c"), "b": ("a", "d"), "c": ("a", "d")}
    assert_valid(trace)


def test_the_ring_with_chords_probes_nodes_twice() -> None:
    trace = simulate(load_dot(GRAPHS / "ring_chords.dot"), FIXED_PARALLEL)
    c = costs(trace)
    assert (c.probes, c.duplicates) == (18, 10)
    assert set(result_map(trace.events) or {}) == {f"r{i}" for i in range(8)}
    assert_valid(trace)


# Faults, as in the sequential model (tests/test_faults_sim.py): the bowtie, fixed. d runs
# (0.1.1) and has called e and f when e's probe starts at 5,040: d stops; b, e and f see it go
# down; b's multicall (d alone) fails at once; b raises to a, which crashes. e and f were
# called by d: they walk on, orphaned (their nodes() no longer lists d), after the crash too.
KILL_D_AFTER_E = """\
5040 0.1.1.1 e probe_start [a,b,c,d,e,f]
5040 - d kill
5040 - b disconnect d :connection_closed
5040 - e disconnect d :connection_closed
5040 - f disconnect d :connection_closed
5040 0.1 b error d {:erpc, :noconnection}
5040 0.1.1.2 f probe_start [a,b,c,d,e,f]
5100 0.1.1.1 e neighbors [f]
5100 0.1.1.2 f neighbors [e]
5115 0.1.1.1 e skip f
5115 0.1.1.2 f skip e
5120 0.1.1.1 e probe_end [e]
5120 0.1.1.2 f probe_end [f]
5440 0 a error b {:exception, {:erpc, :noconnection}}
5440 0 a crash {:exception, {:erpc, :noconnection}}
"""


def timed(trace: Trace) -> list[str]:
    return [f"{e.t_us} {line(e)}" for e in trace.events]


def test_killing_a_running_node_crashes_the_worm_and_orphans_its_callees() -> None:
    from inkworm.run import Fault

    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), FIXED_PARALLEL,
                     faults=Faults(Fault("d", "e")))
    assert timed(trace)[-15:] == KILL_D_AFTER_E.splitlines()
    assert_valid(trace)


def test_a_hung_probe_times_out_from_the_outermost_call_down() -> None:
    """e hangs; every multicall gives up 5 ms after it went out: a's (out at 1,275) first,
    then b's (2,960), then d's (4,640). d records e's timeout and stops there: f answered,
    but comes after e in d's targets."""
    trace = simulate(load_dot(GRAPHS / "bowtie.dot"), FIXED_PARALLEL,
                     faults=Faults(timeout_ms=5, hang="e"))
    assert timed(trace)[-4:] == [
        "6275 0 a error b {:erpc, :timeout}",
        "6275 0 a crash {:erpc, :timeout}",
        "7960 0.1 b error d {:erpc, :timeout}",
        "9640 0.1.1 d error e {:erpc, :timeout}",
    ]
    assert_valid(trace)


# Five nodes, skips made slow (600 us) so that n1's branch is ahead of n2's: n1 calls n4 at
# 3,550 while n2's load on n4 (out at 2,950) is still on its way; n4 stops as its probe starts
# (3,950). n1 hears at once; n2's load fails when its multicall returns (4,150), and n2 makes
# no call. Tolerant, both go on without n4.
FIVE = Topology.from_edges([("n0", "n1"), ("n0", "n2"), ("n2", "n3"), ("n1", "n4"),
                            ("n2", "n4"), ("n0", "n3")], ["n0", "n1", "n2", "n3", "n4"])


@pytest.mark.parametrize("tolerant", [False, True], ids=["crash", "tolerant"])
def test_a_load_on_a_stopped_node_fails_and_is_not_called(tolerant: bool) -> None:
    from inkworm.run import Fault
    from inkworm.worm import Latency

    trace = simulate(FIVE, FIXED_PARALLEL, Latency(skip=600),
                     faults=Faults(Fault("n4", "n4"), tolerant))
    assert "4150 0.2 n2 error n4 {:erpc, :noconnection}" in timed(trace)
    assert not any(isinstance(e, Call) and e.probe == "0.2" for e in trace.events)
    if tolerant:
        assert result_map(trace.events) == {"n0": ("n1", "n2", "n3"), "n1": ("n0", "n4"),
                                            "n2": ("n0", "n3", "n4"), "n3": ("n2", "n0")}
    assert_valid(trace)


@pytest.mark.parametrize("graph", ["diamond", "bowtie", "ring_chords", "two_triangles"])
def test_every_fault_the_recorder_injects_gives_a_valid_trace(graph: str) -> None:
    """Every kill (NODE after OTHER), and timeouts of 1 to 13 ms with or without a hung
    node, in both modes: check accepts each run. (With --tolerant, an orphan may still walk
    after the result, which check flags, as for the sequential worm.)"""
    from inkworm.run import Fault

    topology = DIAMOND if graph == "diamond" else load_dot(GRAPHS / f"{graph}.dot")
    launch, others = topology.nodes[0], topology.nodes[1:]
    for spec in (PARALLEL, FIXED_PARALLEL):
        runs = [Faults(Fault(v, a)) for v in others for a in topology.nodes]
        runs += [Faults(timeout_ms=ms, hang=h) for ms in (1, 2, 3, 5, 8, 13)
                 for h in (None, *others)]
        for faults in runs:
            trace = simulate(topology, spec, faults=faults)
            assert [v.format() for v in check(trace)] == [], (faults, launch)
            tolerant = simulate(topology, spec, faults=dataclasses.replace(faults,
                                                                           tolerant=True))
            assert rules(tolerant) <= {"order"}, faults


# --- determinism ---------------------------------------------------------------------------

@pytest.mark.parametrize("graph", ["bowtie", "ring_chords", "sparse_50"])
def test_same_inputs_same_bytes(graph: str) -> None:
    topology = load_dot(GRAPHS / f"{graph}.dot")
    first, second = (dump(simulate(topology, PARALLEL)) for _ in range(2))
    assert first == second
    trace = read_trace_bytes(first.encode(), graph)
    assert [e.t_us for e in trace.events] == sorted(e.t_us for e in trace.events)
    assert_valid(trace)


# --- check ---------------------------------------------------------------------------------

@pytest.mark.parametrize("graph", ["bowtie", "ring_chords", "triangle_tail", "sparse_50"])
@pytest.mark.parametrize("mode", list(Mode), ids=lambda m: m.value)
@pytest.mark.parametrize("order", list(EdgeOrder), ids=lambda o: o.value)
def test_simulated_parallel_traces_are_valid(graph: str, mode: Mode, order: EdgeOrder) -> None:
    spec = RunSpec(mode=mode, edge_order=order, strategy=Strategy.PARALLEL)
    trace = simulate(load_dot(GRAPHS / f"{graph}.dot"), spec)
    assert_valid(trace)
    assert_valid(read_trace_bytes(dump(trace).encode(), graph))


def test_duplicate_probes_are_a_violation_in_a_sequential_trace() -> None:
    trace = simulate(DIAMOND, FIXED_PARALLEL)
    sequential = Trace(dataclasses.replace(trace.header, strategy=None), trace.events)
    assert "probed-twice" in rules(sequential)


def test_a_call_without_its_childs_probe_start() -> None:
    trace = simulate(DIAMOND, FIXED_PARALLEL)
    i = index(trace, lambda e: isinstance(e, ProbeStart) and e.probe == "0.2.1")
    broken = renumbered(trace, trace.events[:i] + trace.events[i + 1:])
    messages = [v.message for v in check(broken) if v.rule == "call-start"]
    assert messages == ["call to d (probe 0.2.1) is never followed by its probe start"]


def test_a_return_before_the_childs_probe_end() -> None:
    trace = simulate(DIAMOND, FIXED_PARALLEL)
    events = list(trace.events)
    end = index(trace, lambda e: isinstance(e, ProbeEnd) and e.probe == "0.1.1")
    back = index(trace, lambda e: isinstance(e, Return) and e.child == "0.1.1")
    events.insert(back, events.pop(end))  # the end now comes right after the return
    violations = check(renumbered(trace, events))
    assert next(v.message for v in violations if v.rule == "nesting") == \
        "return from d (probe 0.1.1) before its probe ended"


def test_a_wrong_merged_map() -> None:
    trace = simulate(DIAMOND, FIXED_PARALLEL)
    result = trace.events[-1]
    assert isinstance(result, Result)
    wrong = dataclasses.replace(result, map={**result.map, "d": ("b",)})
    violations = check(Trace(trace.header, [*trace.events[:-1], wrong]))
    assert [(v.rule, v.message) for v in violations] == [
        ("result", "the result is not the merge of the probes' maps (in result only: []; "
                   "merged but missing: []; other neighbours: ['d'])")]


def test_the_later_answer_wins_the_merge() -> None:
    """Both probes of d return d's neighbours; if the second (c's, later in a's target
    order) said otherwise, the result must hold what c's answer held."""
    trace = simulate(DIAMOND, FIXED_PARALLEL)
    events = list(trace.events)
    second = index(trace, lambda e: e.probe == "0.2.1" and e.kind.value == "neighbors")
    events[second] = dataclasses.replace(events[second], nodes=("c", "b"))
    skips = [i for i, e in enumerate(events) if e.probe == "0.2.1" and e.kind.value == "skip"]
    events[skips[0]], events[skips[1]] = (dataclasses.replace(events[skips[0]], neighbor="c"),
                                          dataclasses.replace(events[skips[1]], neighbor="b"))
    result = events[-1]
    assert isinstance(result, Result)
    assert {v.rule for v in check(renumbered(trace, events))} == {"result"}
    events[-1] = dataclasses.replace(result, map={**result.map, "d": ("c", "b")})
    assert check(renumbered(trace, events)) == []


def test_a_call_must_name_its_childs_path() -> None:
    trace = simulate(DIAMOND, FIXED_PARALLEL)
    events = list(trace.events)
    i = index(trace, lambda e: isinstance(e, Call) and e.child == "0.2")
    events[i] = dataclasses.replace(events[i], child="0.3")
    assert "probe" in rules(renumbered(trace, events))


def test_events_without_their_probe_are_a_violation() -> None:
    trace = simulate(DIAMOND, FIXED_PARALLEL)
    events = [dataclasses.replace(e, probe=None) if e.node == "b" else e for e in trace.events]
    assert "probe" in rules(renumbered(trace, events))


def swap(events: list[Event], i: int) -> list[Event] | None:
    """Two neighbouring events of one probe in the other order (events of different probes
    at one instant are concurrent: either order is a valid trace)."""
    if i + 1 >= len(events):
        return None
    a, b = events[i], events[i + 1]
    if a.t_us == b.t_us and (a.probe != b.probe or a.probe is None):
        return None
    return [*events[:i], b, a, *events[i + 2:]]


def drop(events: list[Event], i: int) -> list[Event] | None:
    if isinstance(events[i], Connect):
        return None  # a lost runtime observation: the check cannot know it happened
    return events[:i] + events[i + 1:]


def duplicate(events: list[Event], i: int) -> list[Event] | None:
    return [*events[: i + 1], events[i], *events[i + 1:]]


@pytest.mark.parametrize("mutate", [swap, drop, duplicate], ids=["swap", "drop", "duplicate"])
@pytest.mark.parametrize("spec", [PARALLEL, FIXED_PARALLEL], ids=["naive", "fixed"])
@pytest.mark.parametrize("graph", ["diamond", "bowtie", "ring_chords"])
def test_every_mutation_is_caught(mutate: Callable[[list[Event], int], list[Event] | None],
                                  spec: RunSpec, graph: str) -> None:
    topology = DIAMOND if graph == "diamond" else load_dot(GRAPHS / f"{graph}.dot")
    trace = simulate(topology, spec)
    tried = 0
    for i in range(len(trace.events)):
        events = mutate(trace.events, i)
        if events is None:
            continue
        tried += 1
        assert check(renumbered(trace, events)), \
            f"{mutate.__name__} at {i} ({line(trace.events[i])}) went unnoticed"
    assert tried >= len(trace.events) // 3


# --- the fold ------------------------------------------------------------------------------

def test_the_running_tree_holds_both_probes_of_d() -> None:
    trace = simulate(DIAMOND, FIXED_PARALLEL)
    states = {e.seq: (dict(s.running), list(s.stack)) for e, s in walk(trace)}
    both = index(trace, lambda e: e.probe == "0.2.1")
    assert states[both] == ({"0": "a", "0.1": "b", "0.2": "c", "0.1.1": "d", "0.2.1": "d"},
                            ["a", "b", "c", "d", "d"])
    first_end = index(trace, lambda e: isinstance(e, ProbeEnd) and e.probe == "0.1.1")
    assert states[first_end][0] == {"0": "a", "0.1": "b", "0.2": "c", "0.2.1": "d"}
    assert states[len(trace.events) - 1] == ({}, [])


def test_the_fold_counts_duplicate_probes_as_they_start() -> None:
    trace = simulate(DIAMOND, FIXED_PARALLEL)
    counts = {e.seq: s.duplicates for e, s in walk(trace)}
    second = index(trace, lambda e: e.probe == "0.2.1")  # d's second probe starts
    assert counts[second - 1] == 0 and counts[second] == 1 == counts[len(counts) - 1]
    ring = simulate(load_dot(GRAPHS / "ring_chords.dot"), FIXED_PARALLEL)
    assert final_state(ring).duplicates == costs(ring).duplicates == 10


@pytest.mark.parametrize("mode", [Mode.FIXED, Mode.NAIVE])
def test_a_failure_takes_everything_below_it_out_of_the_running_tree(mode: Mode) -> None:
    """Killing d as e starts: f's probe starts after d is gone (its call was on the way), below
    a caller no longer running; when b's call fails, and the launcher's, all of it leaves."""
    from inkworm.run import Fault

    trace = simulate(load_dot(GRAPHS / "bowtie.dot"),
                     RunSpec(mode=mode, strategy=Strategy.PARALLEL),
                     faults=Faults(kill=Fault("d", "e")))
    states = {e.seq: dict(s.running) for e, s in walk(trace)}
    crash = index(trace, lambda e: e.kind.value == "crash")
    assert states[crash] == {}
    assert any("0.1.1.2" in running for running in states.values())  # f's probe did start


# --- costs ---------------------------------------------------------------------------------

def test_a_visited_set_is_measured_as_elixir_encodes_it() -> None:
    """``:erlang.term_to_binary(MapSet.new([:a]), minor_version: 2)`` on Elixir 1.14 / OTP 24
    (the default encoding from OTP 26 on), byte for byte."""
    assert list(encode(mapset_term(["a"]))) == [
        131, 116, 0, 0, 0, 3, 119, 10, 95, 95, 115, 116, 114, 117, 99, 116, 95, 95, 119, 13,
        69, 108, 105, 120, 105, 114, 46, 77, 97, 112, 83, 101, 116, 119, 3, 109, 97, 112, 116,
        0, 0, 0, 1, 119, 1, 97, 106, 119, 7, 118, 101, 114, 115, 105, 111, 110, 97, 2]
    for names in ([], ["a"], ["a@host", "bé@h", "x" * 300]):
        assert mapset_size(names) == len(encode(mapset_term(names)))


def test_costs_of_the_diamond_by_hand() -> None:
    """Parallel: 5 probes (d twice); loads a->b, a->c, b->d, c->d and as many calls: 16
    messages; visited sets {a,b,c} twice (54 + 3 * 4 = 66 bytes each) and {a,b,c,d} twice
    (70 each): 272 bytes. Sequential: a->b, b->d, d->c: 4 probes, 12 messages, visited
    [a], [a,b], [a,b,d]: 58 + 62 + 66 = 186 bytes; it ends at 6,325 us, against 4,240."""
    parallel = costs(simulate(DIAMOND, FIXED_PARALLEL))
    assert parallel == Costs(probes=5, duplicates=1, messages=16, code_bytes=4 * CODE_BYTES,
                             call_code_bytes=4 * CODE_BYTES, visited_bytes=272, t_us=4240)
    sequential = costs(simulate(DIAMOND, RunSpec(mode=Mode.FIXED)))
    assert sequential == Costs(probes=4, duplicates=0, messages=12,
                               code_bytes=3 * CODE_BYTES, call_code_bytes=3 * CODE_BYTES,
                               visited_bytes=186, t_us=6325)
    assert sequential.bytes == 6 * CODE_BYTES + 186


def test_costs_of_a_trace_read_back_are_the_same() -> None:
    trace = simulate(load_dot(GRAPHS / "sparse_50.dot"), RunSpec())
    assert costs(read_trace_bytes(dump(trace).encode(), "t")) == costs(trace)


# --- the command line ----------------------------------------------------------------------

def test_simulate_and_check_parallel(capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path) -> None:
    out = tmp_path / "p.jsonl"
    code, _, _ = inkworm(capsys, "simulate", str(GRAPHS / "ring_chords.dot"), "--strategy",
                         "parallel", "-o", str(out))
    assert code == 0
    header = json.loads(out.read_text().splitlines()[0])
    assert header["strategy"] == "parallel"
    assert inkworm(capsys, "check", str(out))[0] == 0
    code, text, _ = inkworm(capsys, "summary", str(out))
    assert "costs: 18 probes (10 duplicate)" in text


def test_simulate_a_parallel_kill(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "k.jsonl"
    code, _, _ = inkworm(capsys, "simulate", str(GRAPHS / "bowtie.dot"), "--strategy",
                         "parallel", "--kill", "d", "--after", "e", "-o", str(out))
    assert code == 0
    assert json.loads(out.read_text().splitlines()[0])["meta"]["kills"] == [
        {"node": "d", "after": "e"}]
    assert inkworm(capsys, "check", str(out))[0] == 0
