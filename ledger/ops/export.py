"""Reading the ledger back out in the import format, streaming: one flat record at a time.

Every record is yielded as ``(type, fields)`` where ``fields`` is exactly what ``ledger import``
accepts for that type (IDs instead of keys, fuzzy dates as ``{"text", "value"}``), so an export
imports into an empty ledger as the same ledger. Records come section by section in the order the
import needs (sources, parties, aliases, concessions, exchanges, links, totals, claims, citations),
each section sorted by ID; rows are streamed with ``yield_per``, so memory stays flat for any size.
Retracted records are left out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Any

from sqlalchemy import BigInteger, ColumnElement, Select, String, case, cast, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from ledger.db import date_text
from ledger.domain import FuzzyDate, Precision, RecordType
from ledger.errors import InvalidInput
from ledger.io import writers
from ledger.io.interchange import Context, write_ftm, write_plover
from ledger.models import (
    Alias,
    Beneficiary,
    Citation,
    Claim,
    Concession,
    ConcessionKindRow,
    Exchange,
    ExchangeMember,
    ExchangeSide,
    Link,
    Party,
    Record,
    ReportedTotal,
    Source,
)

BATCH = 2_000
#: Sections in import order, with the JSONL ``type`` of their records.
SECTIONS = (
    ("sources", "source"),
    ("parties", "party"),
    ("aliases", "alias"),
    ("concessions", "concession"),
    ("exchanges", "exchange"),
    ("links", "link"),
    ("totals", "total"),
    ("claims", "claim"),
    ("citations", "citation"),
)
ExportRecord = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class ExportFilter:
    """Which part of the ledger to export; empty fields export everything."""

    exchange: str | None = None
    party: str | None = None
    since: FuzzyDate | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing narrows the export."""
        return self.exchange is None and self.party is None and self.since is None


def _date(text: str | None, value: dt.date | None, precision: str | Precision) -> dict[str, Any] | None:
    if text is None and value is None:
        return None
    fuzzy = FuzzyDate(text=text, value=value, precision=Precision(precision))
    return {k: v for k, v in (("text", fuzzy.text), ("value", fuzzy.iso())) if v is not None}


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v.value if isinstance(v, Enum) else v for k, v in fields.items() if v is not None}


def _stream(session: Session, stmt: Select[Any]) -> Iterator[Any]:
    yield from session.execute(stmt.execution_options(yield_per=BATCH))


def _slug(model: Any = Record) -> Any:
    return aliased(Record, flat=True) if model is Record else aliased(model, flat=True)


def sources(session: Session) -> Iterator[dict[str, Any]]:
    """Sources, sorted by ID (relays after the sources they relay, so a one-pass import finds them)."""
    s, r, relays = Source.__table__.c, _slug(), _slug()
    stmt = (
        select(
            r.slug,
            s.title,
            s.publisher,
            s.url,
            s.published_text,
            s.published_on,
            s.published_precision,
            relays.slug.label("relays"),
            s.snapshot_sha256,
            s.snapshot_length,
            s.note,
        )  # fmt: skip
        .select_from(Source.__table__)
        .join(r, r.id == s.id)
        .outerjoin(relays, relays.id == s.relays_id)
        .where(r.retracted.is_(False))
        .order_by(s.relays_id.is_not(None), r.slug)
    )
    for row in _stream(session, stmt):
        yield _clean({
            "id": row[0], "title": row.title, "publisher": row.publisher, "url": row.url,
            "published": _date(row.published_text, row.published_on, row.published_precision),
            "relays": row.relays, "sha256": row.snapshot_sha256, "length": row.snapshot_length, "note": row.note,
        })  # fmt: skip


