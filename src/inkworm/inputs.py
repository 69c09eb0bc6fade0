"""Opening what users hand to a command: a DOT topology or a trace, told apart safely."""

from __future__ import annotations

from pathlib import Path

from inkworm.errors import InputError, open_input
from inkworm.reader import load_trace
from inkworm.topology import Topology, load_dot
from inkworm.trace import Trace

TRACE_SUFFIXES = (".jsonl", ".json", ".ndjson")
DOT_SUFFIXES = (".dot", ".gv")


def load_input(path: str) -> Topology | Trace:
    """A DOT topology or a trace: by suffix, else by the first character that is not blank
    (``{`` starts a trace). Traces are streamed whatever their name."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in TRACE_SUFFIXES:
        return load_trace(path)
    if suffix in DOT_SUFFIXES or p.is_dir():
        return load_dot(path)
    try:
        with open_input(path, "DOT or trace") as stream:  # a FIFO or device is refused
            head = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as err:
        raise InputError(f"cannot read input file: {err.strerror or err}", path) from None
    return load_trace(path) if head.startswith(b"{") else load_dot(path)
