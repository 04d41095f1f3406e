"""Verification: the hash chain, an optional checkpoint, the rows against the journal's digests, a replay.

The rows are checked in one streaming pass: the journal is read once (the chain and each entry's
``state``: the digests of the records it touched); the newest digest of every record goes into a
scratch file on disk, which is then merged, in record order, with the digests of the live rows
(``ledger.ops.state``). Memory stays flat however long the journal is.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from ledger import journal
from ledger.models import AliasJudgement, Record
from ledger.ops import rebuild, state


@dataclass(frozen=True)
class Problem:
    """One verification failure: where (an entry or a table), the record it names, what is wrong."""

    where: str
    record: str | None
    message: str
    #: The journal entry at fault, for a broken chain.
    seq: int | None = None


@dataclass
class Report:
    """What `ledger verify` found."""

    head: journal.Head
    problems: list[Problem] = field(default_factory=list)
    first_broken: int | None = None
    rows_checked: bool = False
    replayed: bool = False
    #: Entries written before the journal recorded digests (schema 0004_5): their records need a replay.
    undigested: int = 0
    #: The replay those entries needed was skipped: the journal is longer than ``replay_limit``.
    replay_skipped: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def verify(
    session: Session,
    *,
    checkpoint: journal.Head | None = None,
    rows: bool = True,
    replay: bool = False,
    replay_limit: int | None = None,
) -> Report:
    """Recompute the chain, check the checkpoint, the rows against the digests and (``replay``) a replay.

    A journal with entries from before digests existed is replayed whenever ``rows`` is on: its
    records have no digest to compare with. With ``replay_limit``, that implied replay is skipped (and
    ``replay_skipped`` set) for a journal of more entries: a replay costs seconds per thousand entries.
    """
    report = Report(journal.head(session))
    with Expected() as expected:
        for broken in journal.verify_chain(session, on_entry=expected.add if rows else None):
            if report.first_broken is None:
                report.first_broken = broken.seq
            report.problems.append(Problem(f"entry {broken.seq}", broken.record_slug, broken.message, broken.seq))
        if checkpoint is not None:
            mismatch = journal.verify_checkpoint(session, checkpoint)
            if mismatch is not None:
                report.problems.append(Problem("checkpoint", mismatch.record_slug, mismatch.message))
        if rows:
            report.undigested = expected.undigested
            if not expected.undigested:
                report.rows_checked = True
                report.problems.extend(compare(session, expected, hint=not replay))
            elif replay_limit is not None and report.head.seq > replay_limit and not replay:
                report.replay_skipped = True
            else:
                replay = True
    if replay:
        report.replayed = True
        for difference in rebuild.check(session):
            report.problems.append(Problem(difference.table, difference.record_slug, difference.message))
    return report


class Expected:
    """The newest digest the journal recorded for each owner, kept in a scratch SQLite file.

    The scratch file is private to one verification (the standard library's sqlite3, not the ledger's
    database): a disk-backed sorted map, so a journal of any length needs constant memory.
    """

    def __init__(self, batch: int = 20_000) -> None:
        self.batch = batch
        self.undigested = 0
        self._pending: list[tuple[str, int, int, str | None, str | None]] = []

    def __enter__(self) -> Expected:
        self._dir = tempfile.TemporaryDirectory(prefix="ledger-verify-")
        self.db = sqlite3.connect(Path(self._dir.name) / "expected.db", isolation_level=None)
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE expected (kind TEXT, id INTEGER, seq INTEGER, slug TEXT, digest TEXT,"
            " PRIMARY KEY (kind, id)) WITHOUT ROWID;"
        )
        self.db.execute("BEGIN")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.db.close()
        self._dir.cleanup()

    def add(self, seq: int, record_slug: str | None, text: str | None) -> None:
        """Note one entry's state (called for every entry, in sequence order)."""
        if text is None:
            self.undigested += 1
            return
        for key, digest in json.loads(text).items():
            kind, key_id = state.owner_of(key)
            self._pending.append((kind, key_id, seq, record_slug, digest))
        if len(self._pending) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        self.db.executemany("INSERT OR REPLACE INTO expected VALUES (?, ?, ?, ?, ?)", self._pending)
        self._pending.clear()

    def __iter__(self) -> Iterator[tuple[state.Owner, int, str | None, str | None]]:
        self._flush()
        for kind, key_id, seq, slug, digest in self.db.execute("SELECT * FROM expected ORDER BY kind, id"):
            yield (kind, key_id), seq, slug, digest


_END: state.Owner = ("~", 0)  # sorts after every owner kind


def compare(session: Session, expected: Expected, *, hint: bool = True) -> Iterator[Problem]:
    """Every owner whose live rows differ from the digest its newest journal entry recorded."""
    live = state.digests(session)
    wanted = iter(expected)
    a = next(live, None)
    b = next(wanted, None)
    while a is not None or b is not None:
        owner_a = a[0] if a is not None else _END
        owner_b = b[0] if b is not None else _END
        if owner_a == owner_b:
            assert a is not None and b is not None
            if a[1] != b[3]:
                yield _problem(session, owner_a, b[1], b[2], "changed", hint)
            a, b = next(live, None), next(wanted, None)
        elif owner_a < owner_b:
            yield _problem(session, owner_a, None, None, "added", hint)
            a = next(live, None)
        else:
            assert b is not None
            if b[3] is not None:
                yield _problem(session, owner_b, b[1], b[2], "removed", hint)
            b = next(wanted, None)


def _problem(
    session: Session, owner: state.Owner, seq: int | None, entry_slug: str | None, how: str, hint: bool
) -> Problem:
    kind, key = owner
    if kind == "j":
        names = session.execute(
            select(AliasJudgement.name_a, AliasJudgement.name_b).where(AliasJudgement.id == key)
        ).first()
        where, slug = "alias_judgements", None
        noun = f"alias judgement {names[0]!r} / {names[1]!r}" if names else f"alias judgement #{key}"
    else:
        row = session.execute(select(Record.slug, Record.type).where(Record.id == key)).first()
        slug = row.slug if row is not None else (entry_slug if how == "removed" else None)
        where = cast(Table, Record.__mapper__.polymorphic_map[row.type].local_table).name if row else "records"
        noun = f"{row.type.value} {row.slug}" if row is not None else f"record #{key}"
    if how == "changed":
        message = f"{noun}: its rows differ from what journal entry {seq} recorded (changed outside the ledger)"
    elif how == "added":
        message = f"{noun}: its rows were written by no journal entry (inserted outside the ledger)"
    else:
        written = f" (written by entry {seq}, on {entry_slug})" if entry_slug else f" (written by entry {seq})"
        message = f"{noun}: rows the journal recorded are missing{written} (deleted outside the ledger)"
    return Problem(where, slug, message + ("; `ledger verify --replay` shows the columns" if hint else ""))