def parties(session: Session) -> Iterator[dict[str, Any]]:
    """Parties, sorted by ID (those acting for another after the parties that do not)."""
    p, r, acts_for = Party.__table__.c, _slug(), _slug()
    stmt = (
        select(r.slug, p.name, p.kind, acts_for.slug.label("acts_for"), p.note)
        .select_from(Party.__table__)
        .join(r, r.id == p.id)
        .outerjoin(acts_for, acts_for.id == p.acts_for_id)
        .where(r.retracted.is_(False))
        .order_by(p.acts_for_id.is_not(None), r.slug)
    )
    for row in _stream(session, stmt):
        yield _clean({"id": row[0], "name": row.name, "kind": row.kind, "acts_for": row.acts_for, "note": row.note})


def aliases(session: Session) -> Iterator[dict[str, Any]]:
    """Aliases, sorted by ID."""
    a, r, party, source = Alias.__table__.c, _slug(), _slug(), _slug()
    stmt = (
        select(r.slug, party.slug.label("party"), a.name, source.slug.label("source"), a.script, a.note)
        .select_from(Alias.__table__)
        .join(r, r.id == a.id)
        .join(party, party.id == a.party_id)
        .outerjoin(source, source.id == a.source_id)
        .where(r.retracted.is_(False))
        .order_by(r.slug)
    )
    for row in _stream(session, stmt):
        yield _clean({
            "id": row[0], "party": row.party, "name": row.name, "source": row.source, "script": row.script,
            "note": row.note,
        })  # fmt: skip


_CONCESSION_PLAIN = (
    "kind", "kind_detail", "summary", "quantity", "unit", "status", "conditions", "instrument", "authority",
    "programme", "instrument_ref", "release_form", "destination", "note",
)  # fmt: skip
_CONCESSION_DATES = ("date", "due", "announced", "effective", "expires")


def concessions(session: Session) -> Iterator[dict[str, Any]]:
    """Concessions with their beneficiaries, sorted by ID (renewals after what they renew)."""
    c, r, giver, receiver, renews = Concession.__table__.c, _slug(), _slug(), _slug(), _slug()
    dates = [c[f"{d}_{part}"] for d in _CONCESSION_DATES for part in ("text", "on", "precision")]
    stmt = (
        select(
            r.slug,
            giver.slug.label("giver"),
            receiver.slug.label("receiver"),
            renews.slug.label("renews"),
            *(c[name] for name in _CONCESSION_PLAIN),
            *dates,
        )  # fmt: skip
        .select_from(Concession.__table__)
        .join(r, r.id == c.id)
        .join(giver, giver.id == c.giver_id)
        .join(receiver, receiver.id == c.receiver_id)
        .outerjoin(renews, renews.id == c.renews_id)
        .where(r.retracted.is_(False))
        .order_by(c.renews_id.is_not(None), r.slug)
    )
    beneficiaries = _beneficiaries(session)
    pending: tuple[str, str] | None = next(beneficiaries, None)
    for row in _stream(session, stmt):
        fields: dict[str, Any] = {"id": row[0], "giver": row.giver, "receiver": row.receiver}
        fields.update({name: getattr(row, name) for name in _CONCESSION_PLAIN})
        for name in _CONCESSION_DATES:
            fields[name] = _date(
                getattr(row, f"{name}_text"), getattr(row, f"{name}_on"), getattr(row, f"{name}_precision")
            )
        fields["renews"] = row.renews
        names: list[str] = []
        # Both streams are sorted by concession ID within the same two groups: merge them.
        while pending is not None and pending[0] == row[0]:
            names.append(pending[1])
            pending = next(beneficiaries, None)
        fields["beneficiaries"] = names or None
        yield _clean(fields)


def _beneficiaries(session: Session) -> Iterator[tuple[str, str]]:
    b, c, concession, party = Beneficiary.__table__.c, Concession.__table__.c, _slug(), _slug()
    stmt = (
        select(concession.slug, party.slug)
        .select_from(Beneficiary.__table__)
        .join(Concession.__table__, c.id == b.concession_id)
        .join(concession, concession.id == b.concession_id)
        .join(party, party.id == b.party_id)
        .order_by(c.renews_id.is_not(None), concession.slug, b.id)
    )
    for row in _stream(session, stmt):
        yield row[0], row[1]


