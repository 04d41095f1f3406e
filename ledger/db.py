"""Engines, sessions and schema checks: the only module that knows SQLite from PostgreSQL.

SQLite connections run with foreign keys on, WAL, a busy timeout and driver autocommit off, so we
issue ``BEGIN IMMEDIATE`` ourselves for writes (a deferred BEGIN lets two writers deadlock into
SQLITE_BUSY). PostgreSQL writes take a transaction-scoped advisory lock so journal appends are
serialised.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from ledger.errors import DatabaseProblem, LedgerError

DEFAULT_DB = "ledger.db"
#: Migrations this code knows, oldest first. A test keeps it equal to Alembic's history.
SCHEMA_REVISIONS: tuple[str, ...] = ("0001", "0002", "0003_10")
BUSY_TIMEOUT_MS = 30_000
#: Key of the PostgreSQL advisory lock that serialises writers (and so journal appends).
PG_WRITE_LOCK = 0x1ED9E7


def resolve_url(db: str | None) -> URL:
    """The database URL from ``--db``, else ``LEDGER_DB``, else ``./ledger.db``; paths become SQLite URLs."""
    value = db or os.environ.get("LEDGER_DB") or DEFAULT_DB
    if "://" in value:
        try:
            return make_url(value)
        except sa_exc.ArgumentError as exc:
            raise DatabaseProblem(f"not a database URL: {safe_url_text(value)}") from exc
    return make_url("sqlite://").set(database=str(Path(value).expanduser().absolute()))


def safe_url_text(url: URL | str) -> str:
    """A URL as text with any password hidden."""
    if isinstance(url, str):
        try:
            url = make_url(url)
        except sa_exc.ArgumentError:
            return "<unparseable URL>"
    return url.render_as_string(hide_password=True)


def is_sqlite(url: URL) -> bool:
    """Whether the URL names a SQLite database."""
    return url.get_backend_name() == "sqlite"


def describe(url: URL) -> str:
    """How to name the database to a user: the file path for SQLite, the safe URL otherwise."""
    return url.database or "" if is_sqlite(url) else safe_url_text(url)


def make_engine(url: URL, *, create: bool = False) -> Engine:
    """An engine for the ledger at ``url``; a missing SQLite file is an error unless ``create``."""
    if is_sqlite(url):
        return _sqlite_engine(url, create=create)
    return create_engine(url, pool_pre_ping=False)


def _sqlite_engine(url: URL, *, create: bool) -> Engine:
    path = url.database
    if not path or path == ":memory:":
        raise DatabaseProblem("an in-memory SQLite database cannot hold a ledger; give a file path")
    if not create and not Path(path).exists():
        raise DatabaseProblem(f"no ledger at {path}", hint="create it with: ledger init")
    mode = "rwc" if create else "rw"
    uri = f"file:{Path(path).as_posix()}?mode={mode}"
    engine = create_engine(
        "sqlite+pysqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False),
    )
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    write = conn.get_execution_options().get("ledger_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def schema_revision(session: Session) -> str | None:
    """The Alembic revision the database is at, or None when it has never been initialised."""
    try:
        with session.begin_nested():
            return session.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    except (sa_exc.ProgrammingError, sa_exc.OperationalError):
        return None


def check_schema(session: Session, url: URL) -> None:
    """Refuse a database that is not initialised, behind the code, or newer than the code."""
    revision = schema_revision(session)
    where = describe(url)
    if revision is None:
        raise DatabaseProblem(f"{where} is not an initialised ledger", hint="initialise it with: ledger init")
    if revision not in SCHEMA_REVISIONS:
        raise DatabaseProblem(
            f"{where} has schema revision {revision}, newer than this version of ledger understands "
            f"(up to {SCHEMA_REVISIONS[-1]})",
            hint="upgrade ledger (pip install -U ledger) before using this database",
        )
    if revision != SCHEMA_REVISIONS[-1]:
        raise DatabaseProblem(
            f"{where} has schema revision {revision}; this ledger needs {SCHEMA_REVISIONS[-1]}",
            hint="upgrade the database with: ledger init",
        )


@contextmanager
def session_scope(engine: Engine, *, write: bool, url: URL | None = None, dry_run: bool = False) -> Iterator[Session]:
    """One transaction: commit when the block ends (roll back for a dry run), roll back on any error.

    Writes take the write lock up front (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock).
    """
    bind = engine.execution_options(ledger_write=write)
    session = Session(bind=bind, autoflush=True, expire_on_commit=False)
    try:
        with translate_errors(url):
            session.begin()
            try:
                if write and engine.dialect.name == "postgresql":
                    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_WRITE_LOCK})
                if url is not None:
                    check_schema(session, url)
                yield session
            except BaseException:
                session.rollback()
                raise
            if dry_run or not write:
                session.rollback()
            else:
                session.commit()
    finally:
        session.close()


@contextmanager
def translate_errors(url: URL | None) -> Iterator[None]:
    """Turn driver errors (locked, corrupt, not a database, disk full) into DatabaseProblem."""
    where = describe(url) if url is not None else "the database"
    try:
        yield
    except LedgerError:
        raise
    except sa_exc.OperationalError as exc:
        raise DatabaseProblem(f"database problem with {where}: {_first_line(exc.orig)}") from exc
    except sa_exc.DatabaseError as exc:
        if isinstance(exc, sa_exc.IntegrityError):
            raise DatabaseProblem(f"the database refused a write: {_first_line(exc.orig)}") from exc
        raise DatabaseProblem(f"database problem with {where}: {_first_line(exc.orig)}") from exc
    except sqlite3.DatabaseError as exc:
        raise DatabaseProblem(f"database problem with {where}: {_first_line(exc)}") from exc


def _first_line(error: BaseException | None) -> str:
    return str(error).strip().splitlines()[0] if error is not None and str(error).strip() else "unknown error"


def migrations_dir() -> Path:
    """Where the Alembic scripts are: inside the installed package, or the source checkout's migrations/."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir / "_migrations", package_dir.parent / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise DatabaseProblem("the ledger's migration scripts are missing from this installation")


