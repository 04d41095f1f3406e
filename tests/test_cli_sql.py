"""`ledger sql`: answers read-only questions, and refuses every way of changing the file."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Run, checksum

pytestmark = pytest.mark.sqlite_only


def test_select_with_named_parameters(run: Run, seeded_copy: Path) -> None:
    result = run("sql", "SELECT id, kind FROM v_concessions WHERE giver = :giver ORDER BY id", "-p", "giver", "by",
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = result.json()
    assert rows and all(r["kind"] for r in rows)
    assert "by-releases-123-prisoners" in {r["id"] for r in rows}
    same = run("sql", "SELECT id FROM v_concessions WHERE giver = :giver ORDER BY id LIMIT :n", "-p", "giver=by",
               "-p", "n", "2", "--format", "jsonl")  # fmt: skip
    assert [json.loads(line)["id"] for line in same.stdout.splitlines()] == [r["id"] for r in rows][:2]


def test_row_cap_is_reported(run: Run, seeded_copy: Path) -> None:
    result = run("sql", "SELECT slug FROM records ORDER BY slug", "--max-rows", "3", "--format", "csv")
    assert result.exit_code == 0
    assert len(result.stdout.strip().splitlines()) == 4  # header + 3 rows
    assert "first 3 rows" in result.stderr


def test_csv_output_escapes_formulas(run: Run, seeded_copy: Path) -> None:
    result = run("sql", "SELECT '=HYPERLINK(1)' AS cell", "--format", "csv")
    assert result.stdout.splitlines()[1] == "'=HYPERLINK(1)"


ATTACKS = {
    "insert": "INSERT INTO records (type, slug) VALUES ('party', 'evil')",
    "update": "UPDATE parties SET name = 'evil'",
    "delete": "DELETE FROM journal",
    "drop": "DROP TABLE parties",
    "create": "CREATE TABLE evil (x)",
    "create view": "CREATE TEMP VIEW evil AS SELECT 1",
    "attach": "ATTACH DATABASE '{other}' AS other",
    "vacuum into": "VACUUM INTO '{other}'",
    "writable_schema": "PRAGMA writable_schema = ON",
    "query_only off": "PRAGMA query_only = OFF",
    "load_extension": "SELECT load_extension('/tmp/evil.so')",
    "cte insert": "WITH x AS (SELECT 1) INSERT INTO evil SELECT * FROM x",
    "two statements": "SELECT 1; DELETE FROM parties",
    "two statements, second hidden": "SELECT 1 AS a;;UPDATE parties SET name = 'x'",
    "savepoint": "SAVEPOINT a",
    "replace": "REPLACE INTO concession_kinds VALUES ('evil', '1', 'x')",
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_every_write_is_refused_and_the_file_unchanged(run: Run, seeded_copy: Path, tmp_path: Path, name: str) -> None:
    other = tmp_path / "other.db"
    before = checksum(seeded_copy)
    result = run("sql", ATTACKS[name].format(other=other))
    assert result.exit_code == 3, (name, result.stdout, result.stderr)
    assert "refused" in result.stderr or "failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert checksum(seeded_copy) == before
    assert not other.exists() or other.stat().st_size == 0


def test_attach_then_write_is_refused(run: Run, seeded_copy: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    before_other, before = checksum(other), checksum(seeded_copy)
    result = run("sql", f"ATTACH DATABASE '{other}' AS o")
    assert result.exit_code == 3
    result = run("sql", "INSERT INTO o.t VALUES (1)")
    assert result.exit_code == 3
    assert (checksum(seeded_copy), checksum(other)) == (before, before_other)


def test_endless_recursive_query_is_stopped(run: Run, seeded_copy: Path) -> None:
    before = checksum(seeded_copy)
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    result = run("sql", endless, "--timeout", "0.5")
    assert result.exit_code == 3
    assert "limit" in result.stderr and "stopped" in result.stderr
    assert checksum(seeded_copy) == before


def test_a_finite_recursive_query_is_allowed(run: Run, seeded_copy: Path) -> None:
    result = run("sql", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) "
                 "SELECT sum(i) AS total FROM n", "--format", "json")  # fmt: skip
    assert result.json() == [{"total": 15}]


def test_syntax_error_is_a_clear_refusal(run: Run, seeded_copy: Path) -> None:
    result = run("sql", "SELEC nothing")
    assert result.exit_code == 3
    assert "syntax error" in result.stderr


def test_missing_parameter_value(run: Run, seeded_copy: Path) -> None:
    result = run("sql", "SELECT :a", "-p", "a")
    assert result.exit_code == 3
    assert "-p a" in result.stderr
