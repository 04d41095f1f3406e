"""Read-only queries behind `ledger list` and `ledger show`: plain rows (dicts) for the renderers."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from ledger.domain import Precision
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
    JournalEntry,
    Link,
    Party,
    Record,
    ReportedTotal,
    Source,
    StatusChange,
)
from ledger.ops.base import get
from ledger.ops.concession_list import ConcessionFilter as ConcessionFilter  # re-exported: the general path's filters
from ledger.ops.concession_list import date_row
from ledger.ops.evidence import concession_evidence, mark_in_use, values_in_use

# Dates are built by date_row rather than through ledger.schemas: listing must not pay for the pydantic models.
_date = date_row


def citations_of(session: Session, record_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Live citations of each record: source ID, title, quote, locator."""
    source, sources = aliased(Record), Source.__table__
    rows = session.execute(
        select(
            Citation.record_id,
            Citation.slug,
            source.slug,
            sources.c.title,
            Citation.quote,
            Citation.locator,
            Citation.prefix,
            Citation.suffix,
        )
        .join(sources, sources.c.id == Citation.source_id)
        .join(source, source.id == sources.c.id)
        .where(Citation.record_id.in_(record_ids), Citation.retracted.is_(False))
        .order_by(Citation.record_id, source.slug, Citation.slug)
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for record_id, slug, source_slug, title, quote, locator, prefix, suffix in rows:
        out[record_id].append(
            {"id": slug, "source": source_slug, "source_title": title, "quote": quote, "locator": locator,
             "prefix": prefix, "suffix": suffix}
        )  # fmt: skip
    return out


def _exchange_info(session: Session, ids: list[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    exchange = aliased(Record)
    members: dict[int, list[str]] = defaultdict(list)
    for concession_id, slug in session.execute(
        select(ExchangeMember.concession_id, exchange.slug)
        .join(exchange, exchange.id == ExchangeMember.exchange_id)
        .where(ExchangeMember.concession_id.in_(ids))
        .order_by(exchange.slug)
    ):
        members[concession_id].append(slug)
    quid, quo = aliased(Record), aliased(Record)
    rows = session.execute(
        select(Link.quid_id, Link.quo_id, quid.slug, quo.slug)
        .join(quid, quid.id == Link.quid_id).join(quo, quo.id == Link.quo_id)
        .where(Link.retracted.is_(False), Link.basis != "denied", or_(Link.quid_id.in_(ids), Link.quo_id.in_(ids)))
    )  # fmt: skip
    counterparts: dict[int, set[str]] = defaultdict(set)
    for quid_id, quo_id, quid_slug, quo_slug in rows:
        counterparts[quid_id].add(quo_slug)
        counterparts[quo_id].add(quid_slug)
    return members, {k: sorted(v) for k, v in counterparts.items()}


def _concession_select(session: Session, f: ConcessionFilter) -> Any:
    giver, receiver = aliased(Party, flat=True), aliased(Party, flat=True)
    stmt = (
        select(Concession, giver.slug, giver.name, receiver.slug, receiver.name, ConcessionKindRow.cameo_code)
        .join(giver, giver.id == Concession.giver_id)
        .join(receiver, receiver.id == Concession.receiver_id)
        .join(ConcessionKindRow, ConcessionKindRow.kind == Concession.kind)
        .order_by(Concession.date_on.is_(None), Concession.date_on, Concession.slug)
    )
    if not f.include_retracted:
        stmt = stmt.where(Concession.retracted.is_(False))
    if f.kind:
        stmt = stmt.where(Concession.kind == f.kind)
    if f.status:
        stmt = stmt.where(Concession.status == f.status)
    if f.giver:
        stmt = stmt.where(Concession.giver_id == get(session, Party, f.giver, field="--giver").id)
    if f.receiver:
        stmt = stmt.where(Concession.receiver_id == get(session, Party, f.receiver, field="--receiver").id)
    if f.unpaired:
        stmt = stmt.where(~select(ExchangeMember.id).where(ExchangeMember.concession_id == Concession.id).exists())
    if f.since is not None and f.since.start is not None:
        # A concession whose (possibly fuzzy) date may fall on or after the start of --since.
        stmt = stmt.where(_may_end_on_or_after(Concession.date_on, Concession.date_precision, f.since.start))
    if f.until is not None and f.until.end is not None:
        stmt = stmt.where(Concession.date_on.is_not(None), Concession.date_on <= f.until.end)
    if f.limit is not None:
        stmt = stmt.limit(f.limit)
    return stmt


def _may_end_on_or_after(start: Any, precision: Any, day: dt.date) -> Any:
    """SQL: the stored fuzzy date may stand for ``day`` or later (its range ends on or after it)."""
    return or_(
        start >= day,
        and_(precision == Precision.MONTH, start >= day.replace(day=1)),
        and_(precision == Precision.YEAR, start >= day.replace(month=1, day=1)),
    )


def list_concessions(session: Session, f: ConcessionFilter) -> list[dict[str, Any]]:
    """Concessions with parties, dates, exchange, counterparts and citations."""
    rows = session.execute(_concession_select(session, f)).all()
    ids = [row[0].id for row in rows]
    citations = citations_of(session, ids)
    members, counterparts = _exchange_info(session, ids)
    evidence = concession_evidence(session, [row[0] for row in rows])
    out = []
    for c, giver, giver_name, receiver, receiver_name, cameo in rows:
        out.append(
            {
                "id": c.slug, "giver": giver, "giver_name": giver_name, "receiver": receiver,
                "receiver_name": receiver_name, "kind": c.kind, "cameo_code": cameo, "summary": c.summary,
                "quantity": c.quantity, "unit": c.unit, "status": c.status.value,
                "date": _date(c.date_text, c.date_on, c.date_precision),
                "exchanges": members.get(c.id, []), "counterparts": counterparts.get(c.id, []),
                "retracted": c.retracted, **evidence[c.id], "citations": citations.get(c.id, []),
            }
        )  # fmt: skip
    return out


def _slugs(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Record.id, Record.slug).where(Record.id.in_(ids))).all())


def list_parties(session: Session, include_retracted: bool = False) -> list[dict[str, Any]]:
    """Parties with the party each acts for and their aliases."""
    parties = session.execute(select(Party).order_by(Party.slug)).scalars().all()
    slugs = _slugs(session, {p.acts_for_id for p in parties if p.acts_for_id})
    aliases: dict[int, list[str]] = defaultdict(list)
    for party_id, name in session.execute(
        select(Alias.party_id, Alias.name).where(Alias.retracted.is_(False)).order_by(Alias.name)
    ):
        aliases[party_id].append(name)
    return [
        {"id": p.slug, "name": p.name, "kind": p.kind.value, "acts_for": slugs.get(p.acts_for_id or 0),
         "aliases": aliases.get(p.id, []), "retracted": p.retracted}
        for p in parties
        if include_retracted or not p.retracted
    ]  # fmt: skip


def list_sources(session: Session, include_retracted: bool = False) -> list[dict[str, Any]]:
    """Sources with what they relay and how many citations use them."""
    counts = dict(
        session.execute(
            select(Citation.source_id, func.count()).where(Citation.retracted.is_(False)).group_by(Citation.source_id)
        ).all()
    )
    sources = session.execute(select(Source).order_by(Source.slug)).scalars().all()
    slugs = _slugs(session, {s.relays_id for s in sources if s.relays_id})
    return [
        {"id": s.slug, "title": s.title, "publisher": s.publisher, "url": s.url,
         "published": _date(s.published_text, s.published_on, s.published_precision),
         "relays": slugs.get(s.relays_id or 0), "sha256": s.snapshot_sha256, "length": s.snapshot_length,
         "snapshot": _snapshot_kind(s), "retrieved_at": s.retrieved_at, "citations": counts.get(s.id, 0),
         "retracted": s.retracted}
        for s in sources
        if include_retracted or not s.retracted
    ]  # fmt: skip


def _snapshot_kind(source: Source) -> str | None:
    """``text``, ``hash only`` or None: what the ledger keeps of a source's document."""
    if source.snapshot_text is not None:
        return "text"
    return "hash only" if source.snapshot_sha256 is not None else None


def list_exchanges(session: Session, include_retracted: bool = False) -> list[dict[str, Any]]:
    """Exchanges with what each side gave and how the links are based."""
    exchanges = session.execute(select(Exchange).order_by(Exchange.slug)).scalars().all()
    side_party, concession = aliased(Record), aliased(Record)
    gave: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    rows = session.execute(
        select(ExchangeMember.exchange_id, side_party.slug, concession.slug, Concession.status)
        .join(ExchangeSide, ExchangeSide.id == ExchangeMember.side_id)
        .join(side_party, side_party.id == ExchangeSide.party_id)
        .join(Concession, Concession.id == ExchangeMember.concession_id)
        .join(concession, concession.id == Concession.id)
        .order_by(side_party.slug, concession.slug)
    )
    for exchange_id, side, slug, status in rows:
        gave[exchange_id][side].append(f"{slug} ({status.value})")
    bases: dict[int, list[str]] = defaultdict(list)
    for exchange_id, basis, n in session.execute(
        select(Link.exchange_id, Link.basis, func.count())
        .where(Link.retracted.is_(False))
        .group_by(Link.exchange_id, Link.basis)
    ):
        bases[exchange_id].append(f"{n} {basis.value}")
    return [
        {"id": x.slug, "title": x.title, "sides": dict(gave[x.id].items()),
         "links": ", ".join(sorted(bases[x.id])), "retracted": x.retracted}
        for x in exchanges
        if include_retracted or not x.retracted
    ]  # fmt: skip


def list_totals(session: Session, include_retracted: bool = False) -> list[dict[str, Any]]:
    """Reported totals as their sources state them."""
    totals = session.execute(select(ReportedTotal).order_by(ReportedTotal.slug)).scalars().all()
    slugs = _slugs(session, {t.source_id for t in totals} | {t.giver_id for t in totals})
    return [
        {"id": t.slug, "source": slugs[t.source_id], "giver": slugs[t.giver_id], "kind": t.kind, "value": t.value,
         "unit": t.unit, "since": _date(t.period_start_text, t.period_start_on, t.period_start_precision),
         "until": _date(t.period_end_text, t.period_end_on, t.period_end_precision), "retracted": t.retracted}
        for t in totals
        if include_retracted or not t.retracted
    ]  # fmt: skip


def list_claims(session: Session, include_retracted: bool = False) -> list[dict[str, Any]]:
    """Claims: one source's value for one attribute of one record."""
    claims = session.execute(select(Claim).order_by(Claim.record_id, Claim.attribute, Claim.slug)).scalars().all()
    slugs = _slugs(session, {c.record_id for c in claims} | {c.source_id for c in claims})
    rows = [
        {"id": c.slug, "record": slugs[c.record_id], "attribute": c.attribute, "value": c.value,
         "source": slugs[c.source_id], "rank": c.rank.value, "rank_reason": c.rank_reason,
         "rank_author": c.rank_author, "retracted": c.retracted}
        for c in claims
    ]  # fmt: skip
    return [c for c in mark_in_use(rows) if include_retracted or not c["retracted"]]


def list_aliases(session: Session, include_retracted: bool = False) -> list[dict[str, Any]]:
    """Aliases with the party they name and the source that used them."""
    aliases = session.execute(select(Alias).order_by(Alias.party_id, Alias.name)).scalars().all()
    slugs = _slugs(session, {a.party_id for a in aliases} | {a.source_id for a in aliases if a.source_id})
    return [
        {"id": a.slug, "party": slugs[a.party_id], "name": a.name, "source": slugs.get(a.source_id or 0),
         "script": a.script, "retracted": a.retracted}
        for a in aliases
        if include_retracted or not a.retracted
    ]  # fmt: skip


LISTS = {
    "parties": list_parties,
    "sources": list_sources,
    "exchanges": list_exchanges,
    "totals": list_totals,
    "claims": list_claims,
    "aliases": list_aliases,
}


# --- show ----------------------------------------------------------------------------------------

_DATE_PREFIXES = ("date", "due", "announced", "effective", "expires", "published", "period_start", "period_end")


def _columns(session: Session, obj: Record) -> dict[str, Any]:
    """Every stored field of a record, foreign keys as IDs and fuzzy dates as one value each."""
    values: dict[str, Any] = {"id": obj.slug, "type": obj.type.value}
    fks: dict[str, int] = {}
    for column in obj.__mapper__.columns:
        key = column.key
        if key in ("id", "slug", "type", "created_seq") or any(
            key == f"{p}_on" or key == f"{p}_precision" for p in _DATE_PREFIXES
        ):
            continue
        value = getattr(obj, key)
        prefix = next((p for p in _DATE_PREFIXES if key == f"{p}_text"), None)
        if prefix is not None and (value is not None or getattr(obj, f"{prefix}_on") is not None or prefix == "date"):
            values[prefix] = _date(value, getattr(obj, f"{prefix}_on"), getattr(obj, f"{prefix}_precision"))
        elif prefix is not None:
            continue
        elif key.endswith("_id") and value is not None:
            fks[key.removesuffix("_id")] = value
        elif key.endswith("_id"):
            values[key.removesuffix("_id")] = None
        else:
            values[key] = value.value if hasattr(value, "value") else value
    slugs = _slugs(session, set(fks.values()))
    values.update({k: slugs.get(v) for k, v in fks.items()})
    return values


def show(session: Session, slug: str) -> dict[str, Any]:
    """One record with its citations, claims and, for a concession, its exchange, counterparts and history."""
    record = get(session, Record, slug, field="ID")
    detail = _columns(session, record)
    detail["citations"] = citations_of(session, [record.id]).get(record.id, [])
    detail["claims"] = [c for c in list_claims(session, include_retracted=True) if c["record"] == slug]
    if detail["claims"]:
        detail["values_in_use"] = values_in_use(detail["claims"])
    if isinstance(record, Source) and record.snapshot_text is not None:
        detail["snapshot_text"] = f"{len(record.snapshot_text)} characters kept (the quotes check reads them)"
    if isinstance(record, Concession):
        detail.update(_concession_extra(session, record))
    if isinstance(record, Exchange):
        detail["sides"] = next((x["sides"] for x in list_exchanges(session, True) if x["id"] == slug), {})
        detail["links"] = _links_of(session, Link.exchange_id == record.id)
    if isinstance(record, Party):
        detail["aliases"] = [a for a in list_aliases(session, True) if a["party"] == slug]
    detail["journal_entries"] = session.execute(
        select(func.count()).select_from(JournalEntry).where(JournalEntry.record_slug == slug)
    ).scalar_one()
    return detail


def _concession_extra(session: Session, c: Concession) -> dict[str, Any]:
    members, counterparts = _exchange_info(session, [c.id])
    source = aliased(Record)
    beneficiaries = session.execute(
        select(Party.slug, Party.name).select_from(Beneficiary).join(Party, Party.id == Beneficiary.party_id)
        .where(Beneficiary.concession_id == c.id).order_by(Party.slug)
    ).all()  # fmt: skip
    history = session.execute(
        select(StatusChange, source.slug).outerjoin(source, source.id == StatusChange.source_id)
        .where(StatusChange.concession_id == c.id).order_by(StatusChange.id)
    ).all()  # fmt: skip
    named = len(beneficiaries)
    roster = f"{named} named of {c.quantity}" if c.quantity is not None else f"{named} named"
    return {
        "exchanges": members.get(c.id, []),
        "counterparts": counterparts.get(c.id, []),
        "links": _links_of(session, or_(Link.quid_id == c.id, Link.quo_id == c.id)),
        "beneficiaries": [{"id": s, "name": n} for s, n in beneficiaries],
        "roster": roster,
        "renewed_by": concession_evidence(session, [c])[c.id]["renewed_by"],
        "status_history": [
            {"status": h.status.value, "date": _date(h.date_text, h.date_on, h.date_precision), "source": src}
            for h, src in history
        ],
    }


def _links_of(session: Session, condition: Any) -> list[dict[str, Any]]:
    quid, quo = aliased(Record), aliased(Record)
    rows = session.execute(
        select(Link.slug, quid.slug, quo.slug, Link.basis, Link.reason, Link.retracted)
        .join(quid, quid.id == Link.quid_id).join(quo, quo.id == Link.quo_id).where(condition).order_by(Link.slug)
    )  # fmt: skip
    return [
        {"id": s, "quid": a, "quo": b, "basis": basis.value, "reason": reason, "retracted": retracted}
        for s, a, b, basis, reason, retracted in rows
    ]
