"""Checks on evidence: records with no citation, records whose sources all trace back to one origin."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import Session, aliased

from ledger.audit.labels import label_of, named
from ledger.audit.registry import AuditOptions, Finding, Severity, check
from ledger.domain import RecordType
from ledger.models import Citation, Record, Source

#: Records that must be backed by a source.
CITABLE = (RecordType.CONCESSION, RecordType.LINK, RecordType.ALIAS, RecordType.REPORTED_TOTAL)
#: Facts whose sources should be independent of each other.
FACTS = (RecordType.CONCESSION, RecordType.LINK, RecordType.REPORTED_TOTAL)


@check("unsourced", severity=Severity.WARNING, family="evidence")
def unsourced(session: Session, _options: AuditOptions) -> Iterator[Finding]:
    """A concession, exchange link, alias or reported total with no citation: nothing backs it."""
    citations, cited = Citation.__table__, aliased(Record)
    has_citation = (
        select(citations.c.id)
        .join(cited, cited.id == citations.c.id)
        .where(citations.c.record_id == Record.id, cited.retracted.is_(False))
        .exists()
    )
    rows = session.execute(
        select(Record.type, Record.slug)
        .where(Record.type.in_(CITABLE), Record.retracted.is_(False), ~has_citation)
        .order_by(Record.type, Record.slug)
    )
    for record_type, slug in rows:
        noun = record_type.value.replace("_", " ")
        yield Finding("unsourced", Severity.WARNING, record_type.value, slug, f"the {noun} {slug} cites no source")


@dataclass(frozen=True)
class _Source:
    slug: str
    shown: str
    relays: int | None


def _sources(session: Session) -> dict[int, _Source]:
    rows = session.execute(select(Source.id, Source.slug, Source.publisher, Source.title, Source.relays_id)).all()
    return {i: _Source(slug, publisher or title, relays) for i, slug, publisher, title, relays in rows}


def origins(parent: dict[int, int | None]) -> dict[int, int]:
    """Each source's origin: the end of its ``relays`` chain; in a relay cycle, the cycle's lowest key."""
    origin: dict[int, int] = {}
    for start in parent:
        path: list[int] = []
        node: int | None = start
        while node is not None and node not in origin and node not in path:
            path.append(node)
            node = parent.get(node)
        if node is None:
            end = path[-1]
        elif node in origin:
            end = origin[node]
        else:  # a cycle: every member, and every source leading into it, gets the cycle's lowest key
            end = min(path[path.index(node) :])
        for member in path:
            origin[member] = end
    return origin


def _single_origin_rows(session: Session, origin: dict[int, int]) -> list[Any]:
    citations, cited, target = Citation.__table__, aliased(Record), aliased(Record)
    relayed = [(s, o) for s, o in sorted(origin.items()) if s != o]
    stmt = (
        select(
            target.type,
            target.slug,
            func.count(distinct(citations.c.source_id)),
            func.min(citations.c.source_id),
            label_of(target.id),
        )  # fmt: skip
        .select_from(citations)
        .join(cited, cited.id == citations.c.id)
        .join(target, target.id == citations.c.record_id)
        .where(cited.retracted.is_(False), target.retracted.is_(False), target.type.in_(FACTS))
        .group_by(target.type, target.slug, target.id)  # the label is a lookup by target.id, not an aggregate
        .order_by(target.type, target.slug)
    )
    source = citations.c.source_id
    key = case(dict(relayed), value=source, else_=source) if relayed else source
    return list(session.execute(stmt.add_columns(func.min(key)).having(func.count(distinct(key)) == 1)).all())


@check("single-origin", severity=Severity.WARNING, family="evidence")
def single_origin(session: Session, _options: AuditOptions) -> Iterator[Finding]:
    """A concession, link or reported total whose citations all trace back, through `relays`, to one
    origin: two outlets relaying the same WSJ report are one source. Warning when the record rests on
    relays (the origin is known only second-hand, or several sources collapse into one); info when it
    rests on one source that relays nothing. Relay cycles are followed safely."""
    sources = _sources(session)
    origin = origins({key: s.relays for key, s in sources.items()})
    for record_type, slug, count, first, label, origin_key in _single_origin_rows(session, origin):
        what, root, cited = named(record_type.value.replace("_", " "), slug, label), sources[origin_key], sources[first]
        details = {"origin": root.slug, "sources": count}
        if count == 1 and first == origin_key:
            yield Finding("single-origin", Severity.INFO, record_type.value, slug,
                          f"{what} rests on one source only: {cited.shown}", details)  # fmt: skip
        elif count == 1:
            yield Finding("single-origin", Severity.WARNING, record_type.value, slug,
                          f"{what} rests only on {cited.shown}, which relays {root.shown}: one origin, "
                          "known second-hand", {**details, "source": cited.slug})  # fmt: skip
        else:
            yield Finding("single-origin", Severity.WARNING, record_type.value, slug,
                          f"{what} cites {count} sources, but all trace back to {root.shown}: "
                          "one origin, not independent confirmation", details)  # fmt: skip
