"""Checks on how concessions are paired: unpaired concessions, one-sided exchanges."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from ledger import db
from ledger.audit.registry import AuditOptions, Finding, Severity, check, new_finding
from ledger.domain import RecordType, Status
from ledger.models import Concession, Exchange, ExchangeMember, ExchangeSide, Party, Record

_R, _C, _P = Record.__table__, Concession.__table__, Party.__table__
_SIDES, _MEMBERS, _X = ExchangeSide.__table__, ExchangeMember.__table__, Exchange.__table__


@check("unpaired", severity=Severity.WARNING, family="pairing")
def unpaired(session: Session, _options: AuditOptions) -> list[Finding]:
    """A concession in no exchange: what was given in return is not recorded. Info for a concession
    only considered, warning otherwise."""
    in_exchange = select(_MEMBERS.c.id).where(_MEMBERS.c.concession_id == _C.c.id).exists()
    status = type_coerce(_C.c.status, String)  # the stored value: no enum object per row
    rows = db.driver_rows(  # the driver's tuples; no ORDER BY: one finding per concession, the audit sorts them
        session,
        select(_R.c.slug, _C.c.summary, status, _P.c.name)
        .select_from(_C)
        .join(_R, _R.c.id == _C.c.id)
        .join(_P, _P.c.id == _C.c.giver_id)
        .where(_R.c.type == RecordType.CONCESSION, _R.c.retracted.is_(False), ~in_exchange),
        {},
    )  # the type test lets SQLite read the concessions through ix_records_type, not every record by ID
    considered, info, warning = Status.CONSIDERED.value, Severity.INFO, Severity.WARNING
    shown = {s.value: s.value.replace("_", " ") for s in Status}
    details = {s.value: {"status": s.value} for s in Status}  # shared by the findings (read-only, see Finding)
    return [
        new_finding(
            (
                "unpaired",
                info if status == considered else warning,
                "concession",
                slug,
                f'{giver_name}: "{summary}" ({shown[status]}) is in no exchange; nothing recorded was given in return',
                details[status],
            )
        )  # fmt: skip
        for slug, summary, status, giver_name in rows
    ]


@dataclass
class _Side:
    name: str
    given: int
    delivered: int


def _given_per_side() -> Any:
    """Per exchange side that gave anything: how many live concessions it gave, how many are delivered."""
    delivered = func.sum(case((_C.c.status == Status.DELIVERED, 1), else_=0))
    return (
        select(_MEMBERS.c.side_id, func.count().label("given"), delivered.label("delivered"))
        .select_from(_MEMBERS)
        .join(_C, _C.c.id == _MEMBERS.c.concession_id)
        .join(_R, _R.c.id == _C.c.id)
        .where(_R.c.retracted.is_(False))
        .group_by(_MEMBERS.c.side_id)
        .cte("given")
    )


def _sides(session: Session) -> dict[tuple[str, str], list[_Side]]:
    """(exchange ID, title) -> each side with how many live concessions it gave and how many are delivered,
    for the live exchanges that are one-sided: fewer than two sides gave anything, or some giving sides
    delivered while others delivered nothing. The test is one grouped query; only those exchanges are read."""
    given = _given_per_side()
    exchange, sides = _R.alias("exchange"), _SIDES.alias("sides")
    done = func.sum(case((given.c.delivered > 0, 1), else_=0))
    owing = func.sum(case((given.c.delivered == 0, 1), else_=0))
    flagged = (
        select(exchange.c.id)
        .select_from(exchange)
        .outerjoin(sides, sides.c.exchange_id == exchange.c.id)
        .outerjoin(given, given.c.side_id == sides.c.id)
        .where(exchange.c.type == RecordType.EXCHANGE, exchange.c.retracted.is_(False))
        .group_by(exchange.c.id)
        .having(or_(func.count(given.c.side_id) < 2, and_(done > 0, owing > 0)))
        .cte("flagged")
    )
    party = _R.alias("party")
    rows = session.execute(
        select(_R.c.slug, _X.c.title, party.c.slug, _P.c.name, given.c.given, given.c.delivered)
        .select_from(flagged)
        .join(_X, _X.c.id == flagged.c.id)
        .join(_R, _R.c.id == _X.c.id)
        .outerjoin(_SIDES, _SIDES.c.exchange_id == _X.c.id)
        .outerjoin(_P, _P.c.id == _SIDES.c.party_id)
        .outerjoin(party, party.c.id == _P.c.id)
        .outerjoin(given, given.c.side_id == _SIDES.c.id)
        .order_by(_R.c.slug, party.c.slug)
    ).all()
    result: dict[tuple[str, str], list[_Side]] = defaultdict(list)
    for slug, title, _party, name, count, delivered in rows:
        result[(slug, title)].extend([_Side(name, count or 0, delivered or 0)] if name is not None else [])
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
