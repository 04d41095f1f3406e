"""Checks on time: promises past due, and dates that contradict each other.

Dates are fuzzy: a month- or year-precision date is a range of days. A contradiction that holds for
every day of the ranges is certain (an error); one that holds only for some days is possible (info).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from ledger import db
from ledger.audit.dates import Dated, contradiction, dated, day_text
from ledger.audit.registry import AuditOptions, Finding, Severity, check, new_finding
from ledger.domain import OPEN_PROMISES, LinkBasis, Precision, RecordType, Status
from ledger.models import Citation, Concession, Link, Party, Record, Source, StatusChange

# Core tables, not ORM entities: the checks read hundreds of thousands of plain rows (no ORM loading).
_R, _C, _P, _S = Record.__table__, Concession.__table__, Party.__table__, Source.__table__
_CITES, _LINKS, _CHANGES = Citation.__table__, Link.__table__, StatusChange.__table__
_SOURCE = _R.alias("source_record")  # a source's records row (its slug)

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
    c, record = _C, _R
    rows = _rows(
        session,
        select(
            record.c.slug,
            c.c.summary,
            _text(c.c.status),
            _P.c.name,
            *_date_of(c),
            *_date_of(c, "due"),
        )  # fmt: skip
        .select_from(c)
        .join(record, record.c.id == c.c.id)
        .join(_P, _P.c.id == c.c.giver_id)
        .where(record.c.retracted.is_(False), c.c.status.in_(OPEN_PROMISES)),
    )
    as_of = options.as_of.isoformat()
    shown = {s.value: s.value.replace("_", " ") for s in OPEN_PROMISES}
    for slug, summary, status, giver_name, text, on, precision, due_text, due_on, due_precision in rows:
        date, due = dated(text, on, precision), dated(due_text, due_on, due_precision)
        severity, why = _overdue_one(options, date, due)
        if why:
            yield new_finding((
                "overdue", severity, "concession", slug,
                f'{giver_name}: "{summary}" is {shown[status]}, not delivered as of {as_of}; it {why}',
                {"status": status, "date": date.iso, "due": due.iso, "as_of": as_of},
            ))  # fmt: skip


_contradiction = contradiction
#: How sure a contradiction is, in the message: certain (error) or possible (info).
_CERTAINTY = {Severity.ERROR: "is", Severity.INFO: "may be"}


def _rows(session: Session, statement: Any) -> Iterator[Any]:
    """The statement's rows, fetched in batches (one driver call per batch, not per row) as the driver's tuples."""
    for batch in db.driver_batches(session, statement):
        yield from batch


def _date_of(table: Any, name: str = "date") -> tuple[Any, Any, Any]:
    """A fuzzy date's stored (text, day as ISO text, precision as text) columns, as ``dated()`` takes them."""
    return table.c[f"{name}_text"], day_text(table.c[f"{name}_on"]), _text(table.c[f"{name}_precision"])


def _text(column: Any) -> Any:
    """An enum column read as its stored text: no enum object per row (the dates cache is keyed on it)."""
    return day_text(column)


#: Concessions with more than one status change (an index-only scan of ix_status_changes_concession_id).
_with_history = select(_CHANGES.c.concession_id).group_by(_CHANGES.c.concession_id).having(func.count() > 1)


def _status_pairs(session: Session) -> Iterator[Finding]:
    first, then = _CHANGES.alias("first"), _CHANGES.alias("then")
    stage = {s.value: n for s, n in STAGE.items()}
    whens_first = case(stage, value=first.c.status)
    whens_then = case(stage, value=then.c.status)
    rows = _rows(
        session,
        select(
            _R.c.slug,
            _text(first.c.status),
            *_date_of(first),
            _text(then.c.status),
            *_date_of(then),
        )  # fmt: skip
        .select_from(_C)
        .join(_R, _R.c.id == _C.c.id)
        .join(first, first.c.concession_id == _C.c.id)
        .join(then, and_(then.c.concession_id == _C.c.id, whens_then > whens_first))
        .where(
            _C.c.id.in_(_with_history),  # the few concessions whose status changed: not every concession
            _R.c.type == RecordType.CONCESSION,  # read through ix_records_type, not every record by ID
            _R.c.retracted.is_(False),
            first.c.date_on.is_not(None),
            then.c.date_on.is_not(None),
            # two day-precision dates contradict only when the later stage is dated first
            or_(
                then.c.date_on <= first.c.date_on,
                first.c.date_precision != Precision.DAY,
                then.c.date_precision != Precision.DAY,
            ),
        ),
    )
    for slug, s1, t1, d1, p1, s2, t2, d2, p2 in rows:
        a, b = dated(t1, d1, p1), dated(t2, d2, p2)
        severity = _contradiction(a, b)
        if severity is not None:
            yield new_finding((
                "chronology", severity, "concession", slug,
                f"{slug} was {s2} on {b.shown}, which {_CERTAINTY[severity]} before it was {s1} on {a.shown}",
                {"earlier_status": s1, "earlier_date": a.iso, "later_status": s2, "later_date": b.iso},
            ))  # fmt: skip


#: ``concession ID * _SPAN + source ID + _HALF``: one integer per pair of 64-bit IDs.
_SPAN, _HALF = 1 << 64, 1 << 63


