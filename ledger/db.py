"""Engines, sessions and schema checks: the only module that knows SQLite from PostgreSQL.

SQLite connections run with foreign keys on, WAL, a busy timeout and driver autocommit off, so we issue
``BEGIN IMMEDIATE`` ourselves for writes (a deferred BEGIN lets two writers deadlock into SQLITE_BUSY).
PostgreSQL writes take a transaction-scoped advisory lock so journal appends are serialised; reads run in
one REPEATABLE READ snapshot. Taking the write lock is retried with backoff while the database is busy,
for at most ``LEDGER_BUSY_TIMEOUT`` seconds (default 30); after that the command fails with exit 4.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from enum import Enum
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ledger.errors import DatabaseProblem, InvalidInput, LedgerError

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Engine, Select, Table
    from sqlalchemy.engine import URL
    from sqlalchemy.orm import Session

# SQLAlchemy is imported inside the functions that use it: `ledger sql` on a SQLite file needs only the
# standard library's sqlite3 here, and importing SQLAlchemy (with its ORM) costs about 0.3 s of CPU.

DEFAULT_DB = "ledger.db"
#: Migrations this code knows, oldest first. A test keeps it equal to Alembic's history.
SCHEMA_REVISIONS: tuple[str, ...] = ("0001", "0002", "0003", "0003_10", "0004_5")
BUSY_TIMEOUT_MS = 30_000
#: Environment variable: seconds a command waits for a busy database before giving up (exit 4).
BUSY_TIMEOUT_ENV = "LEDGER_BUSY_TIMEOUT"
#: Test hook (undocumented for users): cap a SQLite ledger at this many pages to simulate a full disk.
MAX_PAGES_ENV = "LEDGER_SQLITE_MAX_PAGES"
#: Key of the PostgreSQL advisory lock that serialises writers (and so journal appends).
PG_WRITE_LOCK = 0x1ED9E7


def sqlite_path(db: str | None) -> str | None:
    """The SQLite file named by ``--db``, else ``LEDGER_DB``, else ``./ledger.db``; None when it is a URL."""
    value = db or os.environ.get("LEDGER_DB") or DEFAULT_DB
    return None if "://" in value else str(Path(value).expanduser().absolute())


def resolve_url(db: str | None) -> URL:
    """The database URL from ``--db``, else ``LEDGER_DB``, else ``./ledger.db``; paths become SQLite URLs."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.engine import make_url

    path = sqlite_path(db)
    if path is None:
        value = db or os.environ.get("LEDGER_DB") or DEFAULT_DB
        try:
            return make_url(value)
        except sa_exc.ArgumentError as exc:
            raise DatabaseProblem(f"not a database URL: {safe_url_text(value)}") from exc
    return make_url("sqlite://").set(database=path)


