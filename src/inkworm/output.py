"""Atomic output: write beside the target, rename when complete, remove on any failure.

An output path is checked before any work (:func:`check_target`): inkworm replaces a regular
file or creates a new one, and nothing else. It refuses a path that names a folder (``x/``),
goes through a dangling symlink, is a FIFO, a device or a socket (``-o /dev/null`` would
otherwise be replaced by a file), or is one of the command's inputs (also through a symlink or
a hard link). Missing parent folders of a plain path are created, and removed again when the
command fails. Temporary files carry the writer's process id, so that the leftovers of a
killed process (SIGKILL leaves no chance to clean up) are recognised and swept by the next
writer in the same folder (:func:`sweep_leftovers`).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from inkworm.errors import InputError, file_kind, stop_point

Inputs = Iterable[str | os.PathLike[str] | None]
"""Paths a command reads (``None`` entries are skipped): an output may not be one of them."""


def check_target(target: str | os.PathLike[str], inputs: Inputs = ()) -> Path:
    """The file an output will land in (through a symlink), refused early if it cannot be one:
    call it before long work so that a bad ``-o`` fails in a second, not after a render.
    Nothing is created here."""
    raw = os.fspath(target)
    if raw.endswith(("/", os.sep)) or os.path.basename(raw) in ("", ".", ".."):
        raise InputError("names a folder, not a file: give the file name to write", target)
    _refuse_dangling_links(raw)
    path = Path(os.path.realpath(raw))
    try:
        found = os.stat(path)
    except FileNotFoundError:
        found = None
    except OSError as err:
        raise InputError(f"cannot write here: {err.strerror or err}", target) from None
    if found is not None:
        if stat.S_ISDIR(found.st_mode):
            raise InputError("is a directory, cannot write a file there", target)
        if not stat.S_ISREG(found.st_mode):
            raise InputError(f"is {file_kind(found.st_mode)}, not a regular file: inkworm "
                             "only replaces regular files", target)
        for source in inputs:
            if source is not None and _same_file(found, source):
                raise InputError(f"is the input {os.fspath(source)}: inkworm never writes "
                                 "over what it reads", target)
    folder = _existing_ancestor(path.parent)
    if not folder.is_dir():
        raise InputError(f"cannot write here: {folder} is not a directory", target)
    if not os.access(folder, os.W_OK):
        raise InputError("cannot write here: permission denied", target)
    return path


def _refuse_dangling_links(raw: str) -> None:
    """Refuse a path with a symlink to nothing in it: writing would create the link's target
    (and its folders) somewhere the path does not show."""
    prefix = Path(os.path.abspath(raw))
    parts = prefix.parts
    for i in range(1, len(parts) + 1):
        part = Path(*parts[:i])
        try:
            mode = os.lstat(part).st_mode
        except FileNotFoundError:
            return  # the rest does not exist yet: it holds no links
        except OSError:
            return  # unreadable: the write reports it
        if stat.S_ISLNK(mode) and not part.exists():
            raise InputError(f"goes through a dangling symlink ({part} -> "
                             f"{os.readlink(part)}): inkworm does not create a link's target",
                             raw)


def _same_file(found: os.stat_result, source: str | os.PathLike[str]) -> bool:
    try:
        other = os.stat(source)
    except (OSError, ValueError):
        return False
    return (found.st_dev, found.st_ino) == (other.st_dev, other.st_ino)


def _existing_ancestor(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


@contextlib.contextmanager
def made_parents(folder: Path, target: str | os.PathLike[str]) -> Iterator[None]:
    """Create ``folder`` and its missing parents; remove the ones made here (when empty)
    if the body fails, so that a failed command leaves nothing behind."""
    made: list[Path] = []
    missing = folder
    while not missing.exists() and missing != missing.parent:
        made.append(missing)
        missing = missing.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot write here: {err.strerror or err}", target) from None
    try:
        yield
    except BaseException:
        for path in made:  # deepest first
            try:
                path.rmdir()
            except OSError:
                break
        raise


def leftover_prefix(prefix: str) -> str:
    """``prefix`` with this process's id: what :func:`sweep_leftovers` recognises."""
    return f"{prefix}{os.getpid()}-"


_PID = re.compile(r"([0-9]+)-")


def sweep_leftovers(folder: Path, prefix: str) -> list[Path]:
    """Remove what a killed inkworm left in ``folder``: files and folders named
    ``prefix<pid>-...`` (:func:`leftover_prefix`), owned by this user, whose process is gone.
    Returns what was removed. A live process's work is never touched."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        m = _PID.match(entry.name, len(prefix))
        try:
            owner = entry.stat(follow_symlinks=False).st_uid
        except OSError:
            continue
        if m is None or owner != os.getuid() or _alive(int(m.group(1))):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or not a pid: leave it alone
    return True


def _mode_for(path: Path) -> int:
    """An existing file keeps its mode; a new one gets 0666 less the umask (mkstemp: 0600)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], suffix: str = "",
                inputs: Inputs = ()) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On an exception (Ctrl-C and SIGTERM included) the temporary file is removed and
    ``target`` keeps its previous content, or stays absent with any folder made for it.
    A symlinked target is written through (the link stays). The target is checked again
    right before the rename.
    """
    path = check_target(target, inputs)
    prefix = f".{path.name}.inkworm-"
    with made_parents(path.parent, target):
        sweep_leftovers(path.parent, prefix)
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=leftover_prefix(prefix),
                                            suffix=suffix or ".part", dir=path.parent)
        except OSError as err:
            raise InputError(f"cannot write here: {err.strerror or err}", target) from None
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            os.chmod(tmp, _mode_for(path))
            yield tmp
            stop_point()  # a stop asked for while writing: the output is not committed
            check_target(target, inputs)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


@contextlib.contextmanager
def atomic_text(target: str | os.PathLike[str], inputs: Inputs = ()) -> Iterator[IO[str]]:
    """An open UTF-8 text stream whose content lands at ``target`` only when complete."""
    with atomic_path(target, inputs=inputs) as tmp, \
            tmp.open("w", encoding="utf-8", newline="\n") as out:
        yield out
