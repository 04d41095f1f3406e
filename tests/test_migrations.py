"""Migrations: one head, up and down and up again, models equal to migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ledger.db import SCHEMA_REVISIONS, make_engine, migrations_dir, resolve_url, upgrade
from ledger.models import Base


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["connection"] = connection
    return config


def test_known_revisions_match_the_scripts() -> None:
    script = ScriptDirectory(str(migrations_dir()))
    assert len(script.get_heads()) == 1
    history = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert tuple(history) == SCHEMA_REVISIONS


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}


def test_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    url = resolve_url(str(path))
    assert upgrade(url) == (None, SCHEMA_REVISIONS[-1])
    full = _tables(path)
    assert {"concessions", "journal", "v_concessions", "v_exchanges", "v_sides"} <= full
    engine = make_engine(url)
    with engine.connect() as connection:
        command.downgrade(_config(connection), "base")
        connection.commit()
    assert _tables(path) == {"alembic_version"}
    with engine.connect() as connection:
        command.upgrade(_config(connection), "head")
        connection.commit()
    engine.dispose()
    assert _tables(path) == full


def test_models_match_migrations(tmp_path: Path) -> None:
    url = resolve_url(str(tmp_path / "m.db"))
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, Base.metadata) if not _is_view(d)]
    engine.dispose()
    assert diff == []


def _is_view(difference: object) -> bool:
    return isinstance(difference, tuple) and difference[0] == "remove_table" and difference[1].name.startswith("v_")


def test_kinds_carry_cameo_codes(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    upgrade(resolve_url(str(path)))
    with sqlite3.connect(path) as connection:
        kinds = dict(connection.execute("SELECT kind, cameo_code FROM concession_kinds").fetchall())
    assert kinds["prisoner_release"] == "0841" and kinds["sanctions_relief"] == "085" and len(kinds) == 8
