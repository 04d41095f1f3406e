"""Migrations on SQLite and PostgreSQL: one head, up and down and up again, models equal to migrations,
and data kept across an upgrade."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from ledger.db import SCHEMA_REVISIONS, make_engine, migrations_dir, resolve_url, upgrade
from ledger.models import Base
from ledger.ops import state
from tests.conftest import SEEDS, Run, table_dump_hash


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _connect(url: str) -> Iterator[Connection]:
    engine = make_engine(resolve_url(url))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _migrate(url: str, direction: str, target: str) -> None:
    with _connect(url) as connection:
        getattr(command, direction)(_config(connection), target)
        connection.commit()


def test_known_revisions_match_the_scripts() -> None:
    script = ScriptDirectory(str(migrations_dir()))
    assert len(script.get_heads()) == 1
    history = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert tuple(history) == SCHEMA_REVISIONS


def _tables(url: str) -> set[str]:
    with _connect(url) as connection:
        inspector = inspect(connection)
        return set(inspector.get_table_names()) | set(inspector.get_view_names())


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    assert upgrade(resolve_url(db_url)) == (None, SCHEMA_REVISIONS[-1])
    full = _tables(db_url)
    assert {"concessions", "journal", "v_concessions", "v_exchanges", "v_sides"} <= full
    _migrate(db_url, "downgrade", "base")
    assert _tables(db_url) == {"alembic_version"}
    _migrate(db_url, "upgrade", "head")
    assert _tables(db_url) == full


def test_models_match_migrations(db_url: str) -> None:
    upgrade(resolve_url(db_url))
    with _connect(db_url) as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, Base.metadata) if not _is_view(d)]
    assert diff == []


def _is_view(difference: object) -> bool:
    return isinstance(difference, tuple) and difference[0] == "remove_table" and difference[1].name.startswith("v_")


def test_kinds_carry_cameo_codes(db_url: str) -> None:
    upgrade(resolve_url(db_url))
    with _connect(db_url) as connection:
        kinds = dict(connection.execute(text("SELECT kind, cameo_code FROM concession_kinds")).all())
    assert kinds["prisoner_release"] == "0841" and kinds["sanctions_relief"] == "085" and len(kinds) == 8


def test_data_survives_an_upgrade_from_the_previous_revision(
    run: Run, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ledger with rows at revision N-1, upgraded to head by `ledger init`, keeps every row."""
    assert run("init").exit_code == 0
    with monkeypatch.context() as patch:  # written as code before 0004_5 wrote it: no record digests
        patch.setattr(state, "state_of", lambda *_: None)
        assert run("import", str(SEEDS)).exit_code == 0
    _migrate(db_url, "downgrade", SCHEMA_REVISIONS[-2])
    with _connect(db_url) as connection:
        at = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        journal_rows = connection.execute(text("SELECT count(*) FROM journal")).scalar_one()
    assert at == SCHEMA_REVISIONS[-2] and journal_rows > 50
    before = table_dump_hash(db_url, exclude={"alembic_version"})
    assert run("list").exit_code == 4  # the code refuses an old schema until it is upgraded
    result = run("init")
    assert result.exit_code == 0, result.stderr
    assert table_dump_hash(db_url, exclude={"alembic_version"}, skip_columns={"journal.state"}) == before
    assert run("verify").exit_code == 0  # entries without digests: verified by a replay
    assert run("add", "--id", "late", "--giver", "by", "--receiver", "us", "--kind", "prisoner_release",
               "--summary", "after the upgrade", "--status", "promised").exit_code == 0  # fmt: skip
    verified = run("verify")
    assert verified.exit_code == 0 and "predate record digests" in verified.stderr, verified.stderr


def test_a_journal_with_digests_refuses_the_downgrade_that_would_break_its_chain(run: Run, db_url: str) -> None:
    assert run("init").exit_code == 0
    assert run("import", str(SEEDS)).exit_code == 0
    with pytest.raises(RuntimeError, match="would break the hash chain"):
        _migrate(db_url, "downgrade", "0003_10")
    assert run("verify").exit_code == 0
    assert len(run("list", "--format", "json").json()) > 10
    assert run("audit").exit_code == 0
