"""Shared fixtures: a fresh ledger per test on each backend, the real Typer app, the seeds and shared sources.

Every test that goes through ``run`` (or ``ledger_db``, ``seeded``, ``small``, ``db_url``) runs twice: on a
SQLite file and on a fresh database of a throw-away PostgreSQL server (tests/pg.py) started once per
session. ``LEDGER_TEST_BACKENDS=sqlite`` (or ``postgresql``) narrows that. Tests that open the SQLite file
directly are marked ``sqlite_only`` and skip on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.cli.app import app
from tests.pg import PgServer, cannot_start, find_bin_dir

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "belarus-us.yaml"
SHARED_SOURCES = ROOT.parent / "shared" / "sources"

# Every write in the suite proves that its journal entry names every record whose rows it changed
# (ledger/ops/state.py); a record it missed would fail verification later, far from the cause.
os.environ.setdefault("LEDGER_CHECK_TOUCHED", "1")


@dataclass
class Result:
    """What one `ledger` invocation did."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


Run = Callable[..., Result]


def checksum(path: Path) -> str:
    """SHA-256 of a file's bytes, to prove a rejected command changed nothing."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


BACKENDS = [b.strip() for b in os.environ.get("LEDGER_TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One throw-away PostgreSQL server for the whole session; skips when the machine has none."""
    # CI sets LEDGER_REQUIRE_POSTGRESQL=1: there a missing server is a failure, not a quiet skip.
    give_up = pytest.fail if os.environ.get("LEDGER_REQUIRE_POSTGRESQL") == "1" else pytest.skip
    bin_dir = find_bin_dir()
    if bin_dir is None:
        give_up("no PostgreSQL binaries (initdb, pg_ctl, postgres) on PATH or in /usr/lib/postgresql/*/bin")
    reason = cannot_start()
    if reason is not None:
        give_up(f"cannot start PostgreSQL: {reason}")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        give_up("psycopg is not installed: pip install -e '.[postgresql]'")
    server = PgServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend this test runs on: ``sqlite`` or ``postgresql``."""
    if request.param == "postgresql" and request.node.get_closest_marker("sqlite_only"):
        pytest.skip("sqlite_only: the test reads or writes the SQLite file itself")
    return str(request.param)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where this test's SQLite ledger lives (unused on PostgreSQL)."""
    return tmp_path / "ledger.db"


