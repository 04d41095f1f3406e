"""The integrity check: database damage, a broken journal chain, rows changed outside the ledger."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit.registry import AuditOptions, Finding, Severity, check
from ledger.db import storage_problems
from ledger.models import Record
from ledger.ops import verify

#: For a ledger whose journal predates record digests: above this many entries the audit skips the replay
#: comparison (it replays every entry through the projectors, seconds per thousand entries) and says so.
REPLAY_LIMIT = 5_000


@check("integrity", severity=Severity.ERROR, family="integrity")
def integrity(session: Session, _options: AuditOptions) -> Iterator[Finding]:
    """A damaged database file, a broken journal chain (an entry edited, removed or reordered), or
    a record whose rows differ from the digest its newest journal entry recorded (changed, added or
    deleted outside the ledger). A ledger with entries from before digests existed (schema 0004_5) is
    compared with a replay of its journal instead, up to 5,000 entries; `ledger verify` always runs it."""
    for table, key, message in storage_problems(session):
        slug = _slug_of(session, key) if key is not None else None
        yield Finding("integrity", Severity.ERROR, table, slug, message, {"row": key})
    report = verify.verify(session, replay_limit=REPLAY_LIMIT)
    for problem in report.problems:
        if problem.seq is not None:
            yield Finding(
                "integrity", Severity.ERROR, "journal", problem.record,
                f"journal entry {problem.seq}: {problem.message}", {"seq": problem.seq},
            )  # fmt: skip
        else:
            yield Finding("integrity", Severity.ERROR, problem.where, problem.record, problem.message)
    if report.replay_skipped:
        entries = report.head.seq
        yield Finding(
            "integrity", Severity.INFO, "journal", None,
            f"{report.undigested} journal entries predate record digests and the comparison of the tables with a "
            f"replay of the journal was skipped ({entries} entries, more than {REPLAY_LIMIT}); run `ledger verify`",
            {"entries": entries, "undigested": report.undigested, "replay_limit": REPLAY_LIMIT},
        )  # fmt: skip


def _slug_of(session: Session, key: int) -> str | None:
    return session.execute(select(Record.slug).where(Record.id == key)).scalar_one_or_none()
