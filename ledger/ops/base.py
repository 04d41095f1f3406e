"""What every use case shares: planned changes, the journal-then-project write, and ID lookups.

A change is *planned* first (validated, references resolved, a complete JSON payload built) and then
*written*: appended to the journal and applied to the tables by the projector registered for its
operation. Replaying the journal through the same projectors rebuilds the tables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from ledger import journal
from ledger.domain import RecordType, closest, slugify
from ledger.errors import InvalidInput, NotFound
from ledger.models import Record
from ledger.ops import state

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
    """Apply the change to the tables, then append its journal entry, in the caller's transaction.

    The entry records the digest of every record whose rows the change touched (``ledger.ops.state``),
    so verification can compare the live tables with the journal without replaying it.
    """
    previous = session.info.get("journal_head") or journal.head(session)
    session.info["journal_head"] = previous
    session.info["applying_seq"] = previous.seq + 1
    before = dict(state.digests(session)) if state.checking_touched() else None
    touched = state.start_tracking(session)
    try:
        PROJECTORS[change.op](session, change.payload)
        session.flush()
    finally:
        seen = state.stop_tracking(session)
    if change.slug is not None:
        # The record the entry names: one the change wrote (slugs are unique), else looked up.
        key = next((k for k, (_, slug) in seen.items() if slug == change.slug), None)
        if key is None:
            key = session.execute(_ID_OF_SLUG, {"slug": change.slug}).scalar_one_or_none()
        if key is not None:
            touched.add(("r", key))
    if before is not None:
        missed = state.changed_owners(before, dict(state.digests(session))) - touched
        if missed:
            raise AssertionError(f"{change.op} changed rows of {sorted(missed)} without naming them (state.touch)")
    journal.append(
        session,
        change.op,
        change.payload,
        record_type=change.record_type.value if change.record_type else None,
        record_slug=change.slug,
        state=state.state_of(session, touched, {k: record_type for k, (record_type, _) in seen.items()}),
    )


_ID_OF_SLUG = select(Record.id).where(Record.slug == bindparam("slug"))


def find(session: Session, slug: str) -> Record | None:
    """The record with this ID, of any type."""
    return session.execute(_by_slug(Record), {"slug": slug}).scalar_one_or_none()


@functools.cache
def _by_slug(model: type[Record]) -> Select[Any]:
    """``select(model).where(model.slug == :slug)``, built once per model: the write path looks IDs up several
    times per record, and a statement object used again skips SQLAlchemy's construction and cache key."""
    return select(model).where(model.slug == bindparam("slug"))


def get(session: Session, model: type[R], slug: str, *, field: str) -> R:
    """The record of type ``model`` with this ID, or NotFound naming the closest existing IDs."""
    found = cast("R | None", session.execute(_by_slug(model), {"slug": slug}).scalar_one_or_none())
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
    """Create and flush one record (its identity row and its own row): its ``id`` is known on return."""
    record = add_record(session, model, slug, **values)
    session.flush()
    return record


def add_record(session: Session, model: type[R], slug: str, **values: Any) -> R:
    """Create one record without flushing: it is written by the next flush (``write()`` ends with one), so
    a record and its citations cost one flush. Records are inserted in the order they were added."""
    record = model(slug=slug, created_seq=session.info.get("applying_seq"), **values)
    session.add(record)
    return record


def slug_ids(session: Session, slugs: Iterable[str]) -> dict[str, int]:
    """Map IDs to integer keys for records that exist."""
    wanted = set(slugs)
    if not wanted:
        return {}
    rows = session.execute(_IDS_OF_SLUGS, {"slugs": sorted(wanted)})
    return dict(rows.all())


_IDS_OF_SLUGS = select(Record.slug, Record.id).where(Record.slug.in_(bindparam("slugs", expanding=True)))
