"""Console-log import: the seed's printed output becomes a source: log trace."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkworm import EdgeOrder, InputError, Mode, check, load_dot, simulate
from inkworm.importlog import import_log, parse_log
from inkworm.run import RunSpec
from inkworm.trace import Source
from inkworm.views import result_map, topology_diff, visit_order

# What the seed's iex session printed (reversed edge order, naive probe, bowtie on host mac).
SEED_LOG = """\
iex(10)> LocalCluster.run_on(cl, :a, {ActualProbe, :run_probe, [bin]})
Launching from a@mac
Hello from c@mac
Hello from b@mac
Hello from d@mac
Hello from f@mac
Hello from e@mac
 %{
   f@mac: [:d@mac, :e@mac],
   d@mac: [:f@mac, :e@mac, :b@mac],
   e@mac: [:f@mac, :d@mac],
   b@mac: [:d@mac, :c@mac, :a@mac],
   a@mac: [:c@mac, :b@mac],
   c@mac: [:a@mac, :b@mac]
 }
"""


def test_seed_log_becomes_a_valid_trace(tmp_path: Path) -> None:
    path = tmp_path / "seed.log"
    path.write_text(SEED_LOG, encoding="utf-8")
    trace = import_log(path, Mode.FIXED)
    assert trace.header.source is Source.LOG and trace.header.launch == "a@mac"
    assert visit_order(trace.events) == [f"{n}@mac" for n in "acbdfe"]
    assert [sorted(e.visited) for e in trace.events[:3]] == [[], ["a@mac"], ["a@mac", "c@mac"]]
    result = result_map(trace.events)
    assert result is not None and result["d@mac"] == ("f@mac", "e@mac", "b@mac")
    assert {e.t_us for e in trace.events} == {0}
    assert check(trace) == []


def test_log_matches_the_simulation_by_short_names() -> None:
    bowtie = load_dot(Path(__file__).resolve().parent.parent / "graphs" / "bowtie.dot")
    trace = parse_log(SEED_LOG)
    diff = topology_diff(trace, bowtie)
    assert diff.exact
    simulated = simulate(bowtie, RunSpec(mode=Mode.FIXED, edge_order=EdgeOrder.REVERSE))
    assert [n.split("@")[0] for n in visit_order(trace.events)] == visit_order(simulated.events)


def test_one_line_map_quoted_atoms_and_arrows() -> None:
    text = ('Launching from a@h\nHello from b_c@h\n'
            '%{:"b_c@h" => [:"a@h"], "a@h": [:b_c@h]}\n')
    trace = parse_log(text)
    assert result_map(trace.events) == {"b_c@h": ("a@h",), "a@h": ("b_c@h",)}


@pytest.mark.parametrize(("text", "line", "message"), [
    ("Hello from b@h\n", 1, "before any 'Launching from'"),
    ("nothing here\n", None, "no 'Launching from NODE' line"),
    ("Launching from a@h\n", None, "no result map"),
    ("Launching from a@h\n%{a@h: [:b@h,, ]}\n", 2, "cannot read the result map"),
    ("Launching from a@h\nLaunching from a@h\n", 2, "second 'Launching from'"),
    ("Launching from a@h\nHello from a@h\n%{a@h: []}\n", 2, "greets twice"),
    ("Launching from a@h\n%{a@h: [:b@h],\n a@h: []}\n", 3, "appears twice"),
])
def test_bad_logs(text: str, line: int | None, message: str) -> None:
    with pytest.raises(InputError) as info:
        parse_log(text, "x.log")
    assert info.value.line == line
    assert message in str(info.value)
    assert str(info.value).startswith("x.log")
