"""How findings name a record: its name, summary or title as a journalist knows it, not only its ID."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from ledger.models import Concession, Exchange, Party, ReportedTotal, Source


def label_of(record_id: Any) -> Any:
    """SQL: the record's name (party), summary (concession), title (source, exchange) or statement
    (reported total); NULL for other records. Each is a primary-key lookup."""
    columns = (Party.__table__.c.name, Concession.__table__.c.summary, Source.__table__.c.title,
               Exchange.__table__.c.title, ReportedTotal.__table__.c.statement)  # fmt: skip
    return func.coalesce(*(select(c).where(c.table.c.id == record_id).scalar_subquery() for c in columns))


def named(noun: str, slug: str, label: str | None) -> str:
    """``the concession "Belarus releases 123 prisoners" (by-releases-123)``, or ``the link link-x``."""
    return f'the {noun} "{label}" ({slug})' if label else f"the {noun} {slug}"