def exchanges(session: Session) -> Iterator[dict[str, Any]]:
    """Exchanges (their links follow as their own records), sorted by ID."""
    x, r = Exchange.__table__.c, _slug()
    stmt = (
        select(r.slug, x.title, x.summary)
        .select_from(Exchange.__table__)
        .join(r, r.id == x.id)
        .where(r.retracted.is_(False))
        .order_by(r.slug)
    )
    for row in _stream(session, stmt):
        yield _clean({"id": row[0], "title": row.title, "summary": row.summary})


def links(session: Session) -> Iterator[dict[str, Any]]:
    """Live links, one pair each, sorted by ID."""
    link, r, exchange, quid, quo = Link.__table__.c, _slug(), _slug(), _slug(), _slug()
    stmt = (
        select(
            r.slug,
            exchange.slug.label("exchange"),
            quid.slug.label("quid"),
            quo.slug.label("quo"),
            link.basis,
            link.reason,
        )  # fmt: skip
        .select_from(Link.__table__)
        .join(r, r.id == link.id)
        .join(exchange, exchange.id == link.exchange_id)
        .join(quid, quid.id == link.quid_id)
        .join(quo, quo.id == link.quo_id)
        .where(r.retracted.is_(False))
        .order_by(r.slug)
    )
    for row in _stream(session, stmt):
        yield _clean({
            "id": row[0], "exchange": row.exchange, "concessions": [row.quid, row.quo], "basis": row.basis,
            "reason": row.reason,
        })  # fmt: skip


def totals(session: Session) -> Iterator[dict[str, Any]]:
    """Reported totals, sorted by ID."""
    t, r, source, giver, receiver = ReportedTotal.__table__.c, _slug(), _slug(), _slug(), _slug()
    stmt = (
        select(
            r.slug,
            source.slug.label("source"),
            giver.slug.label("giver"),
            receiver.slug.label("receiver"),
            t.kind,
            t.unit,
            t.value,
            t.statement,
            t.period_start_text,
            t.period_start_on,
            t.period_start_precision,
            t.period_end_text,
            t.period_end_on,
            t.period_end_precision,
        )  # fmt: skip
        .select_from(ReportedTotal.__table__)
        .join(r, r.id == t.id)
        .join(source, source.id == t.source_id)
        .join(giver, giver.id == t.giver_id)
        .outerjoin(receiver, receiver.id == t.receiver_id)
        .where(r.retracted.is_(False))
        .order_by(r.slug)
    )
    for row in _stream(session, stmt):
        yield _clean({
            "id": row[0], "source": row.source, "giver": row.giver, "receiver": row.receiver, "kind": row.kind,
            "unit": row.unit, "value": row.value,
            "period_start": _date(row.period_start_text, row.period_start_on, row.period_start_precision),
            "period_end": _date(row.period_end_text, row.period_end_on, row.period_end_precision),
            "statement": row.statement,
        })  # fmt: skip


def claims(session: Session) -> Iterator[dict[str, Any]]:
    """Claims, sorted by ID."""
    c, r, record, source = Claim.__table__.c, _slug(), _slug(), _slug()
    stmt = (
        select(
            r.slug,
            record.slug.label("record"),
            c.attribute,
            c.value,
            source.slug.label("source"),
            c.quote,
            c.rank,
            c.rank_reason,
            c.rank_author,
        )  # fmt: skip
        .select_from(Claim.__table__)
        .join(r, r.id == c.id)
        .join(record, record.id == c.record_id)
        .join(source, source.id == c.source_id)
        .where(r.retracted.is_(False), record.retracted.is_(False))
        .order_by(r.slug)
    )
    for row in _stream(session, stmt):
        yield _clean({
            "id": row[0], "record": row.record, "attribute": row.attribute, "value": row.value, "source": row.source,
            "quote": row.quote, "rank": row.rank, "rank_reason": row.rank_reason, "rank_author": row.rank_author,
        })  # fmt: skip


