"""Checks on how concessions are paired: unpaired concessions, one-sided exchanges."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from ledger.audit.registry import AuditOptions, Finding, Severity, check
from ledger.domain import Status
from ledger.models import Concession, Exchange, ExchangeMember, ExchangeSide, Party


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
            f'{giver_name}: "{summary}" ({status.value.replace("_", " ")}) is in no exchange; nothing recorded '
            "was given in return",
            {"status": status.value},
        )  # fmt: skip


@dataclass
class _Side:
    name: str
    given: int
    delivered: int


def _sides(session: Session) -> dict[tuple[str, str], list[_Side]]:
    """(exchange ID, title) -> each side with how many live concessions it gave and how many are delivered."""
    sides, members = ExchangeSide.__table__, ExchangeMember.__table__
    party, given = aliased(Party, flat=True), aliased(Concession, flat=True)
    delivered = func.sum(case((given.status == Status.DELIVERED, 1), else_=0))
    rows = session.execute(
        select(Exchange.slug, Exchange.title, party.slug, party.name, func.count(given.id), delivered)
        .outerjoin(sides, sides.c.exchange_id == Exchange.id)
        .outerjoin(party, party.id == sides.c.party_id)
        .outerjoin(members, members.c.side_id == sides.c.id)
        .outerjoin(given, and_(given.id == members.c.concession_id, given.retracted.is_(False)))
        .where(Exchange.retracted.is_(False))
        .group_by(Exchange.slug, Exchange.title, party.slug, party.name)
        .order_by(Exchange.slug, party.slug)
    ).all()
    result: dict[tuple[str, str], list[_Side]] = defaultdict(list)
    for slug, title, _party, name, count, done in rows:
        result[(slug, title)].extend([_Side(name, count, done or 0)] if name is not None else [])
    return result


@check("one-sided", severity=Severity.WARNING, family="pairing")
def one_sided(session: Session, _options: AuditOptions) -> Iterator[Finding]:
    """An exchange where only one side gave anything, or where one side delivered while everything
    the other side gave is still only considered, requested, offered or promised (the quid delivered,
    the quo still a promise)."""
    for (slug, title), sides in _sides(session).items():
        giving = [s for s in sides if s.given]
        details = {"sides": {s.name: {"concessions": s.given, "delivered": s.delivered} for s in sides}}
        if len(giving) < 2:
            who = f"only {giving[0].name} gave anything" if giving else "no side gave anything"
            yield Finding("one-sided", Severity.WARNING, "exchange", slug,
                          f'"{title}": {who}; what was given in return is not recorded', details)  # fmt: skip
            continue
        done = [s.name for s in giving if s.delivered]
        owing = [s.name for s in giving if not s.delivered]
        if done and owing:
            yield Finding(
                "one-sided", Severity.WARNING, "exchange", slug,
                f'"{title}": {" and ".join(done)} delivered'
                f", while nothing {' and '.join(owing)} gave in return "
                "is delivered yet: it is still only a promise (or less)",
                details,
            )  # fmt: skip
