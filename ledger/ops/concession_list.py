"""`ledger list` of concessions through the database driver alone (``sqlite3``, or psycopg on PostgreSQL).

A new ``ledger list`` process spends about 0.35 s of CPU importing SQLAlchemy, its ORM and mapping the
models before it asks anything; the page itself takes milliseconds. On a SQLite ledger this module
answers the same question with the same rows (``ledger.ops.queries.list_concessions`` is the general
path, and the one PostgreSQL uses): the page query with its filters, then the citations, exchanges,
counterparts and evidence of the concessions on it. The statements are fixed text with ``?``/``:name``
parameters (no value is ever written into SQL); which WHERE conditions a page uses depends only on which
filters are set. ``tests/test_list_fast_path.py`` checks that both paths return equal rows on random
ledgers, for every filter, and that the default page walks the date index.

The same statements run on PostgreSQL through psycopg (``tests/test_list_postgresql.py`` compares that
route with the general path on a real server, in every output format); what differs between the two
drivers is spelled out in ``_Driver`` below and nowhere else.

``list_concessions`` returns None when it cannot answer exactly as the general path would (the named
giver or receiver does not exist: the general path says so, with suggestions).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.domain import FuzzyDate, Precision, Status


@dataclass(frozen=True)
class ConcessionFilter:
    """What `ledger list` narrows concessions to; empty fields do not filter."""

    kind: str | None = None
    giver: str | None = None
    receiver: str | None = None
    status: Status | None = None
    unpaired: bool = False
    since: FuzzyDate | None = None
    until: FuzzyDate | None = None
    include_retracted: bool = False
    limit: int | None = None


def date_row(text: str | None, value: dt.date | None, precision: str) -> dict[str, Any]:
    """A fuzzy date as listings show it: text, ISO value to its precision, precision, description."""
    fuzzy = FuzzyDate(text=text, value=value, precision=Precision(precision))
    return {"text": fuzzy.text, "value": fuzzy.iso(), "precision": fuzzy.precision.value, "shown": fuzzy.describe()}


def optional_date_row(text: str | None, value: dt.date | None, precision: str) -> dict[str, Any] | None:
    """``date_row``, or None when the record has neither text nor value for this date."""
    return None if text is None and value is None else date_row(text, value, precision)


_PAGE = """
SELECT c.id, r.slug, gr.slug, g.name, rr.slug, rc.name, k.cameo_code, c.kind, c.summary, c.quantity, c.unit,
       c.status, c.date_text, c.date_on, c.date_precision, r.retracted,
       c.conditions, c.expires_text, c.expires_on, c.expires_precision, c.renews_id, c.instrument, c.authority,
       c.programme, c.instrument_ref, c.announced_text, c.announced_on, c.announced_precision,
       c.effective_text, c.effective_on, c.effective_precision, c.release_form, c.destination
  FROM concessions c JOIN records r ON r.id = c.id
  JOIN parties g ON g.id = c.giver_id JOIN records gr ON gr.id = g.id
  JOIN parties rc ON rc.id = c.receiver_id JOIN records rr ON rr.id = rc.id
  JOIN concession_kinds k ON k.kind = c.kind
 WHERE {conditions}
 ORDER BY c.date_on IS NULL, c.date_on, r.slug
 LIMIT :limit"""
#: The WHERE condition of each filter, by the name of its field in ConcessionFilter.
_CONDITIONS = {
    "live": "NOT r.retracted",
    "kind": "c.kind = :kind",
    "status": "c.status = :status",
    "giver": "c.giver_id = :giver",
    "receiver": "c.receiver_id = :receiver",
    "unpaired": "NOT EXISTS (SELECT 1 FROM exchange_members m WHERE m.concession_id = c.id)",
    # A concession whose (possibly fuzzy) date may fall on or after the start of --since.
    "since": "(c.date_on >= :since OR (c.date_precision = 'month' AND c.date_on >= :since_month)"
    " OR (c.date_precision = 'year' AND c.date_on >= :since_year))",
    "until": "c.date_on IS NOT NULL AND c.date_on <= :until",
}
_PARTY = "SELECT p.id FROM parties p JOIN records r ON r.id = p.id WHERE r.slug = ?"
_CITATIONS = """
SELECT ci.record_id, cr.slug, sr.slug, s.title, ci.quote, ci.locator, ci.prefix, ci.suffix
  FROM citations ci JOIN records cr ON cr.id = ci.id
  JOIN sources s ON s.id = ci.source_id JOIN records sr ON sr.id = s.id
 WHERE ci.record_id IN ({ids}) AND NOT cr.retracted
 ORDER BY ci.record_id, sr.slug, cr.slug"""
_MEMBERS = """
SELECT m.concession_id, xr.slug FROM exchange_members m JOIN records xr ON xr.id = m.exchange_id
 WHERE m.concession_id IN ({ids}) ORDER BY xr.slug"""
_COUNTERPARTS = """
SELECT l.quid_id, l.quo_id, qr.slug, pr.slug FROM links l JOIN records lr ON lr.id = l.id
  JOIN records qr ON qr.id = l.quid_id JOIN records pr ON pr.id = l.quo_id
 WHERE NOT lr.retracted AND l.basis != 'denied' AND (l.quid_id IN ({ids}) OR l.quo_id IN ({ids}))"""
_NAMED = "SELECT concession_id, count(*) FROM beneficiaries WHERE concession_id IN ({ids}) GROUP BY concession_id"
_RENEWED_BY = """
SELECT c.renews_id, r.slug FROM concessions c JOIN records r ON r.id = c.id
 WHERE c.renews_id IN ({ids}) AND NOT r.retracted ORDER BY r.slug"""
_SLUGS = "SELECT id, slug FROM records WHERE id IN ({ids})"
#: IDs per ``IN (...)`` list: well under SQLite's limit on parameters.
_CHUNK = 500


@dataclass(frozen=True)
class _Driver:
    """What differs between sqlite3 and psycopg for the statements above (written for sqlite3)."""

    #: psycopg writes parameters as ``%(name)s`` and ``%s`` where sqlite3 takes ``:name`` and ``?``.
    pyformat: bool
    #: sqlite3 takes a date as its stored ISO text; psycopg sends a ``datetime.date``.
    dates_as_text: bool
    #: "No limit": ``LIMIT -1`` on SQLite, ``LIMIT NULL`` on PostgreSQL (which refuses a negative one).
    no_limit: int | None

    def sql(self, text: str) -> str:
        """The statement in this driver's parameter style (the statements hold no ``%``, ``?`` or ``:``
        other than their parameters)."""
        if not self.pyformat:
            return text
        return re.sub(r":([a-z_]+)", r"%(\1)s", text).replace("?", "%s")

    def day(self, value: dt.date) -> str | dt.date:
        """A date parameter."""
        return value.isoformat() if self.dates_as_text else value


SQLITE = _Driver(pyformat=False, dates_as_text=True, no_limit=-1)
POSTGRESQL = _Driver(pyformat=True, dates_as_text=False, no_limit=None)


def _driver(connection: Any) -> _Driver:
    return SQLITE if isinstance(connection, sqlite3.Connection) else POSTGRESQL


def page_statement(connection: Any, f: ConcessionFilter) -> tuple[str, dict[str, Any]] | None:
    """The page query and its parameters for these filters, for ``connection``'s driver (sqlite3 or
    psycopg); None when a named party does not exist."""
    driver = _driver(connection)
    params: dict[str, Any] = {"limit": driver.no_limit if f.limit is None else f.limit}
    used = [] if f.include_retracted else ["live"]
    for name, value in (("kind", f.kind), ("status", f.status)):
        if value:
            used.append(name)
            params[name] = str(value)
    for name, slug in (("giver", f.giver), ("receiver", f.receiver)):
        if slug:
            found = connection.execute(driver.sql(_PARTY), (slug,)).fetchone()
            if found is None:
                return None
            used.append(name)
            params[name] = found[0]
    if f.unpaired:
        used.append("unpaired")
    if f.since is not None and f.since.start is not None:
        day = f.since.start
        used.append("since")
        params |= {"since": driver.day(day), "since_month": driver.day(day.replace(day=1)),
                   "since_year": driver.day(day.replace(month=1, day=1))}  # fmt: skip
    if f.until is not None and f.until.end is not None:
        used.append("until")
        params["until"] = driver.day(f.until.end)
    conditions = " AND ".join(_CONDITIONS[name] for name in used) or "TRUE"
    return driver.sql(_PAGE.format(conditions=conditions)), params


def list_concessions(connection: Any, f: ConcessionFilter) -> list[dict[str, Any]] | None:
    """Concessions with parties, dates, exchanges, counterparts, evidence and citations, as
    ``ledger.ops.queries.list_concessions`` gives them; None when the general path must answer.
    ``connection``: a read-only ``sqlite3`` connection or a psycopg one (``ledger.db.read_connection``)."""
    statement = page_statement(connection, f)
    if statement is None:
        return None
    rows = connection.execute(*statement).fetchall()
    ids = [row[0] for row in rows]
    citations = _citations(connection, ids)
    members, counterparts = _exchange_info(connection, ids)
    named = dict(_each(connection, _NAMED, ids))
    renewed_by: dict[int, list[str]] = defaultdict(list)
    for renews_id, slug in _each(connection, _RENEWED_BY, ids):
        renewed_by[renews_id].append(slug)
    renews = dict(_each(connection, _SLUGS, sorted({row[20] for row in rows if row[20] is not None})))
    return [_row(row, citations, members, counterparts, named, renewed_by, renews) for row in rows]


def _row(
    row: Sequence[Any],
    citations: dict[int, list[dict[str, Any]]],
    members: dict[int, list[str]],
    counterparts: dict[int, list[str]],
    named: dict[int, int],
    renewed_by: dict[int, list[str]],
    renews: dict[int, str],
) -> dict[str, Any]:
    # fmt: off
    (id_, slug, giver, giver_name, receiver, receiver_name, cameo, kind, summary, quantity, unit, status,
     date_text, date_on, date_precision, retracted, conditions, expires_text, expires_on, expires_precision,
     renews_id, instrument, authority, programme, instrument_ref, announced_text, announced_on,
     announced_precision, effective_text, effective_on, effective_precision, release_form, destination) = row
    # fmt: on
    count = named.get(id_, 0)
    return {
        "id": slug, "giver": giver, "giver_name": giver_name, "receiver": receiver, "receiver_name": receiver_name,
        "kind": kind, "cameo_code": cameo, "summary": summary, "quantity": quantity, "unit": unit, "status": status,
        "date": date_row(date_text, _day(date_on), date_precision),
        "exchanges": members.get(id_, []), "counterparts": counterparts.get(id_, []), "retracted": bool(retracted),
        "conditions": conditions, "expires": optional_date_row(expires_text, _day(expires_on), expires_precision),
        "renews": renews.get(renews_id) if renews_id else None, "renewed_by": renewed_by.get(id_, []),
        "instrument": instrument, "authority": authority, "programme": programme, "instrument_ref": instrument_ref,
        "announced": optional_date_row(announced_text, _day(announced_on), announced_precision),
        "effective": optional_date_row(effective_text, _day(effective_on), effective_precision),
        "release_form": release_form, "destination": destination,
        "named": count, "roster": f"{count} named of {quantity}" if quantity is not None else f"{count} named",
        "citations": citations.get(id_, []),
    }  # fmt: skip


def _day(value: str | dt.date | None) -> dt.date | None:
    """A DATE column: ``YYYY-MM-DD`` text from SQLite, a ``datetime.date`` from psycopg."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _each(connection: Any, sql: str, ids: Sequence[int]) -> Iterator[tuple[Any, ...]]:
    """Rows of ``sql`` for ``ids``, a chunk of IDs at a time (each ``{ids}`` is one ``IN`` list)."""
    driver = _driver(connection)
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        marks = ", ".join("?" * len(chunk))
        yield from connection.execute(driver.sql(sql.format(ids=marks)), chunk * sql.count("{ids}"))


def _citations(connection: Any, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for record_id, slug, source_slug, title, quote, locator, prefix, suffix in _each(connection, _CITATIONS, ids):
        out[record_id].append(
            {"id": slug, "source": source_slug, "source_title": title, "quote": quote, "locator": locator,
             "prefix": prefix, "suffix": suffix}
        )  # fmt: skip
    return out


def _exchange_info(connection: Any, ids: Sequence[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    members: dict[int, list[str]] = defaultdict(list)
    for concession_id, slug in _each(connection, _MEMBERS, ids):
        members[concession_id].append(slug)
    counterparts: dict[int, set[str]] = defaultdict(set)
    for quid_id, quo_id, quid_slug, quo_slug in _each(connection, _COUNTERPARTS, ids):
        counterparts[quid_id].add(quo_slug)
        counterparts[quo_id].add(quid_slug)
    return members, {k: sorted(v) for k, v in counterparts.items()}
