"""Verification: the hash chain, an optional checkpoint, and the tables against the journal's replay."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ledger import journal
from ledger.ops import rebuild


@dataclass(frozen=True)
class Problem:
    """One verification failure: where (an entry or a table), the record it names, what is wrong."""

    where: str
    record: str | None
    message: str


@dataclass
class Report:
    """What `ledger verify` found."""

    head: journal.Head
    problems: list[Problem] = field(default_factory=list)
    first_broken: int | None = None
    replayed: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def verify(session: Session, *, checkpoint: journal.Head | None = None, replay: bool = True) -> Report:
    """Recompute the chain, check the checkpoint, and (unless ``replay`` is off) compare the tables."""
    report = Report(journal.head(session), replayed=replay)
    for broken in journal.verify_chain(session):
        if report.first_broken is None:
            report.first_broken = broken.seq
        report.problems.append(Problem(f"entry {broken.seq}", broken.record_slug, broken.message))
    if checkpoint is not None:
        mismatch = journal.verify_checkpoint(session, checkpoint)
        if mismatch is not None:
            report.problems.append(Problem("checkpoint", mismatch.record_slug, mismatch.message))
    if replay:
        for difference in rebuild.check(session):
            report.problems.append(Problem(difference.table, difference.record_slug, difference.message))
    return report
