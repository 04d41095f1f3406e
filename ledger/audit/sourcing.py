"""Checks on evidence: records with no citation, records whose sources all trace back to one origin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from ledger import db
from ledger.audit.labels import named
from ledger.audit.registry import AuditOptions, Finding, Severity, check, new_finding
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
    rows = db.driver_rows(  # the driver's tuples; no ORDER BY: one finding per record, the audit sorts them
        session,
        select(_text(Record.type), Record.slug).where(
            Record.type.in_(CITABLE), Record.retracted.is_(False), ~has_citation
        ),
        {},
    )
    nouns = {t.value: t.value.replace("_", " ") for t in CITABLE}
    warning, none = Severity.WARNING, Finding._field_defaults["details"]  # the one shared empty dictionary
    return [
        new_finding(("unsourced", warning, record_type, slug, f"the {nouns[record_type]} {slug} cites no source", none))
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


def _single_origin_statement() -> Any:
    """Every live fact with live citations: (id, type, slug, citations, lowest source, highest source, label).
    The database groups the citations by record (count, lowest and highest source: no DISTINCT, no per-row
    mapping of sources to origins); Python maps the sources to their origins."""
    citations, cited, target = Citation.__table__, _R.alias("cited"), _R.alias("target")
    concessions, totals = Concession.__table__, ReportedTotal.__table__
    source = citations.c.source_id
    per_record = (
        select(
            citations.c.record_id.label("record_id"),
            func.count().label("citations"),
            func.min(source).label("first"),
            func.max(source).label("last"),
        )
        .select_from(citations)
        .join(cited, cited.c.id == citations.c.id)
        .where(cited.c.retracted.is_(False))
        .group_by(citations.c.record_id)
        .subquery("per_record")
    )
    # the label of a fact (labels.label_of): a concession's summary or a total's statement; a link has none
    label = func.coalesce(concessions.c.summary, totals.c.statement)
    return (
        select(
            target.c.id,
            _text(target.c.type),
            target.c.slug,
            per_record.c.citations,
            per_record.c.first,
            per_record.c.last,
            label,
        )  # fmt: skip
        .select_from(per_record)
        .join(target, target.c.id == per_record.c.record_id)
        .outerjoin(concessions, concessions.c.id == target.c.id)
        .outerjoin(totals, totals.c.id == target.c.id)
        .where(target.c.retracted.is_(False), target.c.type.in_(FACTS))
    )  # no ORDER BY: one finding per record, and the audit sorts the findings


def _sources_of(session: Session, record_ids: list[int]) -> dict[int, set[int]]:
    """The distinct sources of the live citations of each of these records."""
    citations, cited = Citation.__table__, _R.alias("cited")
    result: dict[int, set[int]] = {}
    for start in range(0, len(record_ids), 500):
        rows = session.execute(
            select(citations.c.record_id, citations.c.source_id)
            .select_from(citations)
            .join(cited, cited.c.id == citations.c.id)
            .where(cited.c.retracted.is_(False), citations.c.record_id.in_(record_ids[start : start + 500]))
        )
        for record_id, source_id in rows:
            result.setdefault(record_id, set()).add(source_id)
    return result


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
    # What follows the record's name, by the one source cited or by (origin, number of sources): worked out
    # once per source, not once per record (a million records cite ten thousand sources). The details
    # dictionaries are shared by the findings they belong to (read-only, see Finding).
    one: dict[int, tuple[Severity, str, dict[str, Any]]] = {}
    several: dict[tuple[int, int], tuple[Severity, str, dict[str, Any]]] = {}

    def one_source(first: int) -> tuple[Severity, str, dict[str, Any]]:
        root, cited = sources[origin[first]], sources[first]
        if first == origin[first]:
            verdict = (Severity.INFO, f" rests on one source only: {cited.shown}", {"origin": root.slug, "sources": 1})
        else:
            verdict = (Severity.WARNING, f" rests only on {cited.shown}, which relays {root.shown}: one origin, known "
                       "second-hand", {"origin": root.slug, "sources": 1, "source": cited.slug})  # fmt: skip
        one[first] = verdict
        return verdict

    def many_sources(origin_key: int, count: int) -> tuple[Severity, str, dict[str, Any]]:
        root = sources[origin_key]
        verdict = several[(origin_key, count)] = (
            Severity.WARNING,
            f" cites {count} sources, but all trace back to {root.shown}: one origin, not independent confirmation",
            {"origin": root.slug, "sources": count},
        )
        return verdict

    found: list[Finding] = []
    add = found.append
    deferred: list[tuple[Any, ...]] = []  # three or more different sources: read once every row is seen
    for batch in db.driver_batches(session, _single_origin_statement()):  # batches, not all at once
        for row in batch:
            _id, record_type, slug, count, first, last, label = row
            if first == last:  # one source, however many times cited
                verdict = one.get(first) or one_source(first)
            elif count == 2:  # two different sources
                root = origin[first]
                if root != origin[last]:
                    continue
                verdict = several.get((root, 2)) or many_sources(root, 2)
            else:
                deferred.append(row)
                continue
            noun = nouns[record_type]
            what = f'the {noun} "{label}" ({slug})' if label else f"the {noun} {slug}"  # labels.named, inlined
            add(new_finding(("single-origin", verdict[0], record_type, slug, what + verdict[1], verdict[2])))
    many = _sources_of(session, [row[0] for row in deferred])
    for record_id, record_type, slug, _count, first, _last, label in deferred:
        keys = many[record_id]
        if len({origin[k] for k in keys}) == 1:
            root, count = origin[first], len(keys)
            verdict = several.get((root, count)) or many_sources(root, count)
            add(Finding("single-origin", verdict[0], record_type, slug, named(nouns[record_type], slug, label)
                        + verdict[1], verdict[2]))  # fmt: skip
    return found
