"""Record digests: what each journal entry says the rows it wrote look like, so verification needs no replay.

Every row of the ledger's tables belongs to one *owner*: a record (its ``records`` row, its own table's
row, and its dependent rows: a concession's beneficiaries and status changes, an exchange's sides and
members) or an alias judgement. The *digest* of an owner is the SHA-256 (first 128 bits, hex) of its
rows, in a fixed table order and by primary key within a table, each row's columns in name order as
the database driver returns them. After a change is applied, its journal entry records the digest of
every owner it touched, under ``state`` (hashed into the chain like the rest of the entry).

The live tables then verify in one streaming pass: the digest of every owner now must equal the digest
its newest journal entry recorded. A row edited, inserted or deleted outside the ledger changes its
owner's digest, and the owner names the record. Replaying the journal (``ledger verify --replay``)
remains the way to see which column differs, and to check that the journal replays to the same state.
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import itertools
import os
from collections.abc import Iterable, Iterator
from typing import Any, cast

from sqlalchemy import BigInteger, Column, Select, Table, bindparam, event, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from ledger import db
from ledger.models import (
    AliasJudgement,
    Base,
    Beneficiary,
    ExchangeMember,
    ExchangeSide,
    Record,
    StatusChange,
)
from ledger.ops.bulk_sql import in_list

#: An owner: ("r", record id) or ("j", alias judgement id).
Owner = tuple[str, int]

#: Tables that belong to no owner: the journal itself, Alembic's bookkeeping, and reference data the
#: migrations own (the concession kinds and their CAMEO codes).
UNOWNED = frozenset({"journal", "alembic_version", "concession_kinds"})

#: Dependent tables: the column naming the record that owns each row.
DEPENDENTS = {
    "beneficiaries": "concession_id",
    "status_changes": "concession_id",
    "exchange_sides": "exchange_id",
    "exchange_members": "exchange_id",
}

#: Tables whose rows are owned by their own ``id`` under a kind other than a record.
OWN_KIND = {"alias_judgements": "j"}

#: Set LEDGER_CHECK_TOUCHED=1 (the test suite does) to prove, on every write, that the owners an entry
#: names are all the owners whose rows changed: a missed one would make a later verification fail.
CHECK_TOUCHED_ENV = "LEDGER_CHECK_TOUCHED"


def _is_record_table(table: Table) -> bool:
    return table.name == "records" or (
        "id" in table.c and any(fk.column.table.name == "records" for fk in table.c.id.foreign_keys)
    )


@functools.cache
def owned_tables() -> list[tuple[str, Table, Column[Any]]]:
    """(owner kind, table, owner column) for every table with owned rows, in the fixed digest order.

    Raises LookupError for a table nobody classified: a new table must say who owns its rows.
    """
    out: list[tuple[str, Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        if table.name in UNOWNED:
            continue
        if table.name in OWN_KIND:
            out.append((OWN_KIND[table.name], table, table.c.id))
        elif table.name in DEPENDENTS:
            out.append(("r", table, table.c[DEPENDENTS[table.name]]))
        elif _is_record_table(table):
            out.append(("r", table, table.c.id))
        else:
            raise LookupError(f"table {table.name}: no owner is defined for its rows (see ledger/ops/state.py)")
    return sorted(out, key=lambda t: t[1].name)


@functools.cache
def _raw(table: Table, owner: Column[Any]) -> tuple[Any, int]:
    """SELECT every column (by name) as the driver returns it (no type processing), by owner and key;
    and the position of the owner column in those columns."""
    columns = sorted(table.c, key=lambda c: c.name)
    key = [owner, *(c for c in table.primary_key.columns if c is not owner)]
    stmt = select(*(type_coerce(c, NullType()).label(c.key) for c in columns)).order_by(*key)
    return stmt, columns.index(owner)


#: Owner kinds in sort order; an owner's sort key is (kind's rank << 56 | id), then << 6 | table position.
_KINDS = ("j", "r")
_ID_BITS = 56
_TABLE_BITS = 6


def _rows(session: Session, owners: Iterable[Owner]) -> Iterator[tuple[int, bytes]]:
    """(sort key, row text) of the given owners' rows, ordered by owner, then table, then primary key."""
    assert len(owned_tables()) < 1 << _TABLE_BITS
    wanted = _wanted(session, owners)
    streams = []
    for position, (kind, table, owner) in enumerate(owned_tables()):
        keys = wanted.get(table.name)
        if not keys:
            continue
        stmt, owner_index = _raw(table, owner)
        stmt = stmt.where(owner.in_(sorted(keys)))
        base = _KINDS.index(kind) << _ID_BITS
        # The few rows of the owners just written: a cached statement with bound keys.
        rows = [tuple(row) for row in session.connection().execute(stmt)]
        streams.append(_tagged(rows, base, owner_index, position, table.name))
    return heapq.merge(*streams)


