"""Atomic output: write beside the target, rename when complete, remove on any failure."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from inkworm.errors import InputError


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On an exception (Ctrl-C included) the temporary file is removed and ``target`` keeps its
    previous content, or stays absent.
    """
    target = Path(target)
    if target.is_dir():
        raise InputError("is a directory, cannot write a file there", target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or ".part",
                                        dir=target.parent)
    except OSError as err:
        raise InputError(f"cannot write here: {err.strerror or err}", target) from None
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp makes 0600 files; give the output the mode any new file would get
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_text(target: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """An open UTF-8 text stream whose content lands at ``target`` only when complete."""
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as out:
        yield out
