"""Read-only views for people: the balance of each exchange, the timeline, and the report's data.

Each party is counted on the side of its principal: a giver or receiver that ``acts_for`` another
party (Lukashenko for Belarus, Belavia for Belarus) counts for that party. Quantities are summed per
(kind, status, unit) in SQL; concessions without a quantity are listed by their summary.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from ledger.domain import OPEN_PROMISES, FuzzyDate, Status
from ledger.models import (
    Citation,
    Concession,
    Exchange,
    ExchangeMember,
    Party,
    Record,
    Source,
    StatusChange,
)
from ledger.ops.base import get
from ledger.schemas import fuzzy_from

TOTAL = "(total)"


def _principal() -> tuple[Any, Any, ColumnElement[int]]:
    """Aliases of the party and its principal, and the principal's id as one expression."""
    party, principal = aliased(Party, flat=True), aliased(Party, flat=True)
    return party, principal, func.coalesce(party.acts_for_id, party.id)


def _principal_id(session: Session, slug: str, field: str) -> int:
    party = get(session, Party, slug, field=field)
    return party.acts_for_id or party.id


def _concession_scope(session: Session, exchange: str | None) -> tuple[str | None, Any]:
    """The exchange slug (or None for all) and a WHERE clause on Concession for that scope."""
    live = Concession.retracted.is_(False)
    if exchange is None:
        return None, live
    exchange_id = get(session, Exchange, exchange, field="--exchange").id
    member = select(ExchangeMember.concession_id).where(ExchangeMember.exchange_id == exchange_id)
    return exchange, live & Concession.id.in_(member)


@dataclass(frozen=True)
class BalanceLine:
    """What one side gave (or received) in one exchange, for one kind and status."""

    exchange: str
    side: str
    side_name: str
    direction: str
    kind: str
    status: str
    quantity: int | None
    unit: str | None
    concessions: list[str]
    items: list[str]

    def text(self) -> str:
        """``123 person prisoner release (delivered)`` or ``potash sanctions relief (delivered)``."""
        kind = self.kind.replace("_", " ")
        parts = [f"{self.quantity} {self.unit} {kind} ({self.status})"] if self.quantity is not None else []
        parts += [f"{item} ({self.status})" for item in self.items]
        return ", ".join(parts)


def balance(session: Session, *, exchange: str | None = None, party: str | None = None) -> dict[str, Any]:
    """Per exchange and in total: what each side gave and received, and its outstanding promises."""
    rows = _balance_rows(session, exchange)
    focus = _principal_id(session, party, "--party") if party else None
    lines: list[BalanceLine] = []
    for scope in [exchange] if exchange else [*sorted({r["exchange"] for r in rows if r["exchange"]}), None]:
        chosen = [r for r in rows if r["exchange"] == scope] if scope else _distinct(rows)
        for direction, key in (("gave", "giver"), ("received", "receiver")):
            lines += _group(chosen, scope or TOTAL, direction, key, focus)
    in_exchanges: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        if r["exchange"]:
            in_exchanges[r["id"]].append(r["exchange"])
    outstanding = [
        {"side": r["giver"], "side_name": r["giver_name"], "id": r["id"], "summary": r["summary"],
         "status": r["status"], "due": r["due"], "exchanges": sorted(in_exchanges[r["id"]])}
        for r in _distinct(rows)
        if Status(r["status"]) in OPEN_PROMISES and (focus is None or r["giver_pid"] == focus)
    ]  # fmt: skip
    titles = dict(session.execute(select(Exchange.slug, Exchange.title)).all())
    return {"lines": lines, "outstanding": outstanding, "titles": titles}


