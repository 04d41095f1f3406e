"""A second process beside this one, reading the same moment of the ledger: two cores, one Python on each.

Verification (``ops.verify``) and the audit (``cli.audit_parallel``) hand part of their reads to a *helper*:
``python -I -c`` with this process's import path (not multiprocessing, which would re-run the caller's
main module), its output discarded. The two talk through files in a private folder (mode 0700): the job
(``job.json``: the ledger's URL, the snapshot, the import path, and what the caller adds), the journal head
the helper read (``head.json``), and whatever the caller's function writes there.

Both read the same snapshot. PostgreSQL shares it (``db.export_snapshot`` / ``import_snapshot``). SQLite
cannot; every change to a ledger appends a journal entry in its own transaction, so the helper's work is
used only when the journal head it read is the one this process reads. A helper that fails, that read
another moment, or that is still running ``grace`` seconds after it was waited for is not used: the caller
does its work itself. A helper costs time, never a different answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import db, journal

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: The helper's command line is ``python -I -c BOOT FOLDER TARGET``: isolated from the environment's Python
#: settings, it takes this process's import path from the job file, then calls TARGET (``module:function``)
#: with the folder.
BOOT = (
    "import importlib, json, sys; sys.path[:] = json.load(open(sys.argv[1] + '/job.json'))['path']; "
    "module, _, function = sys.argv[2].partition(':'); getattr(importlib.import_module(module), function)(sys.argv[1])"
)


def worth_one(head: journal.Head, minimum: int) -> bool:
    """True when a helper pays for its start-up (about a second): a journal of ``minimum`` entries or more,
    and a second core to run it on."""
    return head.seq >= minimum and (os.cpu_count() or 1) > 1


class Helper:
    """Start ``target`` (``module:function``) in a second process on this session's snapshot, with ``job``."""

    def __init__(self, session: Session, folder: Path, target: str, job: dict[str, Any]) -> None:
        self.folder = folder
        shared = {
            "url": db.url_of(session).render_as_string(hide_password=False),
            "snapshot": db.export_snapshot(session),
            "path": sys.path,  # the helper imports exactly the modules this process imported
        }
        (folder / "job.json").write_text(json.dumps({**job, **shared}))
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", BOOT, str(folder), target],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def finish(self, head: journal.Head, grace: float) -> bool:
        """Wait for the helper (at most ``grace`` seconds, then stop it); True when it succeeded on the moment
        whose journal head is ``head``, so that its work can be used."""
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.stop()
        return self.process.returncode == 0 and saw(self.folder) == (head.seq, head.hash)

    def stop(self) -> None:
        """End the helper if it still runs."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def saw(folder: Path) -> tuple[int, str] | None:
    """The journal head the helper read (None when it recorded none)."""
    try:
        seq, hash_ = json.loads((folder / "head.json").read_text())
    except (OSError, ValueError, TypeError):
        return None
    return int(seq), str(hash_)


@contextmanager
def helper_session(folder: Path) -> Iterator[tuple[Session, dict[str, Any]]]:
    """In the helper: a read session on the main process's snapshot, and the job. Records the head it read."""
    job: dict[str, Any] = json.loads((folder / "job.json").read_text())
    engine = db.make_engine(db.resolve_url(job["url"]))
    with db.session_scope(engine, write=False) as session:
        if job["snapshot"] is not None:
            db.import_snapshot(session, job["snapshot"])
        head = journal.head(session)
        (folder / "head.json").write_text(json.dumps([head.seq, head.hash]))
        yield session, job