def citations(session: Session) -> Iterator[dict[str, Any]]:
    """Citations of live records, sorted by ID."""
    c, r, record, source = Citation.__table__.c, _slug(), _slug(), _slug()
    stmt = (
        select(
            r.slug, record.slug.label("record"), source.slug.label("source"), c.quote, c.locator, c.prefix, c.suffix
        )  # fmt: skip
        .select_from(Citation.__table__)
        .join(r, r.id == c.id)
        .join(record, record.id == c.record_id)
        .join(source, source.id == c.source_id)
        .where(r.retracted.is_(False), record.retracted.is_(False))
        .order_by(r.slug)
    )
    for row in _stream(session, stmt):
        yield _clean({
            "id": row[0], "record": row.record, "source": row.source, "quote": row.quote, "locator": row.locator,
            "prefix": row.prefix, "suffix": row.suffix,
        })  # fmt: skip


_READERS = {
    "source": sources, "party": parties, "alias": aliases, "concession": concessions, "exchange": exchanges,
    "link": links, "total": totals, "claim": claims, "citation": citations,
}  # fmt: skip


def export_records(session: Session, narrow: ExportFilter = ExportFilter()) -> Iterator[ExportRecord]:
    """Every live record as ``(type, fields)`` in import order; with a filter, only that part and what it needs."""
    keep = None if narrow.empty else _selection(session, narrow)
    for _section, kind in SECTIONS:
        for fields in _READERS[kind](session):
            if keep is None or _kept(kind, fields, keep):
                yield kind, fields


def cameo_codes(session: Session) -> dict[str, str]:
    """Concession kind -> CAMEO event code."""
    return dict(session.execute(select(ConcessionKindRow.kind, ConcessionKindRow.cameo_code)).all())


def party_kinds(session: Session) -> dict[str, str]:
    """Party ID -> party kind, for interchange formats that type their actors."""
    r = _slug()
    rows = session.execute(select(r.slug, Party.__table__.c.kind).join(r, r.id == Party.__table__.c.id))
    return {slug: str(kind) for slug, kind in rows}


# --- filtered exports ----------------------------------------------------------------------------


def _selection(session: Session, narrow: ExportFilter) -> set[str]:
    """IDs of the records a filtered export holds: the chosen concessions and everything they refer to."""
    chosen = _chosen_concessions(session, narrow)
    keep = set(chosen)
    exchanges_of = _exchange_members(session)
    exchange_ids = {x for c in chosen for x in exchanges_of.get(c, ())}
    if narrow.exchange is not None:
        exchange_ids &= {narrow.exchange}
    keep |= exchange_ids
    for fields in concessions(session):
        if fields["id"] in chosen:
            keep.update([fields["giver"], fields["receiver"], *fields.get("beneficiaries", [])])
    keep |= _acts_for_closure(session, keep)
    for fields in links(session):
        if fields["exchange"] in exchange_ids and set(fields["concessions"]) <= chosen:
            keep.add(fields["id"])
    for fields in totals(session):
        if fields["giver"] in keep and fields.get("receiver", fields["giver"]) in keep:
            keep.add(fields["id"])
    for fields in aliases(session):
        if fields["party"] in keep:
            keep.add(fields["id"])
    return keep | _sources_needed(session, keep)