def _cited_before(session: Session) -> Iterator[Finding]:
    c, source, cited = _C, _S, _R.alias("cited")
    event_on = case((c.c.announced_on.is_not(None), c.c.announced_on), else_=c.c.date_on)
    rows = _rows(
        session,
        select(
            c.c.id,
            _R.c.slug,
            *_date_of(c),
            *_date_of(c, "announced"),
            source.c.id,
            _SOURCE.c.slug,
            *_date_of(source, "published"),
        )  # fmt: skip
        .select_from(c)
        .join(_R, _R.c.id == c.c.id)
        .join(_CITES, _CITES.c.record_id == c.c.id)
        .join(cited, and_(cited.c.id == _CITES.c.id, cited.c.retracted.is_(False)))
        .join(source, source.c.id == _CITES.c.source_id)
        .join(_SOURCE, _SOURCE.c.id == source.c.id)
        .where(_R.c.type == RecordType.CONCESSION, _R.c.retracted.is_(False))
        .where(source.c.published_on.is_not(None), event_on.is_not(None))
        .where(
            or_(
                source.c.published_on <= event_on,
                c.c.date_precision != Precision.DAY,
                c.c.announced_precision != Precision.DAY,
            )
        ),  # fmt: skip
    )  # no DISTINCT (a sort of every row, a third of the query): a source cited twice is skipped below
    reported: set[int] = set()  # (concession, source) of each finding, as one integer (64-bit IDs)
    for (
        cid,
        slug,
        text,
        on,
        precision,
        a_text,
        a_on,
        a_precision,
        sid,
        source_slug,
        p_text,
        p_on,
        p_precision,
    ) in rows:
        event = dated(a_text, a_on, a_precision)
        if event.start is None:  # no known announcement: the event's own date
            event = dated(text, on, precision)
        published = dated(p_text, p_on, p_precision)
        severity = _contradiction(event, published)
        if severity is not None:
            pair = cid * _SPAN + sid + _HALF
            if pair in reported:
                continue
            reported.add(pair)
            yield new_finding((
                "chronology", severity, "concession", slug,
                f"{slug} is cited from {source_slug}, published {published.shown}, which {_CERTAINTY[severity]} "
                f"before the event it reports ({event.shown})",
                {"source": source_slug, "published": published.iso, "event": event.iso},
            ))  # fmt: skip


def _link_order(session: Session) -> Iterator[Finding]:
    quid, quo = _C.alias("quid"), _C.alias("quo")
    link, quid_record, quo_record = _R.alias("link"), _R.alias("quid_record"), _R.alias("quo_record")
    rows = _rows(
        session,
        select(
            link.c.slug,
            _text(_LINKS.c.basis),
            quid_record.c.slug,
            *_date_of(quid),
            quo_record.c.slug,
            *_date_of(quo),
        )  # fmt: skip
        .select_from(_LINKS)
        .join(link, link.c.id == _LINKS.c.id)
        .join(quid, quid.c.id == _LINKS.c.quid_id)
        .join(quid_record, quid_record.c.id == quid.c.id)
        .join(quo, quo.c.id == _LINKS.c.quo_id)
        .join(quo_record, quo_record.c.id == quo.c.id)
        .where(
            link.c.type == RecordType.LINK,
            link.c.retracted.is_(False),
            _LINKS.c.basis != LinkBasis.DENIED,
            quid.c.date_on.is_not(None),
            quo.c.date_on.is_not(None),
            or_(quo.c.date_on <= quid.c.date_on, quid.c.date_precision != Precision.DAY),
        ),
    )
    for link_slug, basis, a_slug, a_text, a_on, a_precision, b_slug, b_text, b_on, b_precision in rows:
        a, b = dated(a_text, a_on, a_precision), dated(b_text, b_on, b_precision)
        severity = _contradiction(a, b)
        if severity is not None:
            yield new_finding((
                "chronology", severity, "link", link_slug,
                f"the {basis} link says {b_slug} was given in return for {a_slug}, but {b_slug} "
                f"({b.shown}) {_CERTAINTY[severity]} before {a_slug} ({a.shown})",
                {"quid": a_slug, "quid_date": a.iso, "quo": b_slug, "quo_date": b.iso},
            ))  # fmt: skip


def _renewals(session: Session) -> Iterator[Finding]:
    renewal, renewed = _C.alias("renewal"), _C.alias("renewed")
    renewal_record, renewed_record = _R.alias("renewal_record"), _R.alias("renewed_record")
    rows = _rows(
        session,
        select(
            renewal_record.c.slug,
            *_date_of(renewal),
            renewed_record.c.slug,
            *_date_of(renewed),
        )  # fmt: skip
        .select_from(renewal)
        .join(renewal_record, renewal_record.c.id == renewal.c.id)
        .join(renewed, renewed.c.id == renewal.c.renews_id)
        .join(renewed_record, renewed_record.c.id == renewed.c.id)
        .where(
            renewal.c.id.in_(select(_C.c.id).where(_C.c.renews_id.is_not(None))),  # through ix_concessions_renews_id
            renewal_record.c.type == RecordType.CONCESSION,
            renewal.c.renews_id.is_not(None),
            renewal_record.c.retracted.is_(False),
            renewal.c.date_on.is_not(None),
            renewed.c.date_on.is_not(None),
            or_(renewal.c.date_on <= renewed.c.date_on, renewed.c.date_precision != Precision.DAY),
        ),  # fmt: skip
    )
    for slug, new_text, new_on, new_precision, old_slug, old_text, old_on, old_precision in rows:
        new, old = dated(new_text, new_on, new_precision), dated(old_text, old_on, old_precision)
        severity = _contradiction(old, new)
        if severity is not None:
            yield new_finding((
                "chronology", severity, "concession", slug,
                f"{slug} renews {old_slug}, but its date ({new.shown}) {_CERTAINTY[severity]} before {old_slug}'s "
                f"({old.shown})",
                {"renews": old_slug, "date": new.iso, "renewed_date": old.iso},
            ))  # fmt: skip


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