@pytest.fixture
def db_url(backend: str, db_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """This test's ledger as ``--db`` takes it: the SQLite path, or a fresh, empty PostgreSQL database."""
    if backend == "sqlite":
        yield str(db_path)
        return
    server: PgServer = request.getfixturevalue("pg_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def fingerprint(db_url: str, backend: str, db_path: Path) -> Callable[[], str]:
    """A hash of the whole database, to prove a rejected command changed nothing.

    SQLite: the file's bytes (byte-for-byte unchanged). PostgreSQL: every row of every table, sorted.
    """
    if backend == "sqlite":
        return lambda: checksum(db_path)
    return lambda: table_dump_hash(db_url)


def table_dump_hash(
    url: str, *, exclude: set[str] | frozenset[str] = frozenset(), skip_columns: set[str] | frozenset[str] = frozenset()
) -> str:
    """SHA-256 of every table's rows in a fixed order (sequences, which never roll back, are left out).

    ``skip_columns`` (``table.column``) leaves columns out, such as one a migration adds, empty.
    """
    from sqlalchemy import MetaData, select

    from ledger.db import make_engine, resolve_url

    engine = make_engine(resolve_url(url))
    digest = hashlib.sha256()
    try:
        metadata = MetaData()
        with engine.connect() as connection:
            metadata.reflect(connection)
            for name in sorted(set(metadata.tables) - set(exclude)):
                table = metadata.tables[name]
                columns = [c for c in table.c if f"{name}.{c.key}" not in skip_columns]
                rows = sorted(repr(tuple(row)) for row in connection.execute(select(*columns)))
                digest.update(f"{name}:{len(rows)}\n".encode())
                for row in rows:
                    digest.update(row.encode() + b"\n")
    finally:
        engine.dispose()
    return digest.hexdigest()


@pytest.fixture
def run(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke the real app against this test's ledger; returns exit code, stdout and stderr."""
    monkeypatch.delenv("LEDGER_DB", raising=False)
    monkeypatch.setenv("LEDGER_AUTHOR", "tester")
    runner = CliRunner()

    def invoke(*args: str, db: str | None = None, input: str | None = None) -> Result:
        result = runner.invoke(app, ["--db", db or db_url, *args], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


class Prepared:
    """Ledgers built once per test session (per xdist worker) through the real app, then copied into each
    test that asks for one: a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL.

    ``empty`` is ``ledger init``; ``seeded`` is ``ledger init`` + ``ledger import seeds/`` (author ``tester``).
    Building them per test cost seconds each (every write re-digests the whole ledger under
    LEDGER_CHECK_TOUCHED); tests of ``init`` and ``import`` themselves start from ``db_url`` instead.
    """

    STEPS = {"empty": [["init"]], "seeded": [["init"], ["--author", "tester", "import", str(SEEDS)]]}

    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, Path] = {}
        self._databases: dict[str, str] = {}

    @staticmethod
    def _build(db: str, kind: str) -> None:
        runner = CliRunner()
        for args in Prepared.STEPS[kind]:
            result = runner.invoke(app, ["--db", db, *args])
            assert result.exit_code == 0, (args, result.output)

    def restore(self, kind: str, backend: str, db_url: str, request: pytest.FixtureRequest) -> None:
        """Make this test's (still empty) database a copy of the prepared ``kind``."""
        import shutil

        if backend == "sqlite":
            if kind not in self._files:
                path = self.root / f"{kind}.db"
                self._build(str(path), kind)
                self._files[kind] = path
            shutil.copyfile(self._files[kind], db_url)
            return
        from sqlalchemy.engine import make_url

        server: PgServer = request.getfixturevalue("pg_server")
        if kind not in self._databases:
            name = server.create_database(f"prepared_{kind}")
            self._build(server.url(name), kind)
            self._databases[kind] = name
        database = make_url(db_url).database
        assert database is not None
        server.drop_database(database)
        server.create_database(database, template=self._databases[kind])


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    return Prepared(tmp_path_factory.mktemp("prepared"))


@pytest.fixture
def ledger_db(
    run: Run, db_path: Path, db_url: str, backend: str, prepared: Prepared, request: pytest.FixtureRequest
) -> Path:
    """An initialised, empty ledger (a copy of one ``ledger init`` made once per session)."""
    prepared.restore("empty", backend, db_url, request)
    return db_path


@pytest.fixture
def seeded(ledger_db: Path, db_url: str, backend: str, prepared: Prepared, request: pytest.FixtureRequest) -> Path:
    """A ledger holding the reference case from seeds/ (a copy of one import made once per session).

    It depends on ``ledger_db`` so that a test asking for both always ends up with the seeds."""
    prepared.restore("seeded", backend, db_url, request)
    return ledger_db


@pytest.fixture
def small(run: Run, ledger_db: Path) -> Path:
    """A small hand-made ledger: two states, a source and two concessions."""
    for args in (
        ("party", "add", "by", "--name", "Belarus", "--kind", "state"),
        ("party", "add", "us", "--name", "United States", "--kind", "state"),
        ("party", "add", "lukashenko", "--name", "Alexander Lukashenko", "--kind", "person", "--acts-for", "by"),
        ("source", "add", "san", "--title", "Belarus frees 123 prisoners", "--publisher", "Straight Arrow News"),
        ("add", "--id", "release", "--giver", "by", "--receiver", "us", "--kind", "prisoner_release",
         "--summary", "Belarus releases 123 prisoners", "--quantity", "123", "--unit", "person",
         "--status", "delivered", "--date-text", "early Saturday", "--source", "san",
         "--quote", "Belarus released 123 prisoners early Saturday."),
        ("add", "--id", "potash", "--giver", "us", "--receiver", "by", "--kind", "sanctions_relief",
         "--summary", "US lifts potash sanctions", "--status", "delivered"),
    ):  # fmt: skip
        result = run(*args)
        assert result.exit_code == 0, (args, result.stderr)
    return ledger_db


@pytest.fixture
def shared_sources() -> Path:
    """The two articles of the reference case; absent from a user's clone."""
    if not SHARED_SOURCES.is_dir():
        pytest.skip(f"{SHARED_SOURCES} is absent (it exists only beside the project's own checkout)")
    return SHARED_SOURCES


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference case imported once per test module (copy it with `seeded_copy`)."""
    import shutil

    path = tmp_path_factory.mktemp("seeded") / "ledger.db"
    runner = CliRunner()
    for args in (["init"], ["--author", "tester", "import", str(SEEDS)]):
        result = runner.invoke(app, ["--db", str(path), *args])
        assert result.exit_code == 0, result.output
    shutil.copyfile(path, path.with_name("template.db"))
    return path.with_name("template.db")


@pytest.fixture
def seeded_copy(request: pytest.FixtureRequest, backend: str, db_path: Path) -> Path:
    """Like `seeded`, but on SQLite a copy of a module-wide seeded file: much faster when many tests need
    the seeds. On PostgreSQL it is `seeded` (a file copy cannot seed a server database)."""
    import shutil

    if backend != "sqlite":
        return Path(request.getfixturevalue("seeded"))
    shutil.copyfile(request.getfixturevalue("seeded_template"), db_path)
    return db_path
