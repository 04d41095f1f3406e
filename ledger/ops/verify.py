"""Verification: the hash chain, an optional checkpoint, the rows against the journal's digests, a replay.

The rows are checked without a replay: the journal is read once (the chain and each entry's ``state``:
the digests of the records it touched), and the newest digest of every record goes into a scratch file
on disk. Meanwhile the digests of the live rows (``ledger.ops.state``) are computed a range of owners at
a time into scratch files of their own, by this process once the chain is done and, for a long journal,
by a second process from the start (the two take ranges from a shared counter until none is left). The
scratch files are then compared in SQL. Memory stays flat however long the journal is.

The second process reads the same snapshot: PostgreSQL shares it (``SET TRANSACTION SNAPSHOT``); on
SQLite, which cannot, the journal heads the two processes saw must match, or this process does the
whole row pass again itself.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from ledger import journal
from ledger.models import AliasJudgement, JournalEntry, Record
from ledger.ops import rebuild, state
from ledger.ops.helper import Helper, helper_session, worth_one

#: A journal of at least this many entries has its rows hashed by two processes (when the machine has
#: two cores): below it, starting the second process costs more than it saves.
PARALLEL_FROM = 50_000


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
    with Scratch() as scratch:
        live = RowPass(session, scratch, report.head) if rows else None
        try:
            expected = Expected(scratch.path("expected"))
            for broken in journal.verify_chain(session, on_entry=expected.add if rows else None):
                if report.first_broken is None:
                    report.first_broken = broken.seq
                report.problems.append(Problem(f"entry {broken.seq}", broken.record_slug, broken.message, broken.seq))
            expected.close()
            for seq in expected.malformed if rows else ():
                report.problems.append(Problem(f"entry {seq}", None, "its state is not a JSON object of digests", seq))
            if checkpoint is not None:
                mismatch = journal.verify_checkpoint(session, checkpoint)
                if mismatch is not None:
                    report.problems.append(Problem("checkpoint", mismatch.record_slug, mismatch.message))
            if rows:
                report.undigested = expected.undigested
                if not expected.undigested:
                    report.rows_checked = True
                    assert live is not None
                    report.problems.extend(compare(session, scratch, live.finish(), hint=not replay))
                elif replay_limit is not None and report.head.seq > replay_limit and not replay:
                    report.replay_skipped = True
                else:
                    replay = True
        finally:
            if live is not None:
                live.stop()
    if replay:
        report.replayed = True
        for difference in rebuild.check(session):
            report.problems.append(Problem(difference.table, difference.record_slug, difference.message))
    return report


class Scratch:
    """The private scratch files of one verification, in a temporary folder removed afterwards.

    They are SQLite files written with the standard library's sqlite3 (not the ledger's database): a
    disk-backed sorted map, so a journal of any length needs constant memory.
    """

    def __enter__(self) -> Scratch:
        self._dir = tempfile.TemporaryDirectory(prefix="ledger-verify-")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._dir.cleanup()

    @property
    def folder(self) -> Path:
        return Path(self._dir.name)

    def path(self, name: str) -> Path:
        """The scratch SQLite file ``name``."""
        return self.folder / f"{name}.db"


def _scratch_db(path: Path, table: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.executescript(
        f"PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; CREATE TABLE {table}; BEGIN"  # noqa: S608 (fixed text)
    )
    return connection


class Expected:
    """The newest digest the journal recorded for each owner, in a scratch file.

    Each entry's ``state`` text is written as the chain streams past; :meth:`close` then expands them all
    into one row per owner in SQL (SQLite's ``json_each``; in Python where the SQLite lacks it), in
    sequence order, so the newest digest wins.
    """

    def __init__(self, path: Path, batch: int = 20_000) -> None:
        self.batch = batch
        self.undigested = 0
        #: Entries whose ``state`` is not a JSON object (found by :meth:`close`).
        self.malformed: list[int] = []
        self._pending: list[tuple[int, str]] = []
        self.db = _scratch_db(
            path, "expected (kind TEXT, id INTEGER, seq INTEGER, digest TEXT, PRIMARY KEY (kind, id)) WITHOUT ROWID"
        )
        self.db.execute("CREATE TABLE states (seq INTEGER PRIMARY KEY, state TEXT)")

    def add(self, seq: int, _record_slug: str | None, text: str | None) -> None:
        """Note one entry's state (called for every entry, in sequence order)."""
        if text is None:
            self.undigested += 1
            return
        self._pending.append((seq, text))
        if len(self._pending) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        self.db.executemany("INSERT INTO states VALUES (?, ?)", self._pending)
        self._pending.clear()

    def close(self) -> None:
        self._flush()
        try:
            self.malformed = [seq for (seq,) in self.db.execute(_MALFORMED)]
            self.db.execute(_EXPAND)
        except sqlite3.OperationalError:  # an SQLite built without its JSON functions
            self._expand_in_python()
        self.db.execute("COMMIT")
        self.db.close()

    def _expand_in_python(self) -> None:
        self.malformed = []
        rows: list[tuple[str, int, int, str | None]] = []
        for seq, text in self.db.execute("SELECT seq, state FROM states ORDER BY seq").fetchall():
            try:
                state_of = json.loads(text)
                rows.extend((key[0], int(key[1:]), seq, digest) for key, digest in state_of.items())
            except (ValueError, AttributeError, IndexError):
                self.malformed.append(seq)
        self.db.executemany("INSERT OR REPLACE INTO expected VALUES (?, ?, ?, ?)", rows)


_MALFORMED = "SELECT seq FROM states WHERE NOT json_valid(state) OR json_type(state) <> 'object' ORDER BY seq"
_EXPAND = """
INSERT OR REPLACE INTO expected
SELECT substr(j.key, 1, 1), CAST(substr(j.key, 2) AS INTEGER), s.seq, j.value
  FROM states AS s, json_each(s.state) AS j
 WHERE json_valid(s.state) AND json_type(s.state) = 'object'
 ORDER BY s.seq
"""


class Live:
    """The digests of the live rows, one scratch file per process that computes them."""

    def __init__(self, path: Path) -> None:
        self.db = _scratch_db(path, "live (kind TEXT, id INTEGER, digest TEXT, PRIMARY KEY (kind, id)) WITHOUT ROWID")

    def add(self, digests: list[tuple[str, int, str]]) -> None:
        self.db.executemany("INSERT INTO live VALUES (?, ?, ?)", digests)

    def close(self) -> None:
        self.db.execute("COMMIT")
        self.db.close()


def _take_ranges(
    session: Session, ranges: list[tuple[str, int, int]], claim: Callable[[], int | None], out: Live
) -> None:
    """Hash the ranges of owners ``claim`` hands out, until it hands out none."""
    while (index := claim()) is not None:
        out.add(state.range_digests(session, *ranges[index]))


class Claims:
    """A counter in a scratch file that hands each range to one process (a transaction per claim)."""

    def __init__(self, path: Path, ranges: int, *, create: bool = False) -> None:
        self.ranges = ranges
        self.db = sqlite3.connect(path, isolation_level=None, timeout=60)
        if create:
            self.db.executescript("CREATE TABLE counter (next INTEGER); INSERT INTO counter VALUES (0)")

    def __call__(self) -> int | None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            (index,) = self.db.execute("SELECT next FROM counter").fetchone()
            self.db.execute("UPDATE counter SET next = next + 1")
        finally:
            self.db.execute("COMMIT")
        return int(index) if index < self.ranges else None

    def close(self) -> None:
        self.db.close()


class RowPass:
    """The digests of every owner's live rows, computed by this process and, for a long journal, a helper
    (``ops.helper``: a second process on the same snapshot).

    Start it before the chain pass; :meth:`finish` (after the chain) hashes the ranges left and returns
    the scratch files holding every digest; :meth:`stop` ends the helper whatever happened.
    """

    def __init__(self, session: Session, scratch: Scratch, head: journal.Head) -> None:
        self.session, self.scratch, self.head = session, scratch, head
        self.ranges = state.ranges(session)
        self.helper: Helper | None = None
        if len(self.ranges) > 1 and worth_one(head, PARALLEL_FROM):
            self.claims: Callable[[], int | None] = Claims(scratch.path("claims"), len(self.ranges), create=True)
            self.helper = Helper(session, scratch.folder, "ledger.ops.verify:helper", {"ranges": self.ranges})
        else:
            indexes = iter(range(len(self.ranges)))
            self.claims = lambda: next(indexes, None)

    def finish(self) -> list[Path]:
        """Hash the ranges not taken yet; wait for the helper; the scratch files of the live digests."""
        mine = Live(self.scratch.path("live0"))
        _take_ranges(self.session, self.ranges, self.claims, mine)
        mine.close()
        if self.helper is None:
            return [self.scratch.path("live0")]
        if self.helper.finish(self.head, HELPER_GRACE):
            return [self.scratch.path("live0"), self.scratch.path("live1")]
        # The helper failed, or read another moment of the ledger (a write committed in between, on
        # SQLite): hash every range here, on this transaction's snapshot.
        alone = Live(self.scratch.path("alone"))
        indexes = iter(range(len(self.ranges)))
        _take_ranges(self.session, self.ranges, lambda: next(indexes, None), alone)
        alone.close()
        return [self.scratch.path("alone")]

    def stop(self) -> None:
        if isinstance(self.claims, Claims):
            self.claims.close()
        if self.helper is not None:
            self.helper.stop()


#: Seconds the main process waits for the helper once it has no range left to take (a range takes well
#: under a second): past that, the helper is stopped and the main process hashes every range itself.
HELPER_GRACE = 300


def helper(folder: str) -> None:
    """The second process of a row pass: ranges from the claims, their digests into ``live1``."""
    scratch = Path(folder)
    with helper_session(scratch) as (session, job):
        ranges = [(str(kind), int(low), int(high)) for kind, low, high in job["ranges"]]
        live = Live(scratch / "live1.db")
        claims = Claims(scratch / "claims.db", len(ranges))
        _take_ranges(session, ranges, claims, live)
        claims.close()
        live.close()


_COMPARE = """
SELECT kind, id, seq, how FROM (
    {changed_or_added}
    UNION ALL
    SELECT e.kind, e.id, e.seq, 'removed' FROM expected AS e
     WHERE e.digest IS NOT NULL AND {absent}
) ORDER BY kind, id
"""


def compare(session: Session, scratch: Scratch, live: Iterable[Path], *, hint: bool = True) -> Iterator[Problem]:
    """Every owner whose live rows differ from the digest its newest journal entry recorded."""
    connection = sqlite3.connect(scratch.path("expected"))
    try:
        names = []
        for number, path in enumerate(live):
            connection.execute(f"ATTACH DATABASE ? AS live{number}", (str(path),))
            names.append(f"live{number}")
        changed_or_added = " UNION ALL ".join(
            f"SELECT l.kind, l.id, e.seq, CASE WHEN e.kind IS NULL THEN 'added' ELSE 'changed' END AS how"
            f" FROM {name}.live AS l LEFT JOIN expected AS e ON e.kind = l.kind AND e.id = l.id"
            f" WHERE e.kind IS NULL OR e.digest IS NULL OR e.digest <> l.digest"
            for name in names
        )
        absent = " AND ".join(
            f"NOT EXISTS (SELECT 1 FROM {name}.live AS l WHERE l.kind = e.kind AND l.id = e.id)" for name in names
        )
        found = connection.execute(_COMPARE.format(changed_or_added=changed_or_added, absent=absent)).fetchall()
    finally:
        connection.close()
    for kind, key, seq, how in found:
        yield _problem(session, (kind, key), seq, how, hint)


def _problem(session: Session, owner: state.Owner, seq: int | None, how: str, hint: bool) -> Problem:
    kind, key = owner
    entry_slug = (
        session.execute(select(JournalEntry.record_slug).where(JournalEntry.seq == seq)).scalar_one_or_none()
        if seq is not None
        else None
    )
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