def _tagged(
    rows: list[tuple[Any, ...]], base: int, owner_index: int, position: int, name: str
) -> list[tuple[int, bytes]]:
    """Each row with its integer sort key (owner kind, owner, table: cheap to merge) and its text."""
    return [(((base | row[owner_index]) << _TABLE_BITS) | position, f"{name}{row!r}\n".encode()) for row in rows]


def _wanted(session: Session, owners: Iterable[Owner]) -> dict[str, set[int]]:
    """Per table, the given owners that can have rows in it (a record's rows live in its type's tables).

    Only the tables of each record's type are read: in a ledger written through the ledger, a record has
    rows nowhere else. (Verification reads every table, so a stray row elsewhere still changes a digest.)
    """
    records: set[int] = set()
    wanted: dict[str, set[int]] = {}
    for kind, key in owners:
        if kind == "r":
            records.add(key)
        else:
            for name, table_kind in OWN_KIND.items():
                if table_kind == kind:
                    wanted.setdefault(name, set()).add(key)
    if records:
        tables = _tables_by_type()
        for key, record_type in record_types(session, records).items():
            for name in tables[record_type]:
                wanted.setdefault(name, set()).add(key)
    return wanted


def record_types(session: Session, keys: Iterable[int]) -> dict[int, Any]:
    """Record id -> RecordType of those of ``keys`` that exist (one cached statement per 8,192 keys)."""
    out: dict[int, Any] = {}
    for chunk in _chunks(sorted(set(keys)), 8_192):
        out.update(session.execute(_TYPES_OF, {"keys": in_list(chunk)}).all())
    return out


_TYPES_OF = select(Record.id, Record.type).where(Record.id.in_(bindparam("keys", expanding=True)))


@functools.cache
def _of_owners(table: Table, owner: Column[Any]) -> Select[Any]:
    """:func:`_raw`'s statement for the rows of some owners (an expanding IN list, ``owners``), built once:
    the same statement object each time, so SQLAlchemy reuses its cache key and compiled form."""
    return cast("Select[Any]", _raw(table, owner)[0]).where(owner.in_(bindparam("owners", expanding=True)))


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@functools.cache
def _tables_by_type() -> dict[Any, tuple[str, ...]]:
    """Each record type's tables: ``records``, its own table, and the dependents that point at it."""
    out: dict[Any, tuple[str, ...]] = {}
    for record_type, mapper in Record.__mapper__.polymorphic_map.items():
        own = cast(Table, mapper.local_table).name
        dependents = [
            name
            for name, column in DEPENDENTS.items()
            if any(fk.column.table.name == own for fk in Base.metadata.tables[name].c[column].foreign_keys)
        ]
        out[record_type] = ("records", own, *dependents) if own != "records" else ("records", *dependents)
    return out


def digests(session: Session, owners: Iterable[Owner] | None = None) -> Iterator[tuple[Owner, str]]:
    """(owner, digest) for the given owners that have rows (every owner when None), ordered by owner."""
    if owners is None:
        for kind, low, high in ranges(session):
            for owner_kind, key, digest in range_digests(session, kind, low, high):
                yield (owner_kind, key), digest
        return
    current = -1
    h: Any = None
    for key, text in _rows(session, owners):
        owner = key >> _TABLE_BITS
        if owner == current:
            h.update(text)
            continue
        if h is not None:
            yield _owner_of_key(current), h.hexdigest()[:32]
        current, h = owner, hashlib.sha256(text)
    if h is not None:
        yield _owner_of_key(current), h.hexdigest()[:32]


