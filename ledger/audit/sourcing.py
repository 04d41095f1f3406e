"""Checks on evidence: records with no citation, records whose sources all trace back to one origin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, case, distinct, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from ledger.audit.labels import named
from ledger.audit.registry import AuditOptions, Finding, Severity, check
from ledger.domain import RecordType
from ledger.models import Citation, Concession, Record, ReportedTotal, Source

#: Records that must be backed by a source.
CITABLE = (RecordType.CONCESSION, RecordType.LINK, RecordType.ALIAS, RecordType.REPORTED_TOTAL)
_R = Record.__table__
#: Facts whose sources should be independent of each other.
FACTS = (RecordType.CONCESSION, RecordType.LINK, RecordType.REPORTED_TOTAL)


@check("unsourced", severity=Severity.WARNING, family="evidence")
def unsourced(session: Session, _options: AuditOptions) -> list[Finding]:
    """A concession, exchange link, alias or reported total with no citation: nothing backs it."""
    citations, cited = Citation.__table__, aliased(Record)
    has_citation = (
        select(citations.c.id)
        .join(cited, cited.id == citations.c.id)
        .where(citations.c.record_id == Record.id, cited.retracted.is_(False))
        .exists()
    )
    rows = session.execute(
        select(_text(Record.type), Record.slug)
        .where(Record.type.in_(CITABLE), Record.retracted.is_(False), ~has_citation)
        .order_by(Record.type, Record.slug)
    ).all()
    nouns = {t.value: t.value.replace("_", " ") for t in CITABLE}
    return [
        Finding("unsourced", Severity.WARNING, record_type, slug, f"the {nouns[record_type]} {slug} cites no source")
        for record_type, slug in rows
    ]


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
    """(type, slug, sources, first source, label, origin) of every live fact whose live citations all trace
    back to one origin. Grouped over the citations in record order first (no sort), then joined to the facts."""
    citations, cited, target = Citation.__table__, _R.alias("cited"), _R.alias("target")
    concessions, totals = Concession.__table__, ReportedTotal.__table__
    relayed = [(s, o) for s, o in sorted(origin.items()) if s != o]
    source = citations.c.source_id
    key = case(dict(relayed), value=source, else_=source) if relayed else source
    per_record = (
        select(
            citations.c.record_id.label("record_id"),
            func.count(distinct(source)).label("sources"),
            func.min(source).label("first"),
            func.min(key).label("origin"),
        )
        .select_from(citations)
        .join(cited, cited.c.id == citations.c.id)
        .where(cited.c.retracted.is_(False))
        .group_by(citations.c.record_id)
        .having(func.count(distinct(key)) == 1)
        .subquery("per_record")
    )
    # the label of a fact (labels.label_of): a concession's summary or a total's statement; a link has none
    label = func.coalesce(concessions.c.summary, totals.c.statement)
    stmt = (
        select(
            _text(target.c.type), target.c.slug, per_record.c.sources, per_record.c.first, label, per_record.c.origin
        )  # fmt: skip
        .select_from(per_record)
        .join(target, target.c.id == per_record.c.record_id)
        .outerjoin(concessions, concessions.c.id == target.c.id)
        .outerjoin(totals, totals.c.id == target.c.id)
        .where(target.c.retracted.is_(False), target.c.type.in_(FACTS))
    )  # no ORDER BY: one finding per record, and the audit sorts the findings
    return list(session.execute(stmt).all())


def _text(column: Any) -> Any:
    return type_coerce(column, String).label(None)


@check("single-origin", severity=Severity.WARNING, family="evidence")
def single_origin(session: Session, _options: AuditOptions) -> list[Finding]:
    """A concession, link or reported total whose citations all trace back, through `relays`, to one
    origin: two outlets relaying the same WSJ report are one source. Warning when the record rests on
    relays (the origin is known only second-hand, or several sources collapse into one); info when it
    rests on one source that relays nothing. Relay cycles are followed safely."""
    sources = _sources(session)
    origin = origins({key: s.relays for key, s in sources.items()})
    nouns = {t.value: t.value.replace("_", " ") for t in FACTS}
    found: list[Finding] = []
    add, info, warning = found.append, Severity.INFO, Severity.WARNING
    for record_type, slug, count, first, label, origin_key in _single_origin_rows(session, origin):
        what, root, cited = named(nouns[record_type], slug, label), sources[origin_key], sources[first]
        if count == 1 and first == origin_key:
            add(
                Finding(
                    "single-origin",
                    info,
                    record_type,
                    slug,
                    f"{what} rests on one source only: {cited.shown}",
                    {"origin": root.slug, "sources": count},
                )
            )
        elif count == 1:
            add(
                Finding(
                    "single-origin",
                    warning,
                    record_type,
                    slug,
                    f"{what} rests only on {cited.shown}, which relays {root.shown}: one origin, known second-hand",
                    {"origin": root.slug, "sources": count, "source": cited.slug},
                )
            )
        else:
            add(
                Finding(
                    "single-origin",
                    warning,
                    record_type,
                    slug,
                    f"{what} cites {count} sources, but all trace back to {root.shown}: one origin, not "
                    "independent confirmation",
                    {"origin": root.slug, "sources": count},
                )
            )
    return found  # fmt: skip
