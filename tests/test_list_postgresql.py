"""`ledger list` of concessions on PostgreSQL runs on psycopg alone: the same rows and the same output.

ledger.ops.concession_list runs its statements through psycopg on a PostgreSQL ledger
(``ledger.db.read_postgresql``); it is compared here with the general path (ledger.ops.queries through
SQLAlchemy) on a real server, for random filters, and through the CLI in every output format.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ledger.cli import quick
from ledger.cli.app import app
from ledger.cli.render import OutputFormat
from ledger.db import SCHEMA_REVISIONS, psycopg_arguments, read_connection, read_postgresql
from ledger.ops import concession_list
from tests.pg import PgServer
from tests.startup import run_fresh
from tests.test_list_fast_path import LIST_ARGS, _general, filters, postgresql_ledger


@pytest.fixture(scope="module")
def pg_ledger(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The listing ledger of tests/test_list_fast_path.py (seed 3), on PostgreSQL."""
    with postgresql_ledger(pg_server, tmp_path_factory.mktemp("pg-list"), 3) as url:
        yield url


@pytest.fixture(scope="module")
def parties(pg_ledger: str) -> list[str]:
    opened = read_connection(pg_ledger)
    assert opened is not None
    connection = opened[0]
    try:
        return [r[0] for r in connection.execute("SELECT slug FROM records WHERE type = 'party' ORDER BY slug")]
    finally:
        connection.close()


def _fast(url: str, f: concession_list.ConcessionFilter) -> list[dict[str, Any]] | None:
    connection = read_postgresql(url)
    assert connection is not None, "the psycopg route should open the ledger"
    try:
        return concession_list.list_concessions(connection, f)
    finally:
        connection.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_psycopg_route_returns_the_rows_of_the_general_path(pg_ledger: str, parties: list[str], data: Any) -> None:
    f = data.draw(filters(parties))
    general = _general(pg_ledger, f)  # type: ignore[arg-type]  # any --db value
    assert _fast(pg_ledger, f) == general
    if general is None:
        assert "no-such-party" in (f.giver, f.receiver)


def test_every_concession_and_retracted_record_is_compared(pg_ledger: str) -> None:
    everything = concession_list.ConcessionFilter(include_retracted=True)
    rows = _fast(pg_ledger, everything)
    assert rows == _general(pg_ledger, everything)  # type: ignore[arg-type]
    assert rows is not None and len(rows) > 60
    assert any(r["retracted"] for r in rows) and any(r["renewed_by"] for r in rows) and any(r["named"] for r in rows)
    assert any(r["counterparts"] for r in rows) and any(r["citations"] for r in rows)
    assert any(r["expires"] for r in rows) and any(r["date"]["value"] for r in rows)


@pytest.mark.parametrize("fmt", [f.value for f in OutputFormat])
@pytest.mark.parametrize("args", LIST_ARGS)
def test_cli_output_is_the_same_on_both_routes(
    pg_ledger: str, args: list[str], fmt: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--db", pg_ledger, "list", *args, "--format", fmt]
    code = quick.main(argv)  # the console script: psycopg, without Typer
    console = (code, *capsys.readouterr())
    typer_fast = CliRunner().invoke(app, argv)
    monkeypatch.setattr("ledger.db.read_postgresql", lambda db: None)
    general = CliRunner().invoke(app, argv)
    expected = (general.exit_code, general.stdout, general.stderr)
    assert (typer_fast.exit_code, typer_fast.stdout, typer_fast.stderr) == expected
    if code is not quick.Declined:
        assert console == expected
    else:  # only what the general path must say itself: an unknown party, or a value Typer refuses
        assert console == (None, "", "") and general.exit_code != 0
    if not any(a in args for a in ("nobody-at-all", "not a date")):
        assert code == 0, "the console script should list this through psycopg"


def test_the_console_script_lists_postgresql_without_sqlalchemy(pg_ledger: str) -> None:
    lines, loaded = run_fresh("ledger.cli.quick", ["--db", pg_ledger, "list", "--limit", "2", "-f", "csv"],
                              ["sqlalchemy", "alembic", "pydantic", "typer"])  # fmt: skip
    assert lines[0].startswith("id,giver,receiver") and len(lines) == 3, lines
    assert loaded == []


def test_read_postgresql_declines_what_it_cannot_read_exactly(
    pg_ledger: str, pg_server: PgServer, tmp_path: Path
) -> None:
    import psycopg

    assert read_postgresql(str(tmp_path / "ledger.db")) is None
    assert read_postgresql(pg_server.url("postgres", password="wrong")) is None
    assert read_postgresql(pg_server.url("no_such_database")) is None
    assert read_postgresql(pg_server.url("postgres")) is None  # not a ledger
    older = pg_server.create_database()
    try:
        arguments = psycopg_arguments(pg_server.url(older))
        assert arguments is not None
        with psycopg.connect(**arguments) as connection:
            connection.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
            connection.execute("INSERT INTO alembic_version VALUES (%s)", (SCHEMA_REVISIONS[0],))
        assert read_postgresql(pg_server.url(older)) is None
    finally:
        pg_server.drop_database(older)
    connection = read_postgresql(pg_ledger)
    assert connection is not None
    try:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            connection.execute("DELETE FROM journal")
    finally:
        connection.close()


URLS = [
    "postgresql+psycopg://us%40er:p%40ss%2Fw@127.0.0.1:5432/my%20db?sslmode=disable&host=/tmp",
    "postgresql+psycopg:///db",
    "postgresql+psycopg://u@h/db?application_name=a&application_name=b",
    "postgresql+psycopg://u:@h/db",
    "postgresql+psycopg://u@h:5/db?port=7",
    "postgresql+psycopg://u:p:q@h/db?x=",
    "postgresql+psycopg://@h/db",
    "postgresql+psycopg://h:0/db",
    "postgresql+psycopg://u:p@[::1]:5432/db",
    "postgresql+psycopg://u:p#x@h/db",
    "postgresql+psycopg://u@h1,h2/db",
    "postgresql+psycopg://u@h/a/b",
    "postgresql://u@h/db",
    "postgresql+asyncpg://u@h/db",
    "sqlite:///x.db",
    "ledger.db",
]


@given(
    st.sampled_from(URLS) | st.text(alphabet="pu:@/?#=&%40h1[],.+sqlgre", max_size=40).map(lambda t: URLS[0][:24] + t)
)
@settings(max_examples=300, deadline=None)
def test_psycopg_arguments_are_sqlalchemys(url: str) -> None:
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
    from sqlalchemy.engine import make_url

    mine = psycopg_arguments(url)
    if mine is None:
        return
    assert mine == PGDialect_psycopg().create_connect_args(make_url(url))[1], url


def test_psycopg_arguments_take_the_plain_urls() -> None:
    taken = [url for url in URLS if psycopg_arguments(url) is not None]
    assert taken == [URLS[i] for i in (0, 1, 3, 4, 5, 6, 7)]