def upgrade(url: URL) -> tuple[str | None, str]:
    """Create or upgrade the schema to head through Alembic; returns (revision before, revision after)."""
    from alembic import command
    from alembic.config import Config

    engine = make_engine(url, create=True)
    try:
        with translate_errors(url), engine.connect() as connection:
            before = _revision_of(connection)
            if before is not None and before not in SCHEMA_REVISIONS:
                raise DatabaseProblem(
                    f"{describe(url)} has schema revision {before}, newer than this version of ledger understands"
                )
            config = Config()
            config.set_main_option("script_location", str(migrations_dir()))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
            return before, _revision_of(connection) or ""
    finally:
        engine.dispose()


def _revision_of(connection: Any) -> str | None:
    from sqlalchemy import inspect

    if not inspect(connection).has_table("alembic_version"):
        return None
    value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    connection.commit()
    return str(value) if value is not None else None


def storage_problems(session: Session) -> list[tuple[str, int | None, str]]:
    """Database-level damage as (table, row key, message): SQLite ``quick_check`` and
    ``foreign_key_check``; on PostgreSQL, rows whose foreign key points at no row (orphans)."""
    if session.get_bind().dialect.name == "sqlite":
        problems: list[tuple[str, int | None, str]] = []
        for (message,) in session.execute(text("PRAGMA quick_check")):
            if message != "ok":
                problems.append(("database", None, f"SQLite quick_check: {message}"))
        for table, rowid, parent, _fk in session.execute(text("PRAGMA foreign_key_check")):
            problems.append((table, rowid, f"a row of {table} points at a missing row of {parent}"))
        return problems
    return _orphans(session)


def _orphans(session: Session) -> list[tuple[str, int | None, str]]:
    from sqlalchemy import select

    from ledger.models import Base

    problems: list[tuple[str, int | None, str]] = []
    for table in Base.metadata.sorted_tables:
        key = next(iter(table.primary_key.columns))
        for column in table.c:
            for fk in column.foreign_keys:
                parent = fk.column.table.alias("parent")  # aliased: a table may point at itself
                target = parent.c[fk.column.key]
                missing = ~select(target).where(target == column).exists()
                stmt = select(key).where(column.is_not(None), missing).order_by(key).limit(100)
                for (row_key,) in session.execute(stmt):
                    problems.append((table.name, row_key, f"a row of {table.name} points at a missing row of "
                                     f"{fk.column.table.name}"))  # fmt: skip
    return problems
