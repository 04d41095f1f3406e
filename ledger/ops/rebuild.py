"""Replaying the journal from empty and comparing the result with the live tables.

The tables are a projection of the journal: replaying every entry through the registered projectors
into an empty database must give the same content. Rows are compared by record IDs (slugs), never by
integer keys, which may differ (PostgreSQL sequences skip). Each difference names the record.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import pkgutil
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import ledger.ops
from ledger.db import make_engine, session_scope, upgrade
from ledger.errors import LedgerError
from ledger.models import Base, ExchangeSide, JournalEntry, Record
from ledger.ops.base import PROJECTORS

#: Tables not compared: the journal itself, and Alembic's bookkeeping.
SKIPPED = {"journal", "alembic_version"}


@dataclass(frozen=True)
class Difference:
    """One way the live tables differ from the journal's replay."""

    table: str
    record_slug: str | None
    message: str


def load_projectors() -> None:
    """Import every ops module, so every operation's projector is registered."""
    for module in pkgutil.iter_modules(ledger.ops.__path__):
        importlib.import_module(f"ledger.ops.{module.name}")


def replay(live: Session, scratch: Session, *, guarded: bool = False, batch: int = 5_000) -> Iterator[Difference]:
    """Apply every journal entry of ``live`` to the empty ``scratch`` ledger; yield entries that fail.

    Unguarded, the first failing entry raises (fast: no savepoint per entry). Guarded, each entry runs
    in a savepoint, so a failing one is reported and the replay goes on.
    """
    load_projectors()
    table = JournalEntry.__table__
    rows = (
        live.connection()
        .execution_options(yield_per=batch)
        .execute(select(table.c.seq, table.c.op, table.c.record_slug, table.c.payload).order_by(table.c.seq))
    )
    for seq, op, record_slug, payload in rows:
        projector = PROJECTORS.get(op)
        if projector is None:
            yield Difference("journal", record_slug, f"entry {seq}: unknown operation {op!r}; cannot replay it")
            continue
        scratch.info["applying_seq"] = seq
        if not guarded:
            projector(scratch, json.loads(payload))
            scratch.flush()
            continue
        try:
            with scratch.begin_nested():
                projector(scratch, json.loads(payload))
                scratch.flush()
        except (LedgerError, ValueError, LookupError, TypeError, AttributeError) as exc:
            yield Difference("journal", record_slug, f"entry {seq} ({op}) cannot be replayed: {exc}")
        except Exception as exc:  # a database error: the entry contradicts the tables before it
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            yield Difference("journal", record_slug, f"entry {seq} ({op}) cannot be replayed: {reason}")


def _replay_all(live: Session, scratch: Session) -> list[Difference]:
    """Replay fast; when an entry fails, start again with each entry guarded, to report every failure."""
    try:
        return list(replay(live, scratch))
    except Exception:
        scratch.rollback()
        return list(replay(live, scratch, guarded=True))


def _record_tables() -> set[str]:
    """Tables whose ``id`` is a record's key (``records`` and each record type's own table)."""
    names = {"records"}
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and any(fk.column.table.name == "records" for fk in table.c.id.foreign_keys):
            names.add(table.name)
    return names


class _Keys:
    """Integer keys of one database turned into stable names (record slugs, exchange sides)."""

    def __init__(self, session: Session) -> None:
        self.slugs: dict[int, str] = dict(session.execute(select(Record.id, Record.slug)).all())
        sides = session.execute(select(ExchangeSide.id, ExchangeSide.exchange_id, ExchangeSide.party_id)).all()
        self.sides = {i: f"{self.slugs.get(x)}/{self.slugs.get(p)}" for i, x, p in sides}

    def name(self, target: str, value: Any) -> Any:
        if value is None:
            return None
        if target == "exchange_sides":
            return self.sides.get(value, f"#{value}")
        return self.slugs.get(value, f"#{value}")