def safe_url_text(url: URL | str) -> str:
    """A URL as text with any password hidden."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy.engine import make_url

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


def busy_timeout_ms() -> int:
    """How long to wait for a busy database, from ``LEDGER_BUSY_TIMEOUT`` (seconds) or the default."""
    value = os.environ.get(BUSY_TIMEOUT_ENV)
    if not value:
        return BUSY_TIMEOUT_MS
    try:
        seconds = float(value)
    except ValueError:
        raise DatabaseProblem(f"{BUSY_TIMEOUT_ENV} must be a number of seconds (got {value!r})") from None
    if not 0 <= seconds <= 3600:
        raise DatabaseProblem(f"{BUSY_TIMEOUT_ENV} must be between 0 and 3600 seconds (got {value!r})")
    return int(seconds * 1000)


#: Engines made in this process, by URL and settings: reusing one keeps SQLAlchemy's compiled-statement
#: cache warm when a process runs many commands (tests, batteries). ``dispose()`` only closes connections.
_ENGINES: dict[tuple[str, bool, int, str], Engine] = {}


def make_engine(url: URL, *, create: bool = False) -> Engine:
    """An engine for the ledger at ``url``; a missing SQLite file is an error unless ``create``."""
    from sqlalchemy import create_engine

    key = (url.render_as_string(hide_password=False), create, busy_timeout_ms(), os.environ.get(MAX_PAGES_ENV, ""))
    engine = _ENGINES.get(key)
    if is_sqlite(url):
        _sqlite_check_path(url, create=create)
    if engine is None:
        engine = _sqlite_engine(url, create=create) if is_sqlite(url) else create_engine(url, pool_pre_ping=False)
        if len(_ENGINES) > 64:
            _ENGINES.clear()
            _URLS.clear()
        _ENGINES[key] = engine
        _URLS[engine] = url
    return engine


#: The ledger URL each engine was made for (a SQLite engine's own URL does not name the file).
_URLS: dict[Engine, URL] = {}


def url_of(session: Session) -> URL:
    """The URL of the ledger the session is connected to (for a second connection to the same ledger)."""
    url: URL = session.info["ledger_url"]
    return url


def _sqlite_check_path(url: URL, *, create: bool) -> None:
    path = url.database
    if not path or path == ":memory:":
        raise DatabaseProblem("an in-memory SQLite database cannot hold a ledger; give a file path")
    if not create and not Path(path).exists():
        raise DatabaseProblem(f"no ledger at {path}", hint="create it with: ledger init")


def _sqlite_engine(url: URL, *, create: bool) -> Engine:
    from sqlalchemy import create_engine, event

    path = str(url.database)
    mode = "rwc" if create else "rw"
    uri = f"file:{Path(path).as_posix()}?mode={mode}"
    timeout_ms = busy_timeout_ms()
    engine = create_engine(
        "sqlite+pysqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, timeout=timeout_ms / 1000, check_same_thread=False),
    )
    event.listen(engine, "connect", lambda dbapi, record: _sqlite_on_connect(dbapi, record, timeout_ms))
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any, timeout_ms: int) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        max_pages = os.environ.get(MAX_PAGES_ENV)
        if max_pages and max_pages.isdigit():
            cursor.execute(f"PRAGMA max_page_count={int(max_pages)}")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    write = conn.get_execution_options().get("ledger_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def schema_revision(session: Session) -> str | None:
    """The Alembic revision the database is at, or None when it has never been initialised."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

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

    Writes take the write lock up front (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory lock),
    retried with backoff while the database is busy, until ``LEDGER_BUSY_TIMEOUT`` runs out.
    """
    with translate_errors(url):
        session = _begin(engine, write=write)
    try:
        with translate_errors(url):
            try:
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
                if session.info.get(_ANALYZE_AFTER_COMMIT):
                    _analyze(engine)
    finally:
        session.close()


#: ``session.info`` key: the transaction bulk-loaded rows, so the planner's statistics are refreshed after it.
_ANALYZE_AFTER_COMMIT = "ledger_analyze_after_commit"


def _analyze(engine: Engine) -> None:
    """PostgreSQL: ``ANALYZE`` the ledger's tables, in a transaction of its own once the import committed.

    Autovacuum would do it about a minute later; until then the planner sees the tables as they were
    before the import (empty, after a first load) and picks plans that cost the next commands seconds
    at 100,000 records (the `one-sided` audit check: 2.9 s instead of 0.3 s). Statistics only speed
    queries up, so a failure here (no privilege on a table, a dropped connection) is not the import's:
    the data is committed, and autovacuum will still come.
    """
    from sqlalchemy import exc as sa_exc

    from ledger.models import Base

    names = ", ".join(engine.dialect.identifier_preparer.format_table(t) for t in Base.metadata.sorted_tables)
    try:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"ANALYZE {names}")
    except sa_exc.DBAPIError:
        pass


def _begin(engine: Engine, *, write: bool) -> Session:
    """A session whose transaction has started and, for a write, holds the write lock."""
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    timeout = busy_timeout_ms() / 1000
    deadline = time.monotonic() + timeout
    bind = engine.execution_options(ledger_write=write)
    if engine.dialect.name == "postgresql" and not write:
        # One snapshot for the whole read, as SQLite's WAL gives: under READ COMMITTED each statement
        # would see a different moment, and a reader could see a write half-applied.
        bind = bind.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    delay = 0.01
    while True:
        session = Session(bind=bind, autoflush=True, expire_on_commit=False, info={"ledger_url": _URLS.get(engine)})
        try:
            session.begin()
            session.connection()  # connects and runs BEGIN / BEGIN IMMEDIATE now, inside the retry
            if write and engine.dialect.name == "postgresql":
                remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
                session.execute(text(f"SET LOCAL lock_timeout = {remaining_ms}"))
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_WRITE_LOCK})
            return session
        except sa_exc.DBAPIError as exc:
            session.close()
            if not is_busy(exc) or time.monotonic() >= deadline:
                if is_busy(exc):
                    raise Busy(timeout) from exc
                raise
        time.sleep(min(delay * (1 + _jitter()), max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.5)


def _jitter() -> float:
    import random  # only when the database is busy: not worth its import on every start

    return random.random()


class Busy(DatabaseProblem):
    """Another program held the database longer than the busy timeout."""

    def __init__(self, waited: float) -> None:
        super().__init__(
            f"the ledger is busy: another program kept it locked for more than {waited:g} s; nothing was written",
            hint=f"try again when it has finished (set {BUSY_TIMEOUT_ENV}=SECONDS to wait longer)",
        )


#: PostgreSQL SQLSTATEs worth retrying: serialisation failure, deadlock, lock timeout, too many connections.
_PG_TRANSIENT = {"40001", "40P01", "55P03", "53300"}


def is_busy(exc: BaseException) -> bool:
    """Whether a driver error means 'busy, try again' (SQLite BUSY/LOCKED, PostgreSQL lock conflicts)."""
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.OperationalError):
        code = getattr(orig, "sqlite_errorcode", 0) & 0xFF
        return code in (5, 6) or "locked" in str(orig) or "busy" in str(orig)
    return getattr(orig, "sqlstate", None) in _PG_TRANSIENT


#: SQLite failures users meet, by a phrase of the driver's message: (what happened, what to do).
_SQLITE_PROBLEMS = (
    ("database or disk is full", "the disk is full (or the ledger reached its size limit); nothing was written",
     "free some disk space and run the command again"),
    ("file is not a database", "not a SQLite database (or it is encrypted)", "check the --db path or LEDGER_DB"),
    ("malformed", "the file is damaged; nothing was written",
     "restore it from a backup (see ledger backup); `sqlite3 FILE .recover` may save part of it"),
    ("readonly", "the file or its folder is read-only; nothing was written",
     "check the permissions of the file and of its folder (SQLite writes a -wal file beside it)"),
    ("unable to open", "cannot open the file",
     "check that the file and its folder exist and are readable and writable"),
)  # fmt: skip


@contextmanager
def translate_errors(url: URL | None) -> Iterator[None]:
    """Turn driver errors (locked, corrupt, not a database, disk full) into DatabaseProblem.

    Messages carry the driver's first line only: never the SQL statement or its parameters.
    """
    from sqlalchemy import exc as sa_exc

    where = describe(url) if url is not None else "the database"
    try:
        yield
    except LedgerError:
        raise
    except (sa_exc.DBAPIError, sqlite3.DatabaseError) as exc:
        raise _problem(exc, where) from exc


def _problem(exc: BaseException, where: str) -> DatabaseProblem:
    from sqlalchemy import exc as sa_exc

    orig = getattr(exc, "orig", exc)
    first = _first_line(orig)
    if is_busy(exc):
        return Busy(busy_timeout_ms() / 1000)
    if isinstance(orig, sqlite3.Error) or "sqlite" in type(orig).__module__:
        for phrase, what, hint in _SQLITE_PROBLEMS:
            if phrase in first:
                return DatabaseProblem(f"{where}: {what} (SQLite: {first})", hint=hint)
    if isinstance(exc, sa_exc.IntegrityError):
        return DatabaseProblem(f"the database refused a write: {first}")
    return DatabaseProblem(f"database problem with {where}: {first}")


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
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return None
    value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    connection.commit()
    return str(value) if value is not None else None


def storage_problems(session: Session) -> list[tuple[str, int | None, str]]:
    """Database-level damage as (table, row key, message): SQLite ``quick_check`` and
    ``foreign_key_check``; on PostgreSQL, rows whose foreign key points at no row (orphans)."""
    from sqlalchemy import text

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


def backup(url: URL, target: Path, *, force: bool = False) -> int:
    """Copy a live SQLite ledger to ``target`` with SQLite's online backup API; returns the copy's size.

    The copy is one consistent snapshot (writers may keep working), written beside the target and
    renamed into place only after ``PRAGMA integrity_check`` passes, so a failed backup leaves no file.
    """
    from ledger.errors import InvalidInput

    if not is_sqlite(url):
        raise InvalidInput(
            "ledger backup copies SQLite ledgers; back up a PostgreSQL ledger with pg_dump",
            hint="pg_dump --format=custom --file ledger.dump DBNAME   (restore: pg_restore; see docs/operations.md)",
        )
    _sqlite_check_path(url, create=False)
    source, target = Path(str(url.database)), target.expanduser().absolute()
    if target.exists() and target.resolve() == source.resolve():
        raise InvalidInput(f"{target} is the ledger itself; choose another file for the backup")
    if target.exists() and not force:
        raise InvalidInput(f"{target} already exists", hint="choose another file, or pass --force to overwrite it")
    if not target.parent.is_dir():
        raise InvalidInput(f"{target.parent} is not a folder; create it first")
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        with translate_errors(url):
            _copy(source, partial)
        os.replace(partial, target)
    except OSError as exc:
        raise DatabaseProblem(f"cannot write the backup {target}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target.stat().st_size


def _copy(source: Path, partial: Path) -> None:
    timeout = busy_timeout_ms() / 1000
    src = sqlite3.connect(f"file:{source.as_posix()}?mode=ro", uri=True, timeout=timeout)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # all pages in one step: one read snapshot of the source
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise DatabaseProblem(f"the backup copy failed its integrity check ({check}); the ledger is untouched")
        finally:
            dst.close()
    finally:
        src.close()


def read_sqlite(db: str | None) -> sqlite3.Connection | None:
    """A read-only ``sqlite3`` connection to the SQLite ledger ``--db`` names, inside one read transaction
    (one snapshot for every query), when the file is a ledger at the schema this code knows.

    None when ``db`` is a URL, the file is missing or is not such a ledger: the caller then opens the
    ledger the general way (SQLAlchemy), which says what is wrong exactly as every command does.
    """
    path = sqlite_path(db)
    if path is None or not Path(path).is_file():
        return None
    uri = f"file:{Path(path).as_posix()}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=busy_timeout_ms() / 1000, isolation_level=None)
    except sqlite3.Error:
        return None
    return connection if _at_our_schema(connection, "BEGIN", sqlite3.Error) else None


def _at_our_schema(connection: Any, begin: str, errors: type[Exception]) -> bool:
    """Start a fast read's transaction with ``begin``; True when the ledger is at the schema this code knows.
    Otherwise the connection is closed (the caller then takes the general path, which says what is wrong)."""
    try:
        connection.execute(begin)
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except errors:
        revision = None
    if revision is None or revision[0] != SCHEMA_REVISIONS[-1]:
        connection.close()
        return False
    return True


#: The ``postgresql+psycopg://`` URLs ``read_postgresql`` opens without SQLAlchemy: user, password, one host
#: name or address, port, database and query options; anything else (several hosts, IPv6 brackets) is left
#: to SQLAlchemy. ``tests/test_list_postgresql.py`` checks the arguments equal SQLAlchemy's.
_PG_URL = re.compile(
    r"postgresql\+psycopg://(?:(?P<user>[^:@/?#]*)(?::(?P<password>[^@/?#]*))?@)?"
    r"(?P<host>[^:@/?#,\[\]]*)(?::(?P<port>[0-9]+))?/(?P<dbname>[^?#/]+)(?:\?(?P<query>[^#]*))?"
)


def psycopg_arguments(db: str | None) -> dict[str, Any] | None:
    """The keyword arguments SQLAlchemy's psycopg dialect gives ``psycopg.connect`` for ``--db`` (or
    ``LEDGER_DB``), when it is a plain PostgreSQL URL; None otherwise."""
    from urllib.parse import parse_qsl, unquote

    value = db or os.environ.get("LEDGER_DB") or DEFAULT_DB
    found = _PG_URL.fullmatch(value)
    if found is None:
        return None
    parts = {k: v for k, v in found.groupdict().items() if v}
    arguments: dict[str, Any] = {"host": parts["host"]} if "host" in parts else {}  # as written, as SQLAlchemy
    for name in ("dbname", "user", "password"):
        if name in parts:
            arguments[name] = unquote(parts[name])
    if int(parts.get("port", 0)):  # SQLAlchemy leaves out a port of 0, as it does empty parts
        arguments["port"] = int(parts["port"])
    query = parse_qsl(parts.get("query", ""))
    if len({k for k, _ in query}) != len(query):
        return None  # a repeated option: SQLAlchemy passes a tuple, which psycopg does not take
    arguments.update(query)
    return arguments


#: The first statement of a PostgreSQL read without SQLAlchemy, and of ``ledger sql``'s (as ``_begin`` reads).
_PG_READ_ONLY = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"


def read_postgresql(db: str | None) -> Any | None:
    """A psycopg connection to the PostgreSQL ledger ``--db`` names, inside one REPEATABLE READ, READ ONLY
    transaction (as ``session_scope`` reads), when it is a ledger at the schema this code knows.

    None when ``db`` is not such a URL, psycopg is missing, the server cannot be reached or the database
    is not such a ledger: the caller then opens it through SQLAlchemy, which says what is wrong.
    """
    arguments = psycopg_arguments(db)
    if arguments is None:
        return None
    try:
        import psycopg
    except ImportError:
        return None
    try:
        connection = psycopg.connect(**arguments)
    except psycopg.Error:
        return None
    return connection if _at_our_schema(connection, _PG_READ_ONLY, psycopg.Error) else None


def read_connection(db: str | None) -> tuple[Any, tuple[type[Exception], ...]] | None:
    """A read connection without SQLAlchemy (``read_sqlite`` or ``read_postgresql``) and its driver's error
    classes; None when neither can open the ledger exactly."""
    connection = read_sqlite(db)
    if connection is not None:
        return connection, (sqlite3.Error,)
    connection = read_postgresql(db)
    if connection is None:
        return None
    import psycopg

    return connection, (psycopg.Error,)


# --- read-only queries (`ledger sql`) ------------------------------------------------------------

#: What a user query may do on SQLite: select, read columns, call functions, recurse. Nothing else.
_SQLITE_ALLOWED_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, 33})
_FORBIDDEN_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"})
#: How many SQLite virtual-machine steps run between two checks of the time limit.
_PROGRESS_STEPS = 10_000


class QueryResult(NamedTuple):
    """Rows of a read-only query: column names, rows (at most the cap) and whether more were cut."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def _sqlite_authorizer(action: int, _arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    if action not in _SQLITE_ALLOWED_ACTIONS:
        return sqlite3.SQLITE_DENY
    name = arg2 if action == sqlite3.SQLITE_FUNCTION else None
    if name is not None and name.lower() in _FORBIDDEN_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def read_only_sqlite(path: str) -> sqlite3.Connection:
    """A separate connection that cannot write: ``mode=ro``, ``query_only`` and an allow-list authorizer.

    ``mode=ro`` alone still lets a query ATTACH another file and write to it, or run VACUUM INTO;
    the authorizer refuses every action but SELECT, READ, FUNCTION (not load_extension) and RECURSIVE.
    """
    if not Path(path).exists():
        raise DatabaseProblem(f"no ledger at {path}", hint="create it with: ledger init")
    connection = sqlite3.connect(f"file:{Path(path).as_posix()}?mode=ro", uri=True, timeout=busy_timeout_ms() / 1000)
    connection.execute("PRAGMA query_only=ON")
    connection.set_authorizer(_sqlite_authorizer)
    return connection


