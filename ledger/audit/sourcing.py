"""Checks on evidence: records with no citation."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.audit.registry import AuditOptions, Finding, Severity, check
from ledger.domain import RecordType
from ledger.models import Citation, Record

#: Records that must be backed by a source.
CITABLE = (RecordType.CONCESSION, RecordType.LINK, RecordType.ALIAS, RecordType.REPORTED_TOTAL)


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
