"""What every use case shares: planned changes, the journal-then-project write, and ID lookups.

A change is *planned* first (validated, references resolved, a complete JSON payload built) and then
*written*: appended to the journal and applied to the tables by the projector registered for its
operation. Replaying the journal through the same projectors rebuilds the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import journal
from ledger.domain import RecordType, closest, slugify
from ledger.errors import InvalidInput, NotFound
from ledger.models import Record

Projector = Callable[[Session, dict[str, Any]], None]
PROJECTORS: dict[str, Projector] = {}

R = TypeVar("R", bound=Record)


def projector(op: str) -> Callable[[Projector], Projector]:
    """Register the function that applies a journal entry of operation ``op`` to the tables."""

    def register(fn: Projector) -> Projector:
        PROJECTORS[op] = fn
        return fn

    return register


@dataclass(frozen=True)
class Planned:
    """A validated change, ready to journal and apply."""

    op: str
    record_type: RecordType | None
    slug: str | None
    payload: dict[str, Any]


def write(session: Session, change: Planned) -> None:
    """Append the change to the journal, then apply it to the tables, in the caller's transaction."""
    entry = journal.append(
        session,
        change.op,
        change.payload,
        record_type=change.record_type.value if change.record_type else None,
        record_slug=change.slug,
    )
    session.info["applying_seq"] = entry.seq
    PROJECTORS[change.op](session, change.payload)
    session.flush()


def find(session: Session, slug: str) -> Record | None:
    """The record with this ID, of any type."""
    return session.execute(select(Record).where(Record.slug == slug)).scalar_one_or_none()


def get(session: Session, model: type[R], slug: str, *, field: str) -> R:
    """The record of type ``model`` with this ID, or NotFound naming the closest existing IDs."""
    found = session.execute(select(model).where(model.slug == slug)).scalar_one_or_none()
    if found is not None:
        return found
    noun = model.__mapper__.polymorphic_identity or model.__name__.lower()
    other = find(session, slug)
    if other is not None:
        raise NotFound(f"{field}: {slug!r} is a {other.type.value}, not a {noun}")
    known = list(session.execute(select(model.slug)).scalars())
    suggestions = closest(slug, known)
    hint = f"did you mean: {', '.join(suggestions)}?" if suggestions else f"list them with: ledger list {noun}s"
    raise NotFound(f"{field}: no {noun} with ID {slug!r}", hint=hint)


def ensure_new(session: Session, slug: str) -> None:
    """InvalidInput when the ID is already taken."""
    existing = find(session, slug)
    if existing is not None:
        raise InvalidInput(f"ID {slug!r} already exists (a {existing.type.value}); choose another ID")


def unique_slug(session: Session, base: str, taken: Iterable[str] = ()) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is free."""
    taken = set(taken)
    candidate, n = slugify(base, max_length=100), 1
    root = candidate
    while candidate in taken or find(session, candidate) is not None:
        n += 1
        candidate = f"{root}-{n}"
    return candidate


def new_record(session: Session, model: type[R], slug: str, **values: Any) -> R:
    """Create and flush one record (its identity row and its own row)."""
    record = model(slug=slug, created_seq=session.info.get("applying_seq"), **values)
    session.add(record)
    session.flush()
    return record


def slug_ids(session: Session, slugs: Iterable[str]) -> dict[str, int]:
    """Map IDs to integer keys for records that exist."""
    wanted = set(slugs)
    if not wanted:
        return {}
    rows = session.execute(select(Record.slug, Record.id).where(Record.slug.in_(wanted)))
    return dict(rows.all())