def query_read_only(db: str | None, sql: str, params: dict[str, Any], *, max_rows: int, seconds: float) -> QueryResult:
    """Run one user query that can change nothing, with a row cap and a time limit.

    ``db`` is what ``--db`` says. SQLite: the read-only connection above, stopped by a progress handler
    after ``seconds``. PostgreSQL: one REPEATABLE READ, READ ONLY transaction with a ``statement_timeout``,
    always rolled back; through psycopg alone when ``query_without_sqlalchemy`` can, else SQLAlchemy.
    """
    result = query_without_sqlalchemy(db, sql, params, max_rows=max_rows, seconds=seconds)
    if result is not None:
        return result
    return _query_postgresql(resolve_url(db), sql, params, max_rows=max_rows, seconds=seconds)


def query_without_sqlalchemy(
    db: str | None, sql: str, params: dict[str, Any], *, max_rows: int, seconds: float
) -> QueryResult | None:
    """``query_read_only`` through the driver alone: ``sqlite3`` for a SQLite file, psycopg for a PostgreSQL
    ledger ``read_postgresql`` opens; None when only SQLAlchemy can answer exactly as the general path does
    (another kind of URL, an unreachable server, a database not at our schema, the hstore extension).

    The checks of the query itself (one statement; on PostgreSQL, a value for every parameter) come
    first, so both paths refuse the same queries with the same messages.
    """
    _refuse_many_statements(sql)
    path = sqlite_path(db)
    if path is not None:
        return _query_sqlite(path, sql, params, max_rows=max_rows, seconds=seconds)
    statement, names = pyformat_statement(sql)
    missing = [name for name in names if name not in params]
    if missing:
        raise InvalidInput(
            f"the query uses :{missing[0]} but no value was given for it", hint=f"give one with: -p {missing[0]} VALUE"
        )
    return _query_psycopg(db, statement, {name: params[name] for name in names}, max_rows=max_rows, seconds=seconds)