def _owner_of_key(key: int) -> Owner:
    return _KINDS[key >> _ID_BITS], key & ((1 << _ID_BITS) - 1)


# -- the full pass (verification): every owner, a range of ids at a time -------------------------------

#: Owner ids per range of the full pass. A range's rows are grouped in memory before hashing: about
#: 20 MB for ordinary records.
SPAN = 20_000
#: Owner ids are 64-bit integers in both databases.
_MIN_ID, _MAX_ID = -(1 << 63), (1 << 63) - 1


def ranges(session: Session, *, span: int | None = None) -> list[tuple[str, int, int]]:
    """(owner kind, first id, last id) of ranges that together hold every owned row, in owner order.

    Each range starts at an owner that has rows and covers ``span`` ids (default ``SPAN``), so gaps in
    the ids cost nothing.
    The ranges are independent: :func:`range_digests` of each, in any order or process, give every digest.
    """
    span = span or SPAN
    out = []
    for kind in _KINDS:
        tables = _tables_of(kind)
        low = _next_owner(session, tables, _MIN_ID)
        while low is not None:
            high = min(low + span - 1, _MAX_ID)
            out.append((kind, low, high))
            low = None if high == _MAX_ID else _next_owner(session, tables, high + 1)
    return out


def range_digests(session: Session, kind: str, low: int, high: int) -> list[tuple[str, int, str]]:
    """(kind, owner id, digest) of every owner of ``kind`` from ``low`` to ``high`` with rows, by id.

    Each table's rows of the range come through one indexed query, straight from the driver, and are
    grouped per owner in table order; then each owner's texts are hashed as :func:`digests` defines them.
    """
    texts: dict[int, list[str]] = {}
    for table, owner in _tables_of(kind):
        stmt, owner_index = _ranged(table, owner)
        name = table.name
        for row in db.driver_rows(session, stmt, {"low": low, "high": high}):
            text = f"{name}{row!r}\n"
            key = row[owner_index]
            if (found := texts.get(key)) is None:
                texts[key] = [text]
            else:
                found.append(text)
    return [(kind, key, hashlib.sha256("".join(texts[key]).encode()).hexdigest()[:32]) for key in sorted(texts)]


@functools.cache
def _tables_of(kind: str) -> list[tuple[Table, Column[Any]]]:
    return [(table, owner) for k, table, owner in owned_tables() if k == kind]


@functools.cache
def _ranged(table: Table, owner: Column[Any]) -> tuple[Any, int]:
    """:func:`_raw`'s statement for the owners from ``low`` to ``high``."""
    stmt, owner_index = _raw(table, owner)
    return stmt.where(
        owner >= bindparam("low", type_=BigInteger()), owner <= bindparam("high", type_=BigInteger())
    ), owner_index


@functools.cache
def _first_owner(owner: Column[Any]) -> Any:
    return select(func.min(owner)).where(owner >= bindparam("low", type_=BigInteger()))


def _next_owner(session: Session, tables: list[tuple[Table, Column[Any]]], low: int) -> int | None:
    """The smallest owner id from ``low`` on with rows in any of the tables (None when there is none)."""
    found = [db.driver_rows(session, _first_owner(owner), {"low": low})[0][0] for _table, owner in tables]
    present = [key for key in found if key is not None]
    return min(present) if present else None


def record_digests(session: Session, records: dict[int, Any]) -> dict[Owner, str]:
    """``dict(digests(session, owners))`` for records whose types the caller knows (record id -> RecordType):
    the same digests, read in one query per table of those types, without merging streams (for a batch).

    The IN lists are bound parameters of a few lengths (``in_list``): one prepared statement per length."""
    keys: dict[str, list[int]] = {}
    tables = _tables_by_type()
    for key, record_type in records.items():
        for name in tables[record_type]:
            keys.setdefault(name, []).append(key)
    texts: dict[int, list[str]] = {}
    connection = session.connection()
    for kind, table, owner in owned_tables():
        if kind != "r" or table.name not in keys:
            continue
        stmt, owner_index = _of_owners(table, owner), _raw(table, owner)[1]
        for chunk in _chunks(sorted(keys[table.name]), 8_192):
            for row in connection.execute(stmt, {"owners": in_list(chunk)}).all():
                values = tuple(row)  # as the driver returned them (the columns are NullType)
                texts.setdefault(values[owner_index], []).append(f"{table.name}{values!r}\n")
    # The bytes digests() hashes for each owner: its rows' texts, tables in order, each ending in a newline.
    return {("r", key): hashlib.sha256("".join(rows).encode()).hexdigest()[:32] for key, rows in sorted(texts.items())}


