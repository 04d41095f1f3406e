"""A streamed import on PostgreSQL refreshes the planner's statistics once it has committed.

Without it the planner keeps the statistics of the tables as they were before the import (empty, after
a first load) until autovacuum comes, and the next commands pick plans that cost seconds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy import create_engine, text

from tests.conftest import Run

TABLES = ("records", "concessions", "citations", "journal")


def _analyzed(db_url: str) -> dict[str, bool]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = ANY(:names)"),
                {"names": list(TABLES)},
            ).all()
    finally:
        engine.dispose()
    return {name: bool(done) for name, done in rows}


def _lines(path: Path, count: int) -> Path:
    records: list[dict[str, Any]] = [
        {"type": "concession", "id": f"c-{i}", "giver": "by", "receiver": "us", "kind": "prisoner_release",
         "summary": f"Release {i}", "quantity": i + 1, "unit": "person", "status": "promised", "date": "2025-09",
         "citations": [{"source": "san", "quote": f"quote {i}", "locator": "line 1"}]}
        for i in range(count)
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def on_postgresql(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's: SQLite plans without them")


@pytest.mark.usefixtures("on_postgresql")
def test_a_streamed_import_analyzes_the_ledger_tables(run: Run, small: Path, db_url: str, tmp_path: Path) -> None:
    assert not any(_analyzed(db_url).values())
    dry = run("import", "--stream", "--dry-run", str(_lines(tmp_path / "c.jsonl", 30)))
    assert dry.exit_code == 0, dry.stderr
    assert not any(_analyzed(db_url).values())  # nothing committed: nothing to refresh

    result = run("import", "--stream", str(tmp_path / "c.jsonl"))
    assert result.exit_code == 0, result.stderr
    assert _analyzed(db_url) == dict.fromkeys(TABLES, True)


@pytest.mark.usefixtures("on_postgresql")
def test_a_failed_analyze_does_not_fail_the_committed_import(
    run: Run, small: Path, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sqlalchemy.engine.Connection.exec_driver_sql

    def refuse_analyze(self: Any, statement: str, *args: Any, **kwargs: Any) -> Any:
        if statement.startswith("ANALYZE"):
            raise sqlalchemy.exc.OperationalError(statement, {}, Exception("permission denied"))
        return real(self, statement, *args, **kwargs)

    monkeypatch.setattr(sqlalchemy.engine.Connection, "exec_driver_sql", refuse_analyze)
    result = run("import", "--stream", str(_lines(tmp_path / "c.jsonl", 30)))
    assert result.exit_code == 0, result.stderr
    assert not any(_analyzed(db_url).values())
    listed = run("list", "--format", "csv")
    assert listed.exit_code == 0 and "c-29" in listed.stdout


@pytest.mark.usefixtures("on_postgresql")
def test_a_streamed_import_plans_each_statement_for_its_own_parameters(ledger_db: Path, db_url: str) -> None:
    """A generic plan made while the tables were small would scan them for each batch of a thousand IDs."""
    from ledger.db import make_engine, prepare_bulk_load, resolve_url, session_scope

    url = resolve_url(db_url)
    engine = make_engine(url)
    try:
        with session_scope(engine, write=True, url=url, dry_run=True) as session:
            prepare_bulk_load(session)
            assert session.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
        with session_scope(engine, write=False, url=url) as session:  # SET LOCAL: that transaction only
            assert session.execute(text("SHOW plan_cache_mode")).scalar_one() == "auto"
    finally:
        engine.dispose()