#: How SQLAlchemy's ``text()`` finds parameters, and the ``\:`` escape it removes (``TextClause`` and
#: ``sqlalchemy.sql.compiler``): ``:name`` anywhere, in string literals, quoted names and comments too,
#: but not ``::cast``, ``a:b`` or ``:name:``. ``tests/test_sql_postgresql.py`` checks the result against
#: what SQLAlchemy compiles, so a change there shows up as a failing test, not as a different answer.
_TEXT_PARAMETER = re.compile(r"(?<![:\w\x5c]):(\w+)(?![:\w])", re.UNICODE)
_TEXT_ESCAPE = re.compile(r"\x5c(:\w*)(?![:\w])", re.UNICODE)


def pyformat_statement(sql: str) -> tuple[str, list[str]]:
    """``sql`` as SQLAlchemy compiles ``text(sql)`` for psycopg, and the parameter names it uses (in order
    of first use): every ``%`` doubled (psycopg would read it as a placeholder), each parameter
    ``:name`` written ``%(name)s``, then ``\\:`` unescaped to ``:``."""
    names: dict[str, None] = {}

    def placeholder(found: re.Match[str]) -> str:
        names.setdefault(found[1])
        return f"%({found[1]})s"

    statement = _TEXT_PARAMETER.sub(placeholder, sql.replace("%", "%%"))
    return _TEXT_ESCAPE.sub(lambda found: found[1], statement), list(names)


