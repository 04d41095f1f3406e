"""`ledger history ID`: every journal entry that touched a record, oldest first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.models import JournalEntry, Record
from ledger.ops.base import get


def history(session: Session, slug: str) -> Iterator[dict[str, Any]]:
    """Entries about ``slug`` (or naming it in their payload), oldest first, with old -> new values."""
    get(session, Record, slug, field="ID")
    rows = session.execute(
        select(JournalEntry)
        .where(or_(JournalEntry.record_slug == slug, JournalEntry.payload.contains(f'"{slug}"', autoescape=True)))
        .order_by(JournalEntry.seq)
        .execution_options(yield_per=1_000)
    ).scalars()
    for entry in rows:
        payload = json.loads(entry.payload)
        yield {
            "seq": entry.seq,
            "at": entry.at,
            "author": entry.author,
            "op": entry.op,
            "record": entry.record_slug,
            "changes": describe(entry.op, payload, slug, entry.record_slug),
            "source": _sources(payload),
            "reason": payload.get("reason"),
            "payload": payload,
        }


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dict) and set(value) <= {"text", "value"}:
        return " ".join(str(v) for v in (value.get("value"), value.get("text") and repr(value["text"])) if v)
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


def describe(op: str, payload: dict[str, Any], slug: str, record_slug: str | None) -> str:
    """An entry's effect in words: ``quantity: 123 -> 150``, ``status: promised -> delivered``."""
    if op == "amend":
        return "; ".join(f"{k}: {_shown(c['old'])} -> {_shown(c['new'])}" for k, c in payload["changes"].items())
    if op == "status":
        date = f" on {_shown(payload['date'])}" if payload.get("date") else ""
        return f"status: {payload['old']} -> {payload['new']}{date}"
    if op == "retract":
        return "retracted" + (f" with {payload['with']}" if payload.get("with") else "")
    if op.startswith("add_") and record_slug == slug:
        fields = [f"{k}={_shown(v)}" for k, v in payload.items() if k != "id" and not isinstance(v, list)]
        return "created: " + ", ".join(fields)
    if op == "link":
        pairs = [f"{link['quid']} <-> {link['quo']} ({link['basis']})" for link in payload.get("links", [])]
        return f"linked in {payload.get('exchange')}: " + "; ".join(pairs)
    if op == "unlink":
        return "unlinked: " + ", ".join(payload.get("links", []))
    if op == "add_citation":
        return f"cited by {payload.get('source')}" + (f": {payload['quote']!r}" if payload.get("quote") else "")
    if op == "rank_claim":
        return f"rank: {payload['rank']} (ranked by {payload['author']})"
    if op == "snapshot_source":
        kept = "text" if "text" in payload else "hash only"
        size = f"sha256 {payload['sha256']}, {payload['length']} bytes"
        return f"snapshot: {kept}, {size}, retrieved {payload['retrieved_at']}"
    return f"{op} {record_slug or ''} names {slug}".strip()


def _sources(payload: dict[str, Any]) -> str | None:
    sources = [c["source"] for c in payload.get("citations", []) if isinstance(c, dict) and "source" in c]
    if payload.get("source") and isinstance(payload["source"], str):
        sources.insert(0, payload["source"])
    return ", ".join(dict.fromkeys(sources)) or None
