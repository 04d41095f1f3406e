"""Reading a source's snapshot from a file: its exact text, SHA-256 and length in bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import InvalidInput

#: Largest snapshot the ledger keeps as text (the text also goes into the journal).
MAX_SNAPSHOT_BYTES = 20 * 1024**2


@dataclass(frozen=True)
class SnapshotFile:
    """What a snapshot file holds: the text (None when only the hash is kept), its SHA-256 and byte length."""

    text: str | None
    sha256: str
    length: int


def read_snapshot(path: Path, *, hash_only: bool = False) -> SnapshotFile:
    """Hash the file's bytes; keep its text too (decoded as UTF-8, unchanged) unless ``hash_only``."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"FILE: {path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"FILE: {path}: is a directory, not a file") from None
    except OSError as exc:
        raise InvalidInput(f"FILE: {path}: cannot read ({exc.strerror})") from None
    digest = hashlib.sha256(raw).hexdigest()
    if hash_only:
        return SnapshotFile(None, digest, len(raw))
    if len(raw) > MAX_SNAPSHOT_BYTES:
        raise InvalidInput(
            f"FILE: {path} is {len(raw)} bytes; the ledger keeps text snapshots up to {MAX_SNAPSHOT_BYTES} bytes",
            hint="keep only its hash with --hash-only",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"FILE: {path} is not UTF-8 text (byte {exc.start})",
            hint="convert it to UTF-8, or keep only its hash with --hash-only",
        ) from None
    return SnapshotFile(text, digest, len(raw))