def _refuse_many_statements(sql: str) -> None:
    body = sql.strip().rstrip(";").strip()
    if not body:
        raise InvalidInput("the query is empty; give one SELECT statement")
    # complete_statement() is true for a complete first statement, so any text after it means another one.
    for i, char in enumerate(body):
        if char == ";" and sqlite3.complete_statement(body[: i + 1]) and body[i + 1 :].strip():
            raise InvalidInput("refused: only one statement per query (found text after the first ';')")


def _query_sqlite(path: str, sql: str, params: dict[str, Any], *, max_rows: int, seconds: float) -> QueryResult:
    connection = read_only_sqlite(path)
    deadline = time.monotonic() + seconds
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_STEPS)
    try:
        cursor = connection.execute(sql, params)
        rows = cursor.fetchmany(max_rows + 1)
        columns = [d[0] for d in cursor.description or ()]
    except sqlite3.DatabaseError as exc:
        raise _refusal(str(exc), seconds) from None
    except sqlite3.Warning as exc:  # "You can only execute one statement at a time."
        raise InvalidInput(f"refused: {exc}") from None
    finally:
        connection.close()
    return QueryResult(columns, rows[:max_rows], len(rows) > max_rows)


#: What a refused query is told about ``ledger sql``.
_ONLY_READS = "ledger sql only reads: one SELECT (or WITH ... SELECT) statement"