def key_of(owner: Owner) -> str:
    """The owner as the journal's ``state`` names it: ``r12`` for record 12, ``j3`` for judgement 3."""
    return f"{owner[0]}{owner[1]}"


def owner_of(key: str) -> Owner:
    """The inverse of :func:`key_of`."""
    return key[0], int(key[1:])


def state_of(session: Session, owners: set[Owner], types: dict[int, Any] | None = None) -> dict[str, str | None]:
    """The ``state`` of a journal entry: each touched owner's digest, None for one left with no rows.

    ``types`` (record id -> RecordType, e.g. from :func:`stop_tracking`) saves looking up the types of
    those records. Records are digested by :func:`record_digests`, other owners by :func:`digests`: the
    same digests (tests/test_bulk_sql.py, tests/test_write_path.py)."""
    records = {key for kind, key in owners if kind == "r"}
    known = {key: types[key] for key in records if types and key in types}
    known.update(record_types(session, records - known.keys()) if records - known.keys() else {})
    found = record_digests(session, known) if known else {}
    others = {o for o in owners if o[0] != "r"}
    if others:
        found.update(digests(session, others))
    return {key_of(o): found.get(o) for o in sorted(owners)}


# -- which owners a change touched -----------------------------------------------------------------

TOUCHED = "ledger_touched"


SEEN = "ledger_seen"


def start_tracking(session: Session) -> set[Owner]:
    """Begin collecting the owners the next change touches (ORM flushes are collected automatically)."""
    touched: set[Owner] = set()
    session.info[TOUCHED] = touched
    session.info[SEEN] = {}
    return touched


def stop_tracking(session: Session) -> dict[int, tuple[Any, str]]:
    """Stop collecting; return what the flushes showed of the records they wrote: id -> (RecordType, slug)."""
    session.info.pop(TOUCHED, None)
    seen: dict[int, tuple[Any, str]] = session.info.pop(SEEN, None) or {}
    return seen


def touch(session: Session, *owners: Owner) -> None:
    """Name owners changed by a Core statement (UPDATE/DELETE), which ORM flush tracking cannot see."""
    touched = session.info.get(TOUCHED)
    if touched is not None:
        touched.update(owners)


def touch_records(session: Session, ids: Iterable[int]) -> None:
    """Name records changed by a Core statement."""
    touch(session, *(("r", i) for i in ids))


def _owner_of_object(obj: object) -> Owner | None:
    if isinstance(obj, Record):
        return ("r", obj.id)
    if isinstance(obj, Beneficiary | StatusChange):
        return ("r", obj.concession_id)
    if isinstance(obj, ExchangeSide | ExchangeMember):
        return ("r", obj.exchange_id)
    if isinstance(obj, AliasJudgement):
        return ("j", obj.id)
    return None


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context: Any) -> None:
    touched = session.info.get(TOUCHED)
    if touched is None:
        return
    seen = session.info[SEEN]
    for obj in itertools.chain(session.new, session.dirty, session.deleted):
        owner = _owner_of_object(obj)
        if owner is not None and owner[1] is not None:
            touched.add(owner)
            if isinstance(obj, Record):  # its type and slug as loaded or set (never a lazy load here)
                loaded = obj.__dict__
                if loaded.get("type") is not None and loaded.get("slug") is not None:
                    seen[owner[1]] = (loaded["type"], loaded["slug"])


def checking_touched() -> bool:
    """True when every write must prove that it named every owner it changed (slow: for tests)."""
    return os.environ.get(CHECK_TOUCHED_ENV) == "1"


def changed_owners(before: dict[Owner, str], after: dict[Owner, str]) -> set[Owner]:
    """Owners whose digest differs between two full snapshots (appeared, disappeared or changed)."""
    return {o for o in before.keys() | after.keys() if before.get(o) != after.get(o)}
