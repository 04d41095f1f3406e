"""Checks on how concessions are paired: unpaired concessions, one-sided exchanges."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.audit.registry import AuditOptions, Finding, Severity, check
from ledger.domain import Status
from ledger.models import Concession, ExchangeMember, Party


@check("unpaired", severity=Severity.WARNING, family="pairing")
def unpaired(session: Session, _options: AuditOptions) -> Iterator[Finding]:
    """A concession in no exchange: what was given in return is not recorded. Info for a concession
    only considered, warning otherwise."""
    giver = aliased(Party, flat=True)
    in_exchange = select(ExchangeMember.id).where(ExchangeMember.concession_id == Concession.id).exists()
    rows = session.execute(
        select(Concession.slug, Concession.summary, Concession.status, giver.name)
        .join(giver, giver.id == Concession.giver_id)
        .where(Concession.retracted.is_(False), ~in_exchange)
        .order_by(Concession.slug)
    )
    for slug, summary, status, giver_name in rows:
        severity = Severity.INFO if status is Status.CONSIDERED else Severity.WARNING
        yield Finding(
            "unpaired", severity, "concession", slug,
            f"{giver_name}: {summary!r} ({status}) is in no exchange; nothing recorded was given in return",
            {"status": status.value},
        )  # fmt: skip