def _rows(session: Session, table: Table, keys: _Keys, record_tables: set[str]) -> Iterator[dict[str, Any]]:
    for row in session.execute(select(table)).mappings():
        out: dict[str, Any] = {}
        for column in table.c:
            value = row[column.key]
            targets = {fk.column.table.name for fk in column.foreign_keys}
            if column.key == "id" and table.name in record_tables:
                out["id"] = keys.name("records", value)
            elif column.primary_key and column.key == "id":
                continue  # a surrogate key of a plain table: compared by content instead
            elif targets & (record_tables | {"exchange_sides"}):
                out[column.key] = keys.name(next(iter(targets)), value)
            else:
                out[column.key] = value.value if hasattr(value, "value") and isinstance(value.value, str) else value
        yield out


def compare(live: Session, replayed: Session) -> Iterator[Difference]:
    """Every difference between the live tables and the replayed ones, named by record."""
    record_tables = _record_tables()
    live_keys, replay_keys = _Keys(live), _Keys(replayed)
    for table in Base.metadata.sorted_tables:
        if table.name in SKIPPED:
            continue
        live_rows = list(_rows(live, table, live_keys, record_tables))
        replay_rows = list(_rows(replayed, table, replay_keys, record_tables))
        if table.name in record_tables:
            yield from _compare_keyed(table.name, live_rows, replay_rows)
        else:
            yield from _compare_unkeyed(table.name, live_rows, replay_rows)


def _noun(table: str) -> str:
    return {"records": "record", "parties": "party", "aliases": "alias"}.get(table, table.removesuffix("s"))


def _compare_keyed(name: str, live: list[dict[str, Any]], replayed: list[dict[str, Any]]) -> Iterator[Difference]:
    by_live = {r["id"]: r for r in live}
    by_replay = {r["id"]: r for r in replayed}
    noun = _noun(name).replace("_", " ")
    for slug in sorted(by_live.keys() | by_replay.keys()):
        a, b = by_live.get(slug), by_replay.get(slug)
        if b is None:
            yield Difference(name, slug, f"{noun} {slug} is in the table but no journal entry creates it")
        elif a is None:
            yield Difference(name, slug, f"{noun} {slug} is missing from the table but the journal creates it")
        else:
            for column in a:
                if a[column] != b[column]:
                    yield Difference(
                        name, slug,
                        f"{noun} {slug}: {column} is {a[column]!r} in the table but {b[column]!r} in the journal",
                    )  # fmt: skip


def _first_slug(row: dict[str, Any]) -> str | None:
    return next((str(v) for k, v in row.items() if k.endswith("_id") and isinstance(v, str)), None)


def _compare_unkeyed(name: str, live: list[dict[str, Any]], replayed: list[dict[str, Any]]) -> Iterator[Difference]:
    def key(row: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        return tuple((k, repr(v)) for k, v in row.items())

    a, b = Counter(key(r) for r in live), Counter(key(r) for r in replayed)
    rows = {key(r): r for r in [*live, *replayed]}
    for k in sorted((a - b).keys() | (b - a).keys()):
        row = rows[k]
        shown = ", ".join(f"{c}={v!r}" for c, v in row.items())
        where = "in the table but not in the journal" if a[k] > b[k] else "produced by the journal but not in the table"
        yield Difference(name, _first_slug(row), f"{name} row ({shown}) is {where}")


@functools.cache
def _migrated_template() -> Path:
    """An empty ledger migrated to head, made once per process and copied for each replay."""
    directory = Path(tempfile.mkdtemp(prefix="ledger-template-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / "empty.db"
    upgrade(make_url("sqlite://").set(database=str(path)))
    return path


def check(live: Session) -> list[Difference]:
    """Replay the journal into a scratch SQLite ledger and compare it with ``live``; every difference."""
    with tempfile.TemporaryDirectory(prefix="ledger-rebuild-") as tmp:
        path = Path(tmp) / "replay.db"
        shutil.copyfile(_migrated_template(), path)
        url = make_url("sqlite://").set(database=str(path))
        engine = make_engine(url)
        try:
            with session_scope(engine, write=True, dry_run=True) as scratch:
                problems = _replay_all(live, scratch)
                scratch.flush()
                problems += compare(live, scratch)
        finally:
            engine.dispose()
    return problems
