"""Errors that say whose fault they are, and helpers to read input files safely and fast.

- :class:`InputError`: the input cannot be used (the user's to fix). One line on stderr,
  ``FILE:LINE[:COL]: problem``, exit code 2.
- :class:`ToolError`: a runtime or tool inkworm needs is missing or failed (Elixir, graphviz,
  manim, reveal.js): the machine's to fix. One line naming the tool, exit code 3.
- Anything else is an internal failure, a bug in inkworm: the CLI says so in one line, with
  exit code 70, and ``--debug`` shows the traceback.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

#: Text inputs read whole (DOT files, console logs, snapshots) larger than this are refused:
#: at most this many bytes (plus one) are ever read, whatever the file claims its size is.
#: DOT files meet tighter limits first (:mod:`inkworm.dotscan`). Traces are streamed.
MAX_INPUT_BYTES = 16 * 1024 * 1024

#: Characters a terminal may act on: C0 and C1 controls, DEL, line and paragraph separators,
#: and the bidirectional formatting characters that reorder what is shown (U+202E...).
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_ACTIVE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or (f"\\x{ord(char):02x}" if ord(char) < 0x100
                                  else f"\\u{ord(char):04x}")


def printable(text: str) -> str:
    """``text`` with every character a terminal could act on written as a ``repr``-style
    escape (``\\x1b``, ``\\n``, ``\\u202e``): for node names and anything else from input
    that goes into a message. Plain text (any script, emoji) is unchanged."""
    return _UNPRINTABLE.sub(_escape, text)


def terminal_safe(text: str) -> str:
    """Like :func:`printable` but newlines and tabs pass: for data (a DOT file, a trace)
    printed on a terminal, laid out as it is, with nothing the terminal would act on."""
    return _ACTIVE.sub(_escape, text)


class InputError(Exception):
    """Input that inkworm cannot use: says what is wrong and where (file, line, column)."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        path: str | os.PathLike[str] | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        self.column = column

    def __str__(self) -> str:
        """One line, safe for a terminal (input text in it is escaped, see :func:`printable`)."""
        where = [part for part in (self.path, self.line, self.column) if part is not None]
        prefix = ":".join(str(part) for part in where)
        return printable(f"{prefix}: {self.message}" if prefix else self.message)


class ToolError(Exception):
    """A runtime or tool inkworm needs is missing or failed: not the input's fault."""

    exit_code = 3

    def __init__(self, message: str, tool: str) -> None:
        super().__init__(message)
        self.message = message
        self.tool = tool

    def __str__(self) -> str:
        return printable(self.message)


class Terminated(BaseException):
    """SIGTERM or SIGHUP: unwinds like Ctrl-C, so that every ``with`` removes what it made
    (temporary files, a render's work folder, the recorder's cluster)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _StopRequest:
    """Whether a signal asked this process to stop: process-wide state, as signals are."""

    signum: int | None = None
    deferred = 0


_STOP = _StopRequest()


def request_stop(signum: int) -> None:
    """A signal asks the process to stop (the CLI's handler calls this): raise
    :class:`Terminated` now, or at the next :func:`stop_point` inside :func:`deferred_stop`.

    The request is kept: Python drops an exception raised inside a finalizer or a weakref
    callback ("Exception ignored in ..."), and the work would go on to the end; every stop
    point (each rendered section, each output before its rename) raises it again.
    """
    _STOP.signum = signum
    if not _STOP.deferred:
        raise Terminated(signum)


def stop_point() -> None:
    """Raise :class:`Terminated` if a stop was requested."""
    if _STOP.signum is not None:
        raise Terminated(_STOP.signum)


def clear_stop() -> None:
    """Forget a stop request (a new command starts)."""
    _STOP.signum = None


@contextlib.contextmanager
def deferred_stop() -> Iterator[None]:
    """Inside, a stop request raises only at stop points. For manim: an exception landing
    between the start of an encoder thread and manim's note of it leaves a thread that
    waits forever, and the process never exits; raised between sections, it unwinds
    through manim's own clean-up."""
    _STOP.deferred += 1
    try:
        yield
    finally:
        _STOP.deferred -= 1


_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def file_kind(mode: int) -> str:
    """What a non-regular file is, for messages: ``a FIFO``, ``a character device``..."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _refuse_special(mode: int, path: str | os.PathLike[str], what: str) -> None:
    if stat.S_ISDIR(mode):
        raise InputError(f"is a directory, expected a {what} file", path)
    if not stat.S_ISREG(mode):
        raise InputError(f"is {file_kind(mode)}, not a regular {what} file (inkworm reads "
                         "files only: a pipe or device may never end)", path)


def open_input(path: str | os.PathLike[str], what: str) -> BinaryIO:
    """Open an input file for reading in binary, refusing anything but a regular file.

    A FIFO would block the open, a device (``/dev/zero``) never ends: both are refused before
    any byte is read. The check is made on the path, then again on the open descriptor (the
    open itself does not block: ``O_NONBLOCK``, which regular files ignore).
    """
    try:
        _refuse_special(os.stat(path).st_mode, path, what)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise InputError(f"cannot read {what} file: {err.strerror or err}", path) from None
    try:
        _refuse_special(os.fstat(fd).st_mode, path, what)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_bytes(path: str | os.PathLike[str], what: str,
               limit: int = MAX_INPUT_BYTES) -> bytes:
    """A regular file's bytes, at most ``limit`` of them: one more byte is read to tell that
    the file is larger, and it is then refused (a file's size is never trusted)."""
    try:
        with open_input(path, what) as stream:
            data = stream.read(limit + 1)
    except OSError as err:
        raise InputError(f"cannot read {what} file: {err.strerror or err}", path) from None
    if len(data) > limit:
        raise InputError(f"{what} file is larger than {_size(limit)}, more than inkworm "
                         "reads", path)
    return data


def _size(count: int) -> str:
    return f"{count / 2**30:g} GiB" if count >= 2**30 else f"{count / 2**20:g} MiB"


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """Read a UTF-8 text file, refusing directories, pipes, devices, binaries, files over
    :data:`MAX_INPUT_BYTES` and bad encodings."""
    return decode_text(read_bytes(path, what), Path(path), what)


def decode_text(data: bytes, path: str | os.PathLike[str], what: str) -> str:
    """Decode UTF-8 bytes (a BOM is allowed), naming the line of the first bad byte."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError(f"binary data (NUL byte), not a {what} file", path, line)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 (byte {err.start})", path, line) from None


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building millions of acyclic events.

    The collector's generation-0 passes otherwise rescan the growing event list over and over
    (measured: 1M events 0.69 s with it, 0.26 s without). Reference counting still frees memory.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
