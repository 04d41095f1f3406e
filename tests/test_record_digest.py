"""The record digest, recomputed from its definition in docs/journal.md with nothing but sqlite3.

Verification reads rows straight from the driver (ledger.db.driver_rows); the journal's entries
were written by the same code. This test pins both to the documented definition, independently.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Run

pytestmark = pytest.mark.sqlite_only

#: Dependent tables and the column naming the record that owns each row (docs/journal.md).
DEPENDENTS = {
    "beneficiaries": "concession_id",
    "status_changes": "concession_id",
    "exchange_sides": "exchange_id",
    "exchange_members": "exchange_id",
}
NOT_OWNED = {"journal", "alembic_version", "concession_kinds", "alias_judgements"}


def documented_digest(connection: sqlite3.Connection, record_id: int) -> str:
    """SHA-256 (first 32 hex) of the record's rows: tables by name, rows by key, columns by name."""
    tables = [
        name
        for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        if name not in NOT_OWNED and not name.startswith("sqlite_")
    ]
    h = hashlib.sha256()
    for table in tables:
        info = connection.execute(f"PRAGMA table_info({table})").fetchall()
        columns = sorted(row[1] for row in info)
        owner = DEPENDENTS.get(table, "id")
        key = [owner] + [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5] and row[1] != owner]
        query = f"SELECT {', '.join(columns)} FROM {table} WHERE {owner} = ? ORDER BY {', '.join(key)}"  # noqa: S608
        for row in connection.execute(query, (record_id,)):
            h.update(f"{table}{row!r}\n".encode())
    return h.hexdigest()[:32]


def test_every_record_digest_follows_the_documented_definition(run: Run, small: Path) -> None:
    assert run("amend", "release", "--set", "quantity=53", "--source", "san", "--reason", "recount").exit_code == 0
    with sqlite3.connect(small) as connection:
        newest: dict[int, str] = {}
        for (text,) in connection.execute("SELECT state FROM journal WHERE state IS NOT NULL ORDER BY seq"):
            for key, digest in json.loads(text).items():
                if key.startswith("r") and digest is not None:
                    newest[int(key[1:])] = digest
        records = [key for (key,) in connection.execute("SELECT id FROM records ORDER BY id")]
        assert records and sorted(newest) == records
        for record_id in records:
            assert documented_digest(connection, record_id) == newest[record_id], record_id
        # A change made outside the ledger gives a different digest, so the definition is not vacuous.
        release = connection.execute("SELECT id FROM records WHERE slug = 'release'").fetchone()[0]
        connection.execute("UPDATE concessions SET quantity = 54 WHERE id = ?", (release,))
        assert documented_digest(connection, release) != newest[release]
        connection.rollback()
