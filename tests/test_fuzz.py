"""Fuzzing the three readers: any input either loads or raises InputError, in bounded time.

``make test`` runs a fixed budget; ``make fuzz`` sets INKWORM_FUZZ_EXAMPLES higher.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import CORPUS, GRAPHS
from inkworm import InputError, Mode, check, load_dot, simulate
from inkworm.errors import decode_text
from inkworm.importlog import parse_log
from inkworm.reader import read_trace_bytes
from inkworm.run import RunSpec
from inkworm.topology import parse_dot
from inkworm.tracefile import write_trace

EXAMPLES = int(os.environ.get("INKWORM_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def seeds_dot() -> list[bytes]:
    files = [*GRAPHS.glob("*.dot"), *(CORPUS / "dot").glob("*/*.dot")]
    return [p.read_bytes() for p in sorted(files) if p.stat().st_size < 20_000]


def seed_trace() -> bytes:
    out = io.StringIO()
    write_trace(simulate(load_dot(GRAPHS / "bowtie.dot"), RunSpec(mode=Mode.NAIVE)), out)
    return out.getvalue().encode()


SEED_LOG = (b"Launching from a@mac\nHello from b@mac\nHello from c@mac\n"
            b"%{\n  a@mac: [:b@mac],\n  b@mac: [:a@mac, :c@mac],\n  c@mac: [:b@mac]\n}\n")


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed file with a few byte-level edits: flip, insert, delete, duplicate a slice."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "dup"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if op == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 40))]
    return bytes(data)


def structured_dot() -> st.SearchStrategy[bytes]:
    ident = st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
                      st.text(min_size=1, max_size=6).map(lambda s: '"' + s.replace('"', "") + '"'))
    stmt = st.one_of(
        st.tuples(ident, ident).map(lambda e: f"{e[0]} -- {e[1]};"),
        ident.map(lambda n: f"{n} [label={n}];"),
        st.lists(ident, min_size=1, max_size=3).map(lambda ns: "subgraph { " + " ".join(ns) + " }"),
    )
    head = st.sampled_from(["graph G", "digraph", "strict graph x", "graph"])
    return st.tuples(head, st.lists(stmt, max_size=12)).map(
        lambda g: (g[0] + " {\n" + "\n".join(g[1]) + "\n}\n").encode())


def load_dot_bytes(data: bytes) -> None:
    try:
        parse_dot(decode_text(data, "fuzz.dot", "DOT"), "fuzz.dot")
    except InputError as err:
        assert "\n" not in str(err)


@FUZZ
@given(st.one_of(mutated(seeds_dot()), structured_dot()))
def test_fuzz_dot_loader(data: bytes) -> None:
    load_dot_bytes(data)


@FUZZ
@given(mutated([seed_trace()]))
def test_fuzz_trace_reader(data: bytes) -> None:
    try:
        read_trace_bytes(data, "fuzz.jsonl")
    except InputError as err:
        assert "\n" not in str(err)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=6)
FIELDS = ["seq", "t_us", "node", "kind", "visited", "nodes", "neighbor", "to", "from", "keys",
          "peer", "reason", "map"]


@st.composite
def json_mutated(draw: st.DrawFn) -> bytes:
    """The seed trace with one field of one line (header included) set to any JSON value."""
    lines = seed_trace().decode().splitlines()
    index = draw(st.integers(0, len(lines) - 1))
    obj = json.loads(lines[index])
    key = draw(st.sampled_from([*FIELDS, "inkworm_trace", "launch", "mode", "meta"]))
    if draw(st.booleans()):
        obj[key] = draw(JSON)
    else:
        obj.pop(key, None)
    lines[index] = json.dumps(obj)
    return ("\n".join(lines) + "\n").encode()


@FUZZ
@given(json_mutated())
def test_fuzz_trace_fields(data: bytes) -> None:
    try:
        trace = read_trace_bytes(data, "fuzz.jsonl")
    except InputError as err:
        assert "\n" not in str(err)
        return
    check(trace)  # a readable trace can always be checked


@FUZZ
@given(st.one_of(mutated([SEED_LOG]), st.binary(max_size=200)))
def test_fuzz_log_importer(data: bytes) -> None:
    try:
        parse_log(decode_text(data, "fuzz.log", "console log"), "fuzz.log")
    except InputError as err:
        assert "\n" not in str(err)


def test_fuzz_dot_loader_handles_a_deep_nesting(tmp_path: Path) -> None:
    deep = "graph G { " + "subgraph { " * 400 + "a" + " }" * 400 + " }"
    load_dot_bytes(deep.encode())
