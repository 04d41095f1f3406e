"""Writing a file so that readers see the old content or the new, never half of it.

This is the one atomic writer: the audit, the report and the exports all write through it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, TextIO, cast

from ledger.errors import InvalidInput


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a temporary file beside ``path``, fsync it, then rename it over ``path``.

    A target that exists but is not a regular file (a device such as /dev/stdout or /dev/null, a named
    pipe) is written in place: renaming over it would replace the device with a file.
    """
    with atomic_text(path) as handle:
        handle.write(text)


def atomic_text(path: Path) -> contextlib.AbstractContextManager[TextIO]:
    """A text file (UTF-8) to write piece by piece that appears at ``path`` whole or not at all, as
    :func:`write_atomic` writes it: a temporary file beside it, fsync, rename (a device or pipe in place)."""
    return cast("contextlib.AbstractContextManager[TextIO]", atomic_open(path))


@contextlib.contextmanager
def atomic_open(path: Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A file (UTF-8 text, or ``binary``) that appears at ``path`` whole or not at all: a temporary file
    beside it, fsync, then a rename over ``path``, which keeps the permissions of the file it replaces (a
    new file gets what ``open()`` would give it). A device or a pipe is written in place."""
    target = path.expanduser()
    if target.is_dir():
        raise InvalidInput(f"-o: {str(path)!r} is a folder; give a file name")
    if target.exists() and not stat.S_ISREG(target.stat().st_mode):
        with _open(target, binary) as stream:  # /dev/stdout, /dev/null, a pipe: never replace it
            yield stream
        return
    directory = target.absolute().parent
    if not directory.is_dir():
        raise InvalidInput(f"-o: the folder {str(directory)!r} does not exist")
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, _mode_for(target))  # mkstemp makes the file 0600
        handle: IO[Any] = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(directory)


def _open(target: Path, binary: bool) -> IO[Any]:
    return target.open("wb") if binary else target.open("w", encoding="utf-8", newline="")


def _mode_for(target: Path) -> int:
    """The permissions the file would get from a plain ``open()``: the old file's, else 0o666 less the umask."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _sync_folder(directory: Path) -> None:
    """Make the rename itself durable where the platform allows it."""
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