def _distinct(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each concession once, whatever the number of exchanges it is in."""
    return list({r["id"]: r for r in rows}.values())


def _group(rows: list[dict[str, Any]], scope: str, direction: str, key: str, focus: int | None) -> list[BalanceLine]:
    groups: dict[tuple[int, str, str, str | None], list[dict[str, Any]]] = defaultdict(list)
    names: dict[int, tuple[str, str]] = {}
    for r in rows:
        pid = r[f"{key}_pid"]
        if focus is not None and pid != focus:
            continue
        names[pid] = (r[key], r[f"{key}_name"])
        groups[(pid, r["kind"], r["status"], r["unit"] if r["quantity"] is not None else None)].append(r)
    out = []
    for (pid, kind, status, unit), members in sorted(groups.items(), key=lambda g: _line_order(names, *g[0])):
        amounts = [m["quantity"] for m in members if m["quantity"] is not None]
        out.append(
            BalanceLine(
                scope, names[pid][0], names[pid][1], direction, kind, status, sum(amounts) if amounts else None,
                unit, [m["id"] for m in members], [m["summary"] for m in members if m["quantity"] is None],
            )
        )  # fmt: skip
    return out


_STATUS_ORDER = {s.value: i for i, s in enumerate(Status)}


def _line_order(names: dict[int, tuple[str, str]], pid: int, kind: str, status: str, unit: str | None) -> Any:
    return (names[pid][1], _STATUS_ORDER[status], kind, unit or "")


def _balance_rows(session: Session, exchange: str | None) -> list[dict[str, Any]]:
    """One row per (concession, exchange it is in), with giver and receiver principals; one query."""
    _, where = _concession_scope(session, exchange)
    giver, giver_p, giver_pid = _principal()
    receiver, receiver_p, receiver_pid = _principal()
    exchange_record = aliased(Record)
    stmt = (
        select(
            Concession.slug, Concession.kind, Concession.status, Concession.quantity, Concession.unit,
            Concession.summary, Concession.due_text, Concession.due_on, Concession.due_precision,
            giver_pid, giver_p.slug, giver_p.name, receiver_pid, receiver_p.slug, receiver_p.name,
            exchange_record.slug,
        )
        .select_from(Concession)
        .join(giver, giver.id == Concession.giver_id)
        .join(giver_p, giver_p.id == giver_pid)
        .join(receiver, receiver.id == Concession.receiver_id)
        .join(receiver_p, receiver_p.id == receiver_pid)
        .outerjoin(ExchangeMember, ExchangeMember.concession_id == Concession.id)
        .outerjoin(exchange_record, exchange_record.id == ExchangeMember.exchange_id)
        .where(where)
        .order_by(Concession.slug)
    )  # fmt: skip
    if exchange is not None:
        stmt = stmt.where(exchange_record.slug == exchange)
    keys = ("id", "kind", "status", "quantity", "unit", "summary", "due_text", "due_on", "due_precision",
            "giver_pid", "giver", "giver_name", "receiver_pid", "receiver", "receiver_name", "exchange")  # fmt: skip
    rows = []
    for values in session.execute(stmt):
        row = dict(zip(keys, values, strict=True))
        row["status"] = Status(row["status"]).value
        row["due"] = fuzzy_from(row.pop("due_text"), row.pop("due_on"), row.pop("due_precision")).describe()
        rows.append(row)
    return rows


# --- timeline ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One dated thing on the timeline: a concession, a change of its status, or a source's publication."""

    date: FuzzyDate
    what: str
    record: str
    party: str | None
    status: str | None
    text: str

    def as_row(self) -> dict[str, Any]:
        """The event as a plain row for the renderers."""
        return {
            "date": self.date.describe(), "start": self.date.start, "end": self.date.end,
            "precision": self.date.precision.value, "what": self.what, "record": self.record,
            "party": self.party, "status": self.status, "text": self.text,
        }  # fmt: skip


def timeline(
    session: Session, *, exchange: str | None = None, since: FuzzyDate | None = None, until: FuzzyDate | None = None
) -> list[Event]:
    """Concessions, status changes and source publications, ordered by date range (unknown dates last).

    With ``since``/``until``, an event is kept when its date range may overlap the period; events with
    unknown dates are then left out, since they cannot be placed in it.
    """
    _, where = _concession_scope(session, exchange)
    events = _concession_events(session, where) + _status_events(session, where)
    events += _source_events(session, where if exchange else None)
    if since is not None or until is not None:
        low = since.start if since is not None and since.start else dt.date.min
        high = until.end if until is not None and until.end else dt.date.max
        events = [e for e in events if e.date.start and e.date.end and e.date.end >= low and e.date.start <= high]
    return sorted(events, key=lambda e: (e.date.sort_key(), _ORDER[e.what], e.record))


_ORDER = {"source": 0, "concession": 1, "status": 2}


def _first_changes() -> Any:
    """Subquery: the first status change of each concession (the status it was recorded with)."""
    return (
        select(StatusChange.concession_id, func.min(StatusChange.id).label("first_id"))
        .group_by(StatusChange.concession_id)
        .subquery()
    )


def _concession_events(session: Session, where: Any) -> list[Event]:
    """Each concession at its own date, with the status it was first recorded in."""
    giver, _, _ = _principal()
    first = _first_changes()
    initial = aliased(StatusChange)
    rows = session.execute(
        select(Concession.slug, Concession.summary, func.coalesce(initial.status, Concession.status),
               Concession.date_text, Concession.date_on, Concession.date_precision, giver.name)
        .select_from(Concession).join(giver, giver.id == Concession.giver_id)
        .outerjoin(first, first.c.concession_id == Concession.id)
        .outerjoin(initial, initial.id == first.c.first_id)
        .where(where)
    )  # fmt: skip
    return [
        Event(fuzzy_from(text, on, precision), "concession", slug, name, Status(status).value, summary)
        for slug, summary, status, text, on, precision, name in rows
    ]


def _status_events(session: Session, where: Any) -> list[Event]:
    """Every change after the first (the first is the concession's own entry)."""
    first = _first_changes()
    giver, _, _ = _principal()
    rows = session.execute(
        select(Concession.slug, StatusChange.status, StatusChange.date_text, StatusChange.date_on,
               StatusChange.date_precision, giver.name)
        .select_from(StatusChange)
        .join(Concession, Concession.id == StatusChange.concession_id)
        .join(giver, giver.id == Concession.giver_id)
        .join(first, first.c.concession_id == StatusChange.concession_id)
        .where(where, StatusChange.id != first.c.first_id)
    )  # fmt: skip
    return [
        Event(fuzzy_from(text, on, precision), "status", slug, name, Status(status).value, f"{slug} is now {status}")
        for slug, status, text, on, precision, name in rows
    ]


def _source_events(session: Session, where: Any | None) -> list[Event]:
    """Sources (all of them, or those cited by a concession in scope)."""
    stmt = select(Source.slug, Source.title, Source.publisher, Source.published_text, Source.published_on,
                  Source.published_precision).where(Source.retracted.is_(False))  # fmt: skip
    if where is not None:
        citations = Citation.__table__
        in_scope = select(Concession.id).where(where).scalar_subquery()
        stmt = stmt.where(Source.id.in_(select(citations.c.source_id).where(citations.c.record_id.in_(in_scope))))
    return [
        Event(fuzzy_from(text, on, precision), "source", slug, publisher, None, title)
        for slug, title, publisher, text, on, precision in session.execute(stmt)
    ]


# --- the report's data ---------------------------------------------------------------------------


def report_data(session: Session) -> dict[str, Any]:
    """Everything the report shows, as plain rows: parties, concessions, exchanges with links, balance, sources."""
    from dataclasses import asdict

    from ledger.ops.queries import (
        ConcessionFilter,
        list_aliases,
        list_concessions,
        list_exchanges,
        list_parties,
        list_sources,
        list_totals,
    )

    parties = list_parties(session)
    principal = {p["id"]: p["acts_for"] or p["id"] for p in parties}
    concessions = list_concessions(session, ConcessionFilter())
    for c in concessions:
        c["giver_side"], c["receiver_side"] = principal.get(c["giver"], c["giver"]), principal.get(c["receiver"])
    links = _links(session)
    exchanges = list_exchanges(session)
    for x in exchanges:
        x["links"] = [link for link in links if link["exchange"] == x["id"]]
    summaries = dict(session.execute(select(Exchange.slug, Exchange.summary)).all())
    for x in exchanges:
        x["summary"] = summaries.get(x["id"])
    result = balance(session)
    sources = list_sources(session)
    quotes = _quotes(session)
    for s in sources:
        s["quotes"] = quotes.get(s["id"], [])
    return {
        "parties": parties, "concessions": concessions, "exchanges": exchanges, "sources": sources,
        "aliases": list_aliases(session), "totals": list_totals(session),
        "balance": {"lines": [asdict(x) | {"text": x.text()} for x in result["lines"]],
                    "outstanding": result["outstanding"], "titles": result["titles"]},
    }  # fmt: skip


def _links(session: Session) -> list[dict[str, Any]]:
    from ledger.models import Link

    quid, quo, exchange = aliased(Record), aliased(Record), aliased(Record)
    rows = session.execute(
        select(Link.slug, exchange.slug, quid.slug, quo.slug, Link.basis, Link.reason)
        .join(quid, quid.id == Link.quid_id).join(quo, quo.id == Link.quo_id)
        .join(exchange, exchange.id == Link.exchange_id)
        .where(Link.retracted.is_(False)).order_by(Link.slug)
    )  # fmt: skip
    return [
        {"id": s, "exchange": x, "quid": a, "quo": b, "basis": basis.value, "reason": reason}
        for s, x, a, b, basis, reason in rows
    ]


def _quotes(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Each source's live citations: the record each backs, the quote and where it stands."""
    citations, source, cited = Citation.__table__, aliased(Record), aliased(Record)
    citation = aliased(Record)
    rows = session.execute(
        select(source.slug, cited.slug, cited.type, citations.c.quote, citations.c.locator)
        .select_from(citations)
        .join(citation, citation.id == citations.c.id)
        .join(source, source.id == citations.c.source_id)
        .join(cited, cited.id == citations.c.record_id)
        .where(citation.retracted.is_(False))
    )
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for source_slug, record, record_type, quote, locator in sorted(rows, key=_natural):
        out[source_slug].append(
            {"record": record, "record_type": record_type.value, "quote": quote, "locator": locator}
        )
    return out


def _natural(row: Any) -> tuple[Any, ...]:
    """Source, then locator with its numbers compared as numbers ("line 2" before "line 10"), then record."""
    import re

    locator = row[4] or ""
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", locator))
    return (row[0], parts, row[1])