def _chosen_concessions(session: Session, narrow: ExportFilter) -> set[str]:
    chosen = set()
    exchanges_of = _exchange_members(session)
    if narrow.exchange is not None and narrow.exchange not in {x for xs in exchanges_of.values() for x in xs}:
        known = {f["id"] for f in exchanges(session)}
        if narrow.exchange not in known:
            raise InvalidInput(f"--exchange: no exchange with ID {narrow.exchange!r}")
    since = narrow.since.start if narrow.since is not None else None
    for fields in concessions(session):
        if narrow.exchange is not None and narrow.exchange not in exchanges_of.get(fields["id"], ()):
            continue
        if narrow.party is not None and narrow.party not in (
            fields["giver"],
            fields["receiver"],
            *fields.get("beneficiaries", []),
        ):
            continue
        if since is not None and not _on_or_after(fields.get("date"), since):
            continue
        chosen.add(fields["id"])
    return chosen


def _on_or_after(date: dict[str, Any] | None, since: dt.date) -> bool:
    if not date or "value" not in date:
        return False
    fuzzy = FuzzyDate.parse(date["value"])
    return fuzzy.end is not None and fuzzy.end >= since


def _exchange_members(session: Session) -> dict[str, set[str]]:
    concession, exchange = _slug(), _slug()
    out: dict[str, set[str]] = {}
    rows = session.execute(
        select(concession.slug, exchange.slug)
        .select_from(ExchangeMember.__table__)
        .join(concession, concession.id == ExchangeMember.__table__.c.concession_id)
        .join(exchange, exchange.id == ExchangeMember.__table__.c.exchange_id)
        .where(exchange.retracted.is_(False))
    )
    for concession_slug, exchange_slug in rows:
        out.setdefault(concession_slug, set()).add(exchange_slug)
    return out


def _acts_for_closure(session: Session, keep: set[str]) -> set[str]:
    parents = {f["id"]: f.get("acts_for") for f in parties(session)}
    found = set()
    for slug in list(keep):
        current = parents.get(slug)
        while current is not None and current not in found:
            found.add(current)
            current = parents.get(current)
    return found


def _sources_needed(session: Session, keep: set[str]) -> set[str]:
    needed: set[str] = set()
    for fields in citations(session):
        if fields["record"] in keep:
            needed.add(fields["source"])
    for fields in aliases(session):
        if fields["id"] in keep and "source" in fields:
            needed.add(fields["source"])
    for fields in totals(session):
        if fields["id"] in keep:
            needed.add(fields["source"])
    relays = {f["id"]: f.get("relays") for f in sources(session)}
    for slug in list(needed):
        current = relays.get(slug)
        while current is not None and current not in needed:
            needed.add(current)
            current = relays.get(current)
    return needed


def _kept(kind: str, fields: dict[str, Any], keep: set[str]) -> bool:
    if kind in ("citation", "claim"):
        return fields["record"] in keep and fields["source"] in keep
    return fields["id"] in keep


def _concession_citations(session: Session) -> Iterator[tuple[str, dict[str, Any]]]:
    """Citations of concessions, in the order concessions() streams them."""
    c, con, r, record, source = Citation.__table__.c, Concession.__table__.c, _slug(), _slug(), _slug()
    stmt = (
        select(record.slug, r.slug, source.slug, c.quote, c.locator)
        .select_from(Citation.__table__)
        .join(r, r.id == c.id)
        .join(Concession.__table__, con.id == c.record_id)
        .join(record, record.id == c.record_id)
        .join(source, source.id == c.source_id)
        .where(r.retracted.is_(False))
        .order_by(con.renews_id.is_not(None), record.slug, r.slug)
    )
    for row in _stream(session, stmt):
        yield row[0], _clean({"id": row[1], "source": row[2], "quote": row[3], "locator": row[4]})


