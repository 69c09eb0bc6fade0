"""Atomic output: write beside the target, rename when complete, remove on any failure."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from inkworm.errors import InputError


def check_target(target: str | os.PathLike[str]) -> Path:
    """The file an output will land in (through a symlink), refused early if it cannot be one:
    call it before long work so that a bad ``-o`` fails in a second, not after a render."""
    path = Path(os.path.realpath(target))
    if path.is_dir():
        raise InputError("is a directory, cannot write a file there", target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot write here: {err.strerror or err}", target) from None
    if not os.access(path.parent, os.W_OK):
        raise InputError("cannot write here: permission denied", target)
    return path


def _mode_for(path: Path) -> int:
    """An existing file keeps its mode; a new one gets 0666 less the umask (mkstemp: 0600)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On an exception (Ctrl-C included) the temporary file is removed and ``target`` keeps its
    previous content, or stays absent. A symlinked target is written through (the link stays).
    """
    path = check_target(target)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".part",
                                        dir=path.parent)
    except OSError as err:
        raise InputError(f"cannot write here: {err.strerror or err}", target) from None
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, _mode_for(path))
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_text(target: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """An open UTF-8 text stream whose content lands at ``target`` only when complete."""
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as out:
        yield out
