"""Console-log import: the seed's probe output (``Launching from``/``Hello from`` lines and the
iex-printed result map) as a trace with ``source: log``.

Nothing is invented: the trace holds one ``probe_start`` per greeting line, in order, and the
``result``. Each ``visited`` set is *derived*, not guessed: in a sequential depth-first worm a
probe receives exactly the nodes probed before it. Times are unknown, so every ``t_us`` is 0.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from inkworm.errors import InputError, read_text
from inkworm.run import Mode
from inkworm.trace import Event, Header, NodeSet, ProbeStart, Result, Source, Trace

_GREETING = re.compile(r"(Launching|Hello) from (\S+)")
_ATOM = r':"(?:[^"\\]|\\.)*"|:[A-Za-z_][\w@.]*[?!]?'
_TOKEN = re.compile(
    rf'\s*(?:(?P<open>%\{{)|(?P<close>\}})|(?P<lbr>\[)|(?P<rbr>\])|(?P<comma>,)|(?P<arrow>=>)'
    rf'|(?P<key>"(?:[^"\\]|\\.)*":|[A-Za-z_][\w@.]*[?!]?:(?=\s))|(?P<atom>{_ATOM}))'
)
_BLANK_TAIL = re.compile(r"\s*\Z")
_PROMPT = re.compile(r"^\s*iex(\([^)]*\))?\(\d+\)>\s?")


def import_log(path: str | os.PathLike[str], mode: Mode = Mode.NAIVE) -> Trace:
    """Read a console log of the seed's probe into a trace (see the module doc)."""
    return parse_log(read_text(path, "console log"), str(path), mode)


def parse_log(text: str, where: str = "<log>", mode: Mode = Mode.NAIVE) -> Trace:
    """Parse console-log text; raise :class:`InputError` naming the line for bad input."""
    if not text.strip():
        raise InputError("empty console log", where, 1)
    lines = [line.rstrip("\r") for line in text.split("\n")]  # \n only, as the console
    launch: str | None = None
    visits: list[tuple[str, int]] = []
    result: dict[str, tuple[str, ...]] | None = None
    result_line = 0
    greeted: set[str] = set()
    i = 0
    while i < len(lines):
        line = _PROMPT.sub("", lines[i])
        greeting = _GREETING.search(line)
        if greeting:
            node = greeting.group(2)
            if greeting.group(1) == "Launching":
                if launch is not None:
                    raise InputError(f"second 'Launching from' line (first launch: {launch}); "
                                     "one log holds one run", where, i + 1)
                launch = node
            elif launch is None:
                raise InputError(f"'Hello from {node}' before any 'Launching from' line",
                                 where, i + 1)
            if node in greeted:
                raise InputError(f"{node} greets twice: one run probes each node once",
                                 where, i + 1)
            greeted.add(node)
            visits.append((node, i + 1))
        elif "%{" in line and launch is not None and result is None:
            result_line = i + 1
            result, i = _parse_map(lines, i, where)
            continue
        i += 1
    if launch is None:
        raise InputError("no 'Launching from NODE' line: not a log of the seed's probe", where)
    if result is None:
        raise InputError("no result map (%{node: [...]}) after the greetings", where)
    order = [n for n, _ in visits]
    pos = {n: k for k, n in enumerate(order)}
    # each visited set is a prefix of the visit order, shared (not copied) as in the simulator
    events: list[Event] = [ProbeStart(seq=seq, t_us=0, node=node,
                                      visited=NodeSet(order, pos, 0, seq), line=line)
                           for seq, (node, line) in enumerate(visits)]
    events.append(Result(seq=len(events), t_us=0, node=launch, map=result, line=result_line))
    header = Header(launch=launch, mode=mode, source=Source.LOG, graph=None,
                    meta={"log": Path(where).name, "timing": "none"})
    return Trace(header, events)


def _parse_map(lines: list[str], start: int, where: str) -> tuple[dict[str, tuple[str, ...]], int]:
    """Parse an iex-printed map that may span lines; return it and the next line index."""
    text_parts: list[str] = []
    i = start
    depth = 0
    while i < len(lines):
        part = _PROMPT.sub("", lines[i])
        if i == start:
            part = part[part.index("%{"):]
        text_parts.append(part)
        depth += part.count("{") - part.count("}")
        i += 1
        if depth <= 0:
            break
    text = "\n".join(text_parts)
    try:
        return _map_tokens(text), i
    except ValueError as err:
        offset = int(err.args[1]) if len(err.args) > 1 else 0
        line = start + 1 + text.count("\n", 0, offset)
        raise InputError(f"cannot read the result map: {err.args[0]}", where, line) from None


def _unquote(text: str) -> str:
    """``"a\\"b"`` → ``a"b``; a bare name as it is."""
    if text.startswith('"'):
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def _atom(token: str) -> str:
    return _unquote(token[1:])


def _map_tokens(text: str) -> dict[str, tuple[str, ...]]:
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while not _BLANK_TAIL.match(text, pos):
        m = _TOKEN.match(text, pos)
        if not m or m.lastgroup is None:
            at = len(text[:pos]) + len(text[pos:]) - len(text[pos:].lstrip())
            raise ValueError(f"unexpected text {text[at:at + 20]!r}", at)
        tokens.append((m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)))
        pos = m.end()
    it = iter(tokens)

    def expect(*kinds: str) -> tuple[str, str, int]:
        tok = next(it, None)
        if tok is None:
            raise ValueError(f"map ends early, expected {' or '.join(kinds)}", len(text))
        if tok[0] not in kinds:
            raise ValueError(f"expected {' or '.join(kinds)}, found {tok[1]!r}", tok[2])
        return tok

    expect("open")
    result: dict[str, tuple[str, ...]] = {}
    while True:
        kind, value, at = expect("key", "atom", "close")
        if kind == "close":
            break
        if kind == "atom":
            key = _atom(value)
            expect("arrow")
        else:
            key = _unquote(value[:-1])
        expect("lbr")
        members: list[str] = []
        while True:
            kind, value, at = expect("atom", "rbr")
            if kind == "rbr":
                break
            members.append(_atom(value))
            kind, value, at = expect("comma", "rbr")
            if kind == "rbr":
                break
        if key in result:
            raise ValueError(f"key {key} appears twice", at)
        result[key] = tuple(members)
        kind, value, at = expect("comma", "close")
        if kind == "close":
            break
    return result