def concession_events(
    session: Session, narrow: ExportFilter = ExportFilter()
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each concession with its citations (two sorted streams merged), for event-data exports."""
    keep = None if narrow.empty else _selection(session, narrow)
    cites = _concession_citations(session)
    pending = next(cites, None)
    for fields in concessions(session):
        found = []
        while pending is not None and pending[0] == fields["id"]:
            found.append(pending[1])
            pending = next(cites, None)
        if keep is None or fields["id"] in keep:
            yield fields, found


def interchange_context(session: Session) -> Context:
    """The small lookups the FtM and PLOVER writers need."""
    exchange, party = _slug(), _slug()
    sides: dict[str, list[str]] = {}
    rows = session.execute(
        select(exchange.slug, party.slug)
        .select_from(ExchangeSide.__table__)
        .join(exchange, exchange.id == ExchangeSide.__table__.c.exchange_id)
        .join(party, party.id == ExchangeSide.__table__.c.party_id)
        .order_by(exchange.slug, party.slug)
    )
    for exchange_slug, party_slug in rows:
        sides.setdefault(exchange_slug, []).append(party_slug)
    stands_for: dict[str, str | None] = {f["id"]: f["party"] for f in aliases(session)}
    stands_for.update({f["id"]: f["exchange"] for f in links(session)})
    return Context(
        party_kinds=party_kinds(session), cameo=cameo_codes(session), exchange_sides=sides,
        sources={f["id"]: f for f in sources(session)}, stands_for=stands_for,
    )  # fmt: skip


# --- CSV tables, computed by the database ---------------------------------------------------------
#
# The whole ledger as CSV is one SELECT per record type whose columns are already the cells of its
# file (ledger.io.writers.CSV_COLUMNS): IDs joined in, fuzzy dates written to their precision, numbers
# as text, enum values as stored. Rows go to csv.writer in batches without a Python step per cell, so
# the export runs at the speed of the database driver. `export_records` + `writers.csv_row` is the
# reference (and still writes filtered exports); tests/test_io_export.py checks both write the same files.


def _cell(column: Any) -> ColumnElement[Any]:
    """A column as the text the database stores (no enum or type conversion on the way out)."""
    return type_coerce(column, String())


def _number(column: Any) -> ColumnElement[Any]:
    return cast(type_coerce(column, BigInteger()), String())


def _iso(on: Any, precision: Any) -> ColumnElement[Any]:
    """What ``FuzzyDate.iso()`` writes: ``2025``, ``2025-12`` or ``2025-12-13`` by the date's precision."""
    text, level = date_text(on), _cell(precision)
    return case(
        (level == Precision.YEAR.value, func.substr(text, 1, 4)),
        (level == Precision.MONTH.value, func.substr(text, 1, 7)),
        else_=text,
    )


def _date_cells(table: Any, name: str) -> list[ColumnElement[Any]]:
    return [_iso(table.c[f"{name}_on"], table.c[f"{name}_precision"]), _cell(table.c[f"{name}_text"])]


def _live(table: Any, kind: RecordType) -> tuple[Any, Select[Any]]:
    """The record row of ``table`` and a SELECT of its live rows, slug first.

    Filtering on the record type lets the database read only this type's records (the type index)
    rather than every record in slug order, probing ``table`` for each.
    """
    r = _slug()
    stmt = select(r.slug).select_from(table).join(r, r.id == table.c.id)
    return r, stmt.where(_cell(r.type) == kind.value, r.retracted.is_(False))


def _csv_sources() -> Select[Any]:
    s = Source.__table__
    r, stmt = _live(s, RecordType.SOURCE)
    relays = _slug()
    return (
        stmt.add_columns(_cell(s.c.title), _cell(s.c.publisher), _cell(s.c.url), *_date_cells(s, "published"),
                         relays.slug, _cell(s.c.snapshot_sha256), _number(s.c.snapshot_length), _cell(s.c.note))
        .outerjoin(relays, relays.id == s.c.relays_id)
        .order_by(s.c.relays_id.is_not(None), r.slug)
    )  # fmt: skip


def _csv_parties() -> Select[Any]:
    p = Party.__table__
    r, stmt = _live(p, RecordType.PARTY)
    acts_for = _slug()
    return (
        stmt.add_columns(_cell(p.c.name), _cell(p.c.kind), acts_for.slug, _cell(p.c.note))
        .outerjoin(acts_for, acts_for.id == p.c.acts_for_id)
        .order_by(p.c.acts_for_id.is_not(None), r.slug)
    )


def _csv_aliases() -> Select[Any]:
    a = Alias.__table__
    r, stmt = _live(a, RecordType.ALIAS)
    party, source = _slug(), _slug()
    return (
        stmt.add_columns(party.slug, _cell(a.c.name), source.slug, _cell(a.c.script), _cell(a.c.note))
        .join(party, party.id == a.c.party_id)
        .outerjoin(source, source.id == a.c.source_id)
        .order_by(r.slug)
    )


#: Where the beneficiaries cell is (merged in from its own sorted stream).
CSV_CONCESSION_BENEFICIARIES = writers.CSV_COLUMNS["concession"].index("beneficiaries")


def _csv_concessions() -> Select[Any]:
    c = Concession.__table__
    r, stmt = _live(c, RecordType.CONCESSION)
    giver, receiver, renews = _slug(), _slug(), _slug()
    plain = [_cell(c.c[name]) for name in ("kind", "kind_detail", "summary")]
    return (
        stmt.add_columns(
            giver.slug, receiver.slug, *plain, _number(c.c.quantity), _cell(c.c.unit), _cell(c.c.status),
            *(cell for name in _CONCESSION_DATES for cell in _date_cells(c, name)),
            _cell(c.c.conditions), renews.slug,
            *(_cell(c.c[name]) for name in ("instrument", "authority", "programme", "instrument_ref",
                                             "release_form", "destination")),
            type_coerce(None, String()).label("beneficiaries"), _cell(c.c.note),
        )
        .join(giver, giver.id == c.c.giver_id)
        .join(receiver, receiver.id == c.c.receiver_id)
        .outerjoin(renews, renews.id == c.c.renews_id)
        .order_by(c.c.renews_id.is_not(None), r.slug)
    )  # fmt: skip


def _csv_exchanges() -> Select[Any]:
    x = Exchange.__table__
    r, stmt = _live(x, RecordType.EXCHANGE)
    return stmt.add_columns(_cell(x.c.title), _cell(x.c.summary)).order_by(r.slug)


def _csv_links() -> Select[Any]:
    link = Link.__table__
    r, stmt = _live(link, RecordType.LINK)
    exchange, quid, quo = _slug(), _slug(), _slug()
    return (
        stmt.add_columns(exchange.slug, quid.slug + ";" + quo.slug, _cell(link.c.basis), _cell(link.c.reason))
        .join(exchange, exchange.id == link.c.exchange_id)
        .join(quid, quid.id == link.c.quid_id)
        .join(quo, quo.id == link.c.quo_id)
        .order_by(r.slug)
    )


def _csv_totals() -> Select[Any]:
    t = ReportedTotal.__table__
    r, stmt = _live(t, RecordType.REPORTED_TOTAL)
    source, giver, receiver = _slug(), _slug(), _slug()
    return (
        stmt.add_columns(source.slug, giver.slug, receiver.slug, _cell(t.c.kind), _cell(t.c.unit),
                         _number(t.c.value), *_date_cells(t, "period_start"), *_date_cells(t, "period_end"),
                         _cell(t.c.statement))
        .join(source, source.id == t.c.source_id)
        .join(giver, giver.id == t.c.giver_id)
        .outerjoin(receiver, receiver.id == t.c.receiver_id)
        .order_by(r.slug)
    )  # fmt: skip


def _csv_claims() -> Select[Any]:
    c = Claim.__table__
    r, stmt = _live(c, RecordType.CLAIM)
    record, source = _slug(), _slug()
    return (
        stmt.add_columns(record.slug, _cell(c.c.attribute), _cell(c.c.value), source.slug, _cell(c.c.quote),
                         _cell(c.c.rank), _cell(c.c.rank_reason), _cell(c.c.rank_author))
        .join(record, record.id == c.c.record_id)
        .join(source, source.id == c.c.source_id)
        .where(record.retracted.is_(False))
        .order_by(r.slug)
    )  # fmt: skip


def _csv_citations() -> Select[Any]:
    c = Citation.__table__
    r, stmt = _live(c, RecordType.CITATION)
    record, source = _slug(), _slug()
    return (
        stmt.add_columns(record.slug, source.slug, _cell(c.c.quote), _cell(c.c.locator), _cell(c.c.prefix),
                         _cell(c.c.suffix))
        .join(record, record.id == c.c.record_id)
        .join(source, source.id == c.c.source_id)
        .where(record.retracted.is_(False))
        .order_by(r.slug)
    )  # fmt: skip


_CSV_TABLES = {
    "source": _csv_sources, "party": _csv_parties, "alias": _csv_aliases, "concession": _csv_concessions,
    "exchange": _csv_exchanges, "link": _csv_links, "total": _csv_totals, "claim": _csv_claims,
    "citation": _csv_citations,
}  # fmt: skip


def _batches(session: Session, stmt: Select[Any]) -> Iterator[Sequence[Sequence[Any]]]:
    """Rows in batches through Core (no ORM row loading), streamed with ``yield_per``."""
    result = session.connection().execute(stmt.execution_options(yield_per=BATCH))
    yield from result.partitions()


def _with_beneficiaries(session: Session, batches: Iterator[Sequence[Sequence[Any]]]) -> Iterator[list[Any]]:
    """Concession rows with their beneficiaries cell filled in (both streams are sorted the same way)."""
    beneficiaries = _beneficiaries(session)
    pending = next(beneficiaries, None)
    at = CSV_CONCESSION_BENEFICIARIES
    for batch in batches:
        rows: list[Any] = list(batch)
        if pending is not None:
            for i, row in enumerate(rows):
                if pending is not None and pending[0] == row[0]:
                    names = []
                    while pending is not None and pending[0] == row[0]:
                        names.append(pending[1])
                        pending = next(beneficiaries, None)
                    rows[i] = (*row[:at], ";".join(names), *row[at + 1 :])
        yield rows


def csv_tables(session: Session) -> Iterator[tuple[str, Iterator[Sequence[Sequence[Any]]]]]:
    """Every live record as the rows of its CSV file, in import order: ``(type, batches of rows)``.

    Cells are text or None, in the order of ``writers.CSV_COLUMNS[type]``, not yet escaped.
    """
    for _section, kind in SECTIONS:
        batches = _batches(session, _CSV_TABLES[kind]())
        yield kind, _with_beneficiaries(session, batches) if kind == "concession" else batches


def export(session: Session, fmt: str, output: Path | None, narrow: ExportFilter = ExportFilter()) -> int:
    """Write the ledger (or the filtered part) in ``fmt`` to ``output`` (stdout when None); returns the count."""
    if fmt not in writers.FORMATS:
        raise InvalidInput(f"--format: {fmt!r} is not one of {', '.join(writers.FORMATS)}")
    if fmt == "csv":
        if output is None:
            raise InvalidInput("-o: a CSV export needs a directory or a .zip file to write to")
        if narrow.empty:
            return writers.write_csv_tables(csv_tables(session), output)
        return writers.write_csv(export_records(session, narrow), output)
    with _opened(output) as out:
        if fmt == "ftm":
            return write_ftm(export_records(session, narrow), out, interchange_context(session))
        if fmt == "plover":
            return write_plover(concession_events(session, narrow), out, interchange_context(session))
        write = {"json": writers.write_json, "jsonl": writers.write_jsonl, "markdown": writers.write_markdown}[fmt]
        return write(export_records(session, narrow), out)


@contextlib.contextmanager
def _opened(output: Path | None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    with writers.atomic_file(output) as handle:
        yield handle
