"""Checks on time: promises past due, and dates that contradict each other.

Dates are fuzzy: a month- or year-precision date is a range of days. A contradiction that holds for
every day of the ranges is certain (an error); one that holds only for some days is possible (info).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import String, and_, case, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from ledger.audit.dates import Dated, contradiction, dated
from ledger.audit.registry import AuditOptions, Finding, Severity, check
from ledger.domain import OPEN_PROMISES, LinkBasis, Precision, RecordType, Status
from ledger.models import Citation, Concession, Link, Party, Record, Source, StatusChange

#: How far along its life a status is; a later stage dated before an earlier one is a contradiction.
STAGE = {Status.CONSIDERED: 0, Status.REQUESTED: 1, Status.OFFERED: 1, Status.PROMISED: 2, Status.IN_PROGRESS: 3,
         Status.DELIVERED: 4, Status.DECLINED: 4, Status.WITHDRAWN: 4, Status.RENEGED: 4}  # fmt: skip


def _overdue_one(options: AuditOptions, date: Dated, due: Dated) -> tuple[Severity, str]:
    """The verdict on one open promise: overdue for certain, possibly, not yet, or impossible to tell."""
    as_of, window = options.as_of, dt.timedelta(days=options.promise_window_days)
    if due.start is not None and due.end is not None:
        if as_of > due.end:
            return Severity.WARNING, f"was due {due.shown}; {(as_of - due.end).days} days overdue"
        if as_of >= due.start:
            return Severity.INFO, f"is due {due.shown}, which may already have passed"
        return Severity.INFO, ""
    if date.start is not None and date.end is not None:
        if as_of > date.end + window:
            return Severity.WARNING, (
                f"dates from {date.shown}, more than {options.promise_window_days} days ago, with no due date"
            )
        if as_of > date.start + window:
            return Severity.INFO, f"dates from {date.shown} and may be more than {window.days} days old"
        return Severity.INFO, ""
    return Severity.INFO, (
        f"has no known date or due date{_reported(date)}, so the ledger cannot tell whether it is overdue"
    )


def _reported(date: Dated) -> str:
    return f' (reported "{date.date.text}")' if date.date.text else ""


@check("overdue", severity=Severity.WARNING, family="time")
def overdue(session: Session, options: AuditOptions) -> Iterator[Finding]:
    """An offered, promised or in-progress concession with no delivery after its due date, or more than
    `--promise-window` days (default 90) after the promise's date, as of `--as-of` (default today).
    Month/year dates are ranges: possibly overdue is info. A promise with no known date or due date is
    still reported, at info, as not delivered."""
    giver = aliased(Party, flat=True)
    c = Concession
    rows = session.execute(
        select(
            c.slug,
            c.summary,
            c.status,
            giver.name,
            c.date_text,
            c.date_on,
            _text(c.date_precision),
            c.due_text,
            c.due_on,
            _text(c.due_precision),
        )  # fmt: skip
        .join(giver, giver.id == c.giver_id)
        .where(c.retracted.is_(False), c.status.in_(OPEN_PROMISES))
        .order_by(c.slug)
    )
    for slug, summary, status, giver_name, *dates in rows:
        date, due = dated(*dates[0:3]), dated(*dates[3:6])
        severity, why = _overdue_one(options, date, due)
        if why:
            yield Finding(
                "overdue", severity, "concession", slug,
                f'{giver_name}: "{summary}" is {status.value.replace("_", " ")}, not delivered as of '
                f"{options.as_of.isoformat()}; it {why}",
                {"status": status.value, "date": date.iso, "due": due.iso, "as_of": options.as_of.isoformat()},
            )  # fmt: skip


_contradiction = contradiction


def _text(column: Any) -> Any:
    """An enum column read as its stored text: no enum object per row (the dates cache is keyed on it)."""
    return type_coerce(column, String).label(None)


def _status_pairs(session: Session) -> Iterator[Finding]:
    first, then = StatusChange.__table__.alias("first"), StatusChange.__table__.alias("then")
    stage = {s.value: n for s, n in STAGE.items()}
    whens_first = case(stage, value=first.c.status)
    whens_then = case(stage, value=then.c.status)
    rows = session.execute(
        select(
            Concession.slug,
            first.c.status,
            first.c.date_text,
            first.c.date_on,
            _text(first.c.date_precision),
            then.c.status,
            then.c.date_text,
            then.c.date_on,
            _text(then.c.date_precision),
        )  # fmt: skip
        .join(first, first.c.concession_id == Concession.id)
        .join(then, and_(then.c.concession_id == Concession.id, whens_then > whens_first))
        .where(
            Concession.type == RecordType.CONCESSION,  # read through ix_records_type, not every record by ID
            Concession.retracted.is_(False),
            first.c.date_on.is_not(None),
            then.c.date_on.is_not(None),
            # two day-precision dates contradict only when the later stage is dated first
            or_(
                then.c.date_on <= first.c.date_on,
                first.c.date_precision != Precision.DAY,
                then.c.date_precision != Precision.DAY,
            ),
        )
        .order_by(Concession.slug, first.c.id, then.c.id)
    )
    for slug, s1, t1, d1, p1, s2, t2, d2, p2 in rows:
        a, b = dated(t1, d1, p1), dated(t2, d2, p2)
        severity = _contradiction(a, b)
        if severity is not None:
            certainty = "is" if severity is Severity.ERROR else "may be"
            yield Finding(
                "chronology", severity, "concession", slug,
                f"{slug} was {s2} on {b.shown}, which {certainty} before it was {s1} on {a.shown}",
                {"earlier_status": s1, "earlier_date": a.iso, "later_status": s2, "later_date": b.iso},
            )  # fmt: skip


def _cited_before(session: Session) -> Iterator[Finding]:
    source, cited = aliased(Source, flat=True), aliased(Record)
    c = Concession
    event_on = case((c.announced_on.is_not(None), c.announced_on), else_=c.date_on)
    rows = session.execute(
        select(
            c.slug,
            c.date_text,
            c.date_on,
            _text(c.date_precision),
            c.announced_text,
            c.announced_on,
            _text(c.announced_precision),
            source.slug,
            source.published_text,
            source.published_on,
            _text(source.published_precision),
        )  # fmt: skip
        .join(Citation.__table__, Citation.__table__.c.record_id == c.id)
        .join(cited, and_(cited.id == Citation.__table__.c.id, cited.retracted.is_(False)))
        .join(source, source.id == Citation.__table__.c.source_id)
        .where(c.type == RecordType.CONCESSION, c.retracted.is_(False))
        .where(source.published_on.is_not(None), event_on.is_not(None))
        .where(
            or_(
                source.published_on <= event_on,
                c.date_precision != Precision.DAY,
                c.announced_precision != Precision.DAY,
            )
        )  # fmt: skip
        .distinct()
        .order_by(c.slug, source.slug)
    )
    for slug, *rest in rows:
        date, announced = dated(*rest[0:3]), dated(*rest[3:6])
        event = announced if announced.known else date
        published = dated(*rest[7:10])
        severity = _contradiction(event, published)
        if severity is not None:
            certainty = "is" if severity is Severity.ERROR else "may be"
            yield Finding(
                "chronology", severity, "concession", slug,
                f"{slug} is cited from {rest[6]}, published {published.shown}, which {certainty} before "
                f"the event it reports ({event.shown})",
                {"source": rest[6], "published": published.iso, "event": event.iso},
            )  # fmt: skip


def _link_order(session: Session) -> Iterator[Finding]:
    quid, quo = aliased(Concession, flat=True), aliased(Concession, flat=True)
    rows = session.execute(
        select(
            Link.slug,
            Link.basis,
            quid.slug,
            quid.date_text,
            quid.date_on,
            _text(quid.date_precision),
            quo.slug,
            quo.date_text,
            quo.date_on,
            _text(quo.date_precision),
        )  # fmt: skip
        .join(quid, quid.id == Link.quid_id)
        .join(quo, quo.id == Link.quo_id)
        .where(
            Link.type == RecordType.LINK,
            Link.retracted.is_(False),
            Link.basis != LinkBasis.DENIED,
            quid.date_on.is_not(None),
            quo.date_on.is_not(None),
            or_(quo.date_on <= quid.date_on, quid.date_precision != Precision.DAY),
        )
        .order_by(Link.slug)
    )
    for link, basis, a_slug, *rest in rows:
        a, b_slug, b = dated(*rest[0:3]), rest[3], dated(*rest[4:7])
        severity = _contradiction(a, b)
        if severity is not None:
            certainty = "is" if severity is Severity.ERROR else "may be"
            yield Finding(
                "chronology", severity, "link", link,
                f"the {basis.value} link says {b_slug} was given in return for {a_slug}, but {b_slug} "
                f"({b.shown}) {certainty} before {a_slug} ({a.shown})",
                {"quid": a_slug, "quid_date": a.iso, "quo": b_slug, "quo_date": b.iso},
            )  # fmt: skip


def _renewals(session: Session) -> Iterator[Finding]:
    renewal, renewed = aliased(Concession, flat=True), aliased(Concession, flat=True)
    rows = session.execute(
        select(
            renewal.slug,
            renewal.date_text,
            renewal.date_on,
            _text(renewal.date_precision),
            renewed.slug,
            renewed.date_text,
            renewed.date_on,
            _text(renewed.date_precision),
        )  # fmt: skip
        .join(renewed, renewed.id == renewal.renews_id)
        .where(
            renewal.type == RecordType.CONCESSION,
            renewal.renews_id.is_not(None),
            renewal.retracted.is_(False),
            renewal.date_on.is_not(None),
            renewed.date_on.is_not(None),
            or_(renewal.date_on <= renewed.date_on, renewed.date_precision != Precision.DAY),
        )  # fmt: skip
        .order_by(renewal.slug)
    )
    for slug, new_text, new_on, new_precision, old_slug, old_text, old_on, old_precision in rows:
        new, old = dated(new_text, new_on, new_precision), dated(old_text, old_on, old_precision)
        severity = _contradiction(old, new)
        if severity is not None:
            certainty = "is" if severity is Severity.ERROR else "may be"
            yield Finding(
                "chronology", severity, "concession", slug,
                f"{slug} renews {old_slug}, but its date ({new.shown}) {certainty} before {old_slug}'s "
                f"({old.shown})",
                {"renews": old_slug, "date": new.iso, "renewed_date": old.iso},
            )  # fmt: skip


@check("chronology", severity=Severity.ERROR, family="time")
def chronology(session: Session, _options: AuditOptions) -> Iterator[Finding]:
    """Dates that contradict each other: a status history where a later stage (delivered) is dated
    before an earlier one (promised); a citation from a source published before the event it reports;
    a link whose concession given in return is dated before the one it answers; a renewal dated before
    the concession it renews. Month/year dates are ranges: a certain contradiction is an error, a
    possible one is info."""
    yield from _status_pairs(session)
    yield from _cited_before(session)
    yield from _link_order(session)
    yield from _renewals(session)
