"""Checks on reported totals: an aggregate a source states, against the sum of the ledger's records.

Like a balance assertion in double-entry bookkeeping: "156 since November" is compared with the
delivered, live concessions of the same giver (or a party acting for it), kind, unit and receiver
dated in the period. Dates are ranges: a concession whose date may or may not fall in the period is
counted apart, and so is one with no date or no quantity; none is silently summed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, and_, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from ledger.audit.registry import AuditOptions, Finding, Severity, check
from ledger.domain import FuzzyDate, RecordType, Status
from ledger.models import Concession, Party, Record, ReportedTotal, Source
from ledger.schemas import fuzzy_from


@dataclass
class Tally:
    """What the ledger's records add up to for one reported total."""

    certain: int = 0
    possible: int = 0
    possible_count: int = 0
    undated: int = 0
    undated_count: int = 0
    unknown_quantity: int = 0

    def add(self, where: str, amount: int | None, count: int, known: int) -> None:
        """Count ``count`` concessions (``known`` of them with a quantity summing to ``amount``)."""
        self.unknown_quantity += count - known
        if where == "in":
            self.certain += amount or 0
        elif where == "maybe":
            self.possible += amount or 0
            self.possible_count += count
        else:
            self.undated += amount or 0
            self.undated_count += count


@dataclass(frozen=True)
class Period:
    """The period of a total, as a range; an unknown end is open."""

    start: FuzzyDate
    end: FuzzyDate
    notes: list[str] = field(default_factory=list)

    def place(self, date: FuzzyDate) -> str:
        """``in`` (certainly in the period), ``out`` (certainly not), ``maybe``, or ``undated``."""
        first, last = self.start.start, self.end.end
        if first is None and last is None:
            return "in"
        if date.start is None or date.end is None:
            return "undated"
        if (last is not None and date.start > last) or (first is not None and date.end < first):
            return "out"
        if (first is None or date.start >= first) and (last is None or date.end <= last):
            return "in"
        return "maybe"


def _matching(session: Session) -> list[Any]:
    """Per total and concession date: count, known quantities and their sum (one grouped query)."""
    given, giver = aliased(Concession, flat=True), aliased(Party, flat=True)
    totals = ReportedTotal.__table__
    stmt = (
        select(
            totals.c.id,
            given.date_on,
            given.date_precision,
            func.count(given.id),
            func.count(given.quantity),
            cast(func.sum(given.quantity), BigInteger),  # PostgreSQL sums bigints as numeric (Decimal)
        )  # fmt: skip
        .select_from(totals)
        .join(giver, or_(giver.id == totals.c.giver_id, giver.acts_for_id == totals.c.giver_id))
        .join(given, given.giver_id == giver.id)
        .where(
            given.status == Status.DELIVERED,
            given.retracted.is_(False),
            or_(totals.c.kind.is_(None), given.kind == totals.c.kind),
            or_(totals.c.receiver_id.is_(None), given.receiver_id == totals.c.receiver_id),
            or_(given.unit == totals.c.unit, and_(given.quantity.is_(None), given.unit.is_(None))),
        )
        .group_by(totals.c.id, given.date_on, given.date_precision)
    )
    return list(session.execute(stmt).all())


def _totals(session: Session) -> list[Any]:
    """The live reported totals, by ID. Filtered on the record type so the plan reads the few totals
    through ix_records_type rather than walking every record in ID order."""
    records, totals, parties, sources = Record.__table__, ReportedTotal.__table__, Party.__table__, Source.__table__
    return list(
        session.execute(
            select(
                totals.c.id,
                records.c.slug,
                totals.c.value,
                totals.c.unit,
                totals.c.kind,
                parties.c.name,
                func.coalesce(sources.c.publisher, sources.c.title),
                totals.c.period_start_text,
                totals.c.period_start_on,
                totals.c.period_start_precision,
                totals.c.period_end_text,
                totals.c.period_end_on,
                totals.c.period_end_precision,
                totals.c.statement,
            )  # fmt: skip
            .select_from(records)
            .join(totals, totals.c.id == records.c.id)
            .join(parties, parties.c.id == totals.c.giver_id)
            .join(sources, sources.c.id == totals.c.source_id)
            .where(records.c.type == RecordType.REPORTED_TOTAL, records.c.retracted.is_(False))
            .order_by(records.c.slug)
        ).all()
    )


def _verdict(value: int, tally: Tally) -> tuple[Severity, str] | None:
    low, high = tally.certain, tally.certain + tally.possible + tally.undated
    uncertain = tally.possible_count or tally.undated_count or tally.unknown_quantity
    if value == low and not uncertain:
        return None
    if value < low:
        return Severity.WARNING, f"{value} reported, {low} recorded: the ledger records {low - value} more"
    head = f"{value} reported, {low} recorded"
    if value > high and not tally.unknown_quantity:
        return Severity.WARNING, f"{head}: {value - low} unaccounted for"
    return Severity.INFO, f"{head}: up to {value - low} may be accounted for by records the ledger cannot place"


def _caveats(tally: Tally, period: Period) -> list[str]:
    parts = list(period.notes)
    if tally.possible_count:
        parts.append(f"{tally.possible_count} concession(s) ({tally.possible}) may or may not fall in the period")
    if tally.undated_count:
        parts.append(f"{tally.undated_count} concession(s) ({tally.undated}) have no known date")
    if tally.unknown_quantity:
        parts.append(f"{tally.unknown_quantity} matching concession(s) have no known quantity and are not summed")
    return parts


@check("totals", severity=Severity.WARNING, family="totals")
def totals(session: Session, _options: AuditOptions) -> Iterator[Finding]:
    """A reported total ("156 since November") that the ledger's delivered concessions of the same giver
    (or parties acting for it), kind, unit and receiver over its period do not add up to; reports the
    difference ("156 reported, 123 recorded: 33 unaccounted for"). Month/year dates are ranges;
    concessions that may fall in the period, have no date, or have no quantity are named, not summed."""
    tallies: dict[int, Tally] = defaultdict(Tally)
    periods: dict[int, Period] = {}
    rows = _totals(session)
    for row in rows:
        start, end = fuzzy_from(*row[7:10]), fuzzy_from(*row[10:13])
        notes = [f'the period start is unknown ("{start.text}"): every earlier record counts']
        notes = notes if start.text and not start.known else []
        periods[row[0]] = Period(start, end, notes)
    for total_id, on, precision, count, known, amount in _matching(session):
        where = periods[total_id].place(fuzzy_from(None, on, precision))
        if where != "out":
            tallies[total_id].add(where, amount, count, known)
    for total_id, slug, value, unit, kind, giver, source, *_rest in rows:
        tally = tallies[total_id]
        verdict = _verdict(value, tally)
        if verdict is None:
            continue
        severity, head = verdict
        caveats = _caveats(tally, periods[total_id])
        what = f"{kind.replace('_', ' ') if kind else 'concessions'} by {giver} ({unit})"
        message = f"{source} reports {what}: {head}" + ("; " + "; ".join(caveats) if caveats else "")
        details = {"reported": value, "recorded": tally.certain, "difference": value - tally.certain,
                   "possible": tally.possible, "undated": tally.undated,
                   "unknown_quantity": tally.unknown_quantity, "unit": unit}  # fmt: skip
        yield Finding("totals", severity, "reported_total", slug, message, details)
