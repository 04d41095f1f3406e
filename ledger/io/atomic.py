"""Writing a file so that readers see the old content or the new, never half of it."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from ledger.errors import InvalidInput


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to a temporary file beside ``path``, fsync it, then rename it over ``path``.

    A target that exists but is not a regular file (a device such as /dev/stdout, a named pipe) is
    written in place: renaming over it would replace the device with a file.
    """
    with atomic_text(path) as handle:
        handle.write(text)


@contextlib.contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """A text file (UTF-8) to write piece by piece that appears at ``path`` whole or not at all, as
    :func:`write_atomic` writes it: a temporary file beside it, fsync, rename (a device or pipe in place)."""
    if path.is_dir():
        raise InvalidInput(f"-o: {str(path)!r} is a folder; give a file name")
    if path.exists() and not stat.S_ISREG(path.stat().st_mode):
        with path.open("w", encoding="utf-8", newline="") as stream:  # /dev/stdout, a pipe: never replace it
            yield stream
        return
    directory = path.resolve().parent
    if not directory.is_dir():
        raise InvalidInput(f"-o: the folder {str(directory)!r} does not exist")
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)  # mkstemp makes the file 0600; give it the permissions any new file gets
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable where the platform allows it
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
