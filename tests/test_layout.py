"""Layouts: deterministic, and computed ahead (:func:`prefetch`) they are the same positions,
for that topology alone, with their errors, and nothing of them outlives the block."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from conftest import GRAPHS
from inkworm import load_dot
from inkworm.errors import InputError
from inkworm.gen import sparse_cluster
from inkworm.layout import layout, prefetch
from inkworm.topology import Topology


def _children() -> list[str]:
    """The names of this process's child processes."""
    names = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if int(rest.split()[1]) == os.getpid():
            names.append(name)
    return names


@pytest.mark.parametrize("name", ["bowtie", "400"])
def test_a_prefetched_layout_is_the_layout(name: str) -> None:
    """neato for the bowtie, sfdp past 300 nodes (both graphviz processes)."""
    def make() -> Topology:
        return load_dot(GRAPHS / "bowtie.dot") if name == "bowtie" else sparse_cluster(400, seed=4)

    topology = make()
    plain = layout(topology, "auto", 3)
    assert layout(make(), "auto", 3) == plain  # deterministic
    with prefetch(topology, "auto", 3):
        assert [t for t in threading.enumerate() if t.name == "inkworm-layout"]
        assert layout(topology, "auto", 3) == plain
        # taken once: a second call lays out again, the same
        assert layout(topology, "auto", 3) == plain
    assert not [t for t in threading.enumerate() if t.name == "inkworm-layout"]


def test_a_prefetch_is_for_its_own_topology_name_and_seed_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from inkworm import layout as module

    runs: list[tuple[int, int]] = []
    spring = module.LAYOUTS["spring"]

    def counted(topology: Topology, seed: int) -> dict[str, tuple[float, float]]:
        runs.append((id(topology), seed))
        return spring(topology, seed)

    monkeypatch.setitem(module.LAYOUTS, "spring", counted)  # type: ignore[index]
    topology, twin = sparse_cluster(60, seed=1), sparse_cluster(60, seed=1)
    with prefetch(topology, "spring", 0):
        assert layout(twin, "spring", 0) == layout(topology, "spring", 0)
        layout(topology, "spring", 1)
    # the prefetch's run, the twin's own, none for the topology's prefetched call, seed 1's
    assert sorted(runs) == sorted([(id(topology), 0), (id(twin), 0), (id(topology), 1)])


def test_a_prefetched_layouts_error_is_raised_by_layout(tmp_path: Path) -> None:
    dot = tmp_path / "pinned.dot"
    dot.write_text('graph { a [pos="1,2"]; b [pos="x"]; a -- b; }\n', encoding="utf-8")
    topology = load_dot(dot)
    with prefetch(topology), pytest.raises(InputError, match="pos='x' is not 'x,y'"):
        layout(topology)


def test_nothing_of_an_unused_prefetch_outlives_its_block() -> None:
    """A render that fails before its board is made leaves no thread and no graphviz."""
    before = _children()
    with prefetch(sparse_cluster(600, seed=2), "sfdp", 0):
        pass
    assert not [t for t in threading.enumerate() if t.name == "inkworm-layout"]
    assert _children() == before