def _refusal(message: str, seconds: float) -> InvalidInput:
    if any(word in message for word in ("not authorized", "prohibited", "readonly", "read-only transaction")):
        return InvalidInput(f"refused: {message}", hint=_ONLY_READS)
    if "interrupted" in message or "canceling statement due to statement timeout" in message:
        return InvalidInput(f"refused: the query ran longer than the {seconds:g} s limit and was stopped")
    return InvalidInput(f"the query failed: {message}")


def _no_rows() -> InvalidInput:
    return InvalidInput("refused: the statement returns no rows", hint=_ONLY_READS)


def _query_psycopg(
    db: str | None, statement: str, values: dict[str, Any], *, max_rows: int, seconds: float
) -> QueryResult | None:
    """``_query_postgresql`` on psycopg alone: the same transaction, the same statement and values as
    SQLAlchemy gives psycopg (``pyformat_statement``), the same rows; None when it cannot be exact."""
    connection = read_postgresql(db)
    if connection is None:
        return None
    import psycopg

    try:
        try:
            hstore = connection.execute("SELECT to_regtype('hstore')").fetchone()[0]
            connection.execute(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
        except psycopg.Error:
            return None  # the general path opens the ledger again and says what is wrong
        if hstore is not None:
            return None  # SQLAlchemy loads hstore values as dicts in a database with the extension
        try:
            cursor = connection.execute(statement, values)
            if cursor.description is None:
                raise _no_rows()
            rows = cursor.fetchmany(max_rows + 1)
            columns = [column.name for column in cursor.description]
        except psycopg.Error as exc:
            raise _refusal(_first_line(exc), seconds) from None
    finally:
        with suppress(psycopg.Error):  # a broken connection: the server has ended the transaction
            connection.rollback()
        connection.close()
    return QueryResult(columns, rows[:max_rows], len(rows) > max_rows)


def _query_postgresql(url: URL, sql: str, params: dict[str, Any], *, max_rows: int, seconds: float) -> QueryResult:
    from sqlalchemy import exc as sa_exc
    from sqlalchemy import text

    engine = make_engine(url)
    try:
        with translate_errors(url), engine.connect() as connection:
            connection.exec_driver_sql(_PG_READ_ONLY)
            connection.exec_driver_sql(f"SET LOCAL statement_timeout = {int(seconds * 1000)}")
            try:
                result = connection.execute(text(sql), params)
                if not result.returns_rows:
                    raise _no_rows()
                rows = [tuple(r) for r in result.fetchmany(max_rows + 1)]
                columns = list(result.keys())
            except sa_exc.DBAPIError as exc:
                raise _refusal(_first_line(exc.orig), seconds) from None
            finally:
                connection.rollback()
    finally:
        engine.dispose()
    return QueryResult(columns, rows[:max_rows], len(rows) > max_rows)


#: SQLite page cache for a bulk import, in KiB: bounded, so memory stays flat, but large enough that
#: random inserts into the unique indexes (IDs, journal hashes) do not thrash the default 2 MiB cache.
#: 32 MiB keeps a 100,000-concession import near 120 MB of RSS (64 MiB: about 160 MB, no faster).
BULK_CACHE_KIB = 32_768


def prepare_bulk_load(session: Session) -> None:
    """Settings for a streaming import in this transaction: SQLite, a bigger page cache. PostgreSQL: a plan
    per execution, and fresh planner statistics once it commits (see ``_analyze``).

    psycopg prepares a statement the fifth time it runs, and from then on the server may keep one generic
    plan for it, made while the import's tables were still small: a sequential scan that compares every
    row with each of a thousand parameters (``id IN (...)`` of a batch), which the tables outgrow. At
    100,000 concessions those statements took 1.2 to 2.0 s each: 49 s of the server's 109 s for the import.
    """
    from sqlalchemy import text

    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"PRAGMA cache_size=-{BULK_CACHE_KIB}"))
    else:
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        session.info[_ANALYZE_AFTER_COMMIT] = True


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` new primary keys of ``table`` (an integer ``id`` column), reserved for this transaction.

    A bulk insert that knows its keys needs no ``RETURNING`` (one statement per row on SQLite). On SQLite
    the write transaction holds the database lock, so the keys after the largest one in use are free; on
    PostgreSQL they are drawn from the column's sequence, so concurrent writers never collide.
    """
    from sqlalchemy import func, select

    if count <= 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        drawn = select(func.nextval(sequence)).select_from(func.generate_series(1, count))
        return [int(key) for key in session.execute(drawn).scalars()]
    start = int(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
    return list(range(start + 1, start + count + 1))


def driver_rows(session: Session, stmt: Select[Any], params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every row of ``stmt``, with its bound parameters ``params``, as plain tuples from the driver's cursor.

    For full passes over large tables (verification hashes every row, a range of keys at a time): no
    result-row objects, about half the per-row cost of a SQLAlchemy result. Columns come back as the
    driver returns them; give them no SQLAlchemy type processing either (e.g. ``type_coerce(column,
    NullType())``), so this and a normal result of the statement see the same values. Values go to the
    driver as given (integers, text). The statement is compiled once per dialect (bounded cache): pass the
    same statement object again and only the values change.
    """
    cursor = _driver_cursor(session, stmt, params)
    try:
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows
    finally:
        cursor.close()


def driver_batches(session: Session, stmt: Select[Any], size: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``stmt`` (its own bound values) as lists of plain tuples from the driver's cursor, ``size`` at
    a time: ``driver_rows`` for a statement read once, whose rows are let go batch by batch (the audit's checks
    read hundreds of thousands). The same caveat on column types applies."""
    cursor = _driver_cursor(session, stmt, {})
    try:
        while batch := cursor.fetchmany(size):
            yield batch
    finally:
        cursor.close()


def _driver_cursor(session: Session, stmt: Select[Any], params: dict[str, Any]) -> Any:
    connection = session.connection()
    compiled = _compiled(stmt, connection.dialect)
    values = {name: value.value if isinstance(value, Enum) else value  # the stored value of an enum parameter
              for name, value in compiled.construct_params(params).items()}  # fmt: skip
    driver = connection.connection.driver_connection
    assert driver is not None
    cursor = driver.cursor()
    try:
        if compiled.positiontup is not None:
            cursor.execute(compiled.string, [values[name] for name in compiled.positiontup])
        else:
            cursor.execute(compiled.string, values)
    except BaseException:
        cursor.close()
        raise
    return cursor


@lru_cache(maxsize=256)
def _compiled(stmt: Select[Any], dialect: Any) -> Any:
    return stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})  # IN lists expanded


def export_snapshot(session: Session) -> str | None:
    """An ID with which another connection can read exactly what this transaction reads (PostgreSQL's
    ``pg_export_snapshot()``; valid while this transaction lasts). None on SQLite, which cannot share a
    snapshot between connections: a reader there compares what it saw (e.g. the journal's head) instead."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return None
    return str(session.execute(text("SELECT pg_export_snapshot()")).scalar_one())


def import_snapshot(session: Session, snapshot: str) -> None:
    """Make this read transaction see the snapshot ``export_snapshot`` gave (before it reads anything)."""
    from sqlalchemy import text

    if not re.fullmatch(r"[0-9A-Fa-f-]+", snapshot):
        raise ValueError(f"not a snapshot ID: {snapshot!r}")
    session.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))


def date_text(column: Any) -> ColumnElement[str]:
    """A DATE column as ``YYYY-MM-DD`` text, written by the database (streaming exports format no dates in
    Python). SQLite stores dates as that text already; PostgreSQL writes it with ``to_char`` (a plain cast
    would follow the server's DateStyle)."""
    return _date_text()(column)  # type: ignore[no-any-return]


@cache
def _date_text() -> Any:
    from sqlalchemy import String
    from sqlalchemy.ext.compiler import compiles
    from sqlalchemy.sql.functions import FunctionElement

    class DateText(FunctionElement[str]):
        type = String()
        name = "date_text"
        inherit_cache = True

    @compiles(DateText)
    def _sqlite(element: DateText, compiler: Any, **kw: Any) -> str:
        return str(compiler.process(element.clauses, **kw))

    @compiles(DateText, "postgresql")
    def _postgresql(element: DateText, compiler: Any, **kw: Any) -> str:
        return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"

    return DateText
