"""`ledger list` of concessions on a SQLite file runs on sqlite3 alone: the same rows and the same output.

The fast path (ledger.ops.concession_list) is compared with the general one (ledger.ops.queries, which
PostgreSQL uses) on generated ledgers with retracted records, renewals and named beneficiaries, for
random filters, and through the CLI in every output format.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ledger.cli.app import app
from ledger.cli.render import OutputFormat
from ledger.db import SCHEMA_REVISIONS, make_engine, psycopg_arguments, read_sqlite, resolve_url, session_scope
from ledger.domain import ConcessionKind, FuzzyDate, Status
from ledger.errors import NotFound
from ledger.ops import concession_list, queries
from tests.conftest import SEEDS
from tests.pg import PgServer

pytestmark = pytest.mark.sqlite_only
ROOT = Path(__file__).resolve().parent.parent


def _cli(db: str | Path, *args: str) -> Any:
    result = CliRunner().invoke(app, ["--db", str(db), "--author", "tester", *args])
    assert result.exit_code == 0, (args, result.output)
    return result


def build_ledger(db: str, folder: Path, seed: int, first_slugs: Callable[[str], list[str]]) -> None:
    """The reference case plus a generated ledger (``seed``) at ``db``, with renewals (one of a retracted
    concession, one renewed twice) and some records retracted; ``first_slugs(type)``: three slugs of a type."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    jsonl = folder / "generated.jsonl"
    generate.write_jsonl(jsonl, 60, seed=seed)
    _cli(db, "init")
    _cli(db, "import", str(SEEDS))
    _cli(db, "import", str(jsonl))
    picks = [slug for kind in ("concession", "citation", "link") for slug in first_slugs(kind)]
    renewal = ["--giver", "by", "--receiver", "us", "--kind", "sanctions_relief", "--summary", "Licence renewed",
               "--status", "promised", "--date", "2024-05"]  # fmt: skip
    for n, renewed in enumerate([picks[0], *picks[1:3], picks[1]]):  # a retracted one, and one renewed twice
        _cli(db, "add", "--id", f"renewal-{n}", *renewal, "--renews", renewed)
    for slug in [*picks, "renewal-1"]:
        _cli(db, "retract", slug, "--reason", "test")


@contextmanager
def postgresql_ledger(server: PgServer, folder: Path, seed: int) -> Iterator[str]:
    """``build_ledger`` in a new database of ``server``; yields its URL, drops the database after."""
    import psycopg

    name = server.create_database()
    url = server.url(name)
    arguments = psycopg_arguments(url)
    assert arguments is not None

    def first_slugs(kind: str) -> list[str]:
        with psycopg.connect(**arguments) as connection:
            sql = "SELECT slug FROM records WHERE type = %s ORDER BY slug LIMIT 3"
            return [row[0] for row in connection.execute(sql, (kind,))]

    build_ledger(url, folder, seed, first_slugs)
    try:
        yield url
    finally:
        server.drop_database(name)


@pytest.fixture(scope="module", params=[3, 8])
def ledger(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference case plus a generated ledger (seed = param), with some records retracted."""
    folder = tmp_path_factory.mktemp(f"fast-{request.param}")
    path = folder / "ledger.db"

    def first_slugs(kind: str) -> list[str]:
        with sqlite3.connect(path) as connection:
            sql = "SELECT slug FROM records WHERE type = ? ORDER BY slug LIMIT 3"
            return [row[0] for row in connection.execute(sql, (kind,))]

    build_ledger(str(path), folder, request.param, first_slugs)
    return path


@pytest.fixture(scope="module")
def slugs(ledger: Path) -> dict[str, list[str]]:
    with sqlite3.connect(ledger) as connection:
        parties = [r[0] for r in connection.execute("SELECT slug FROM records WHERE type = 'party' ORDER BY slug")]
        renewals = connection.execute("SELECT count(*) FROM concessions WHERE renews_id IS NOT NULL").fetchone()[0]
        named = connection.execute("SELECT count(*) FROM beneficiaries").fetchone()[0]
    assert renewals and named, "the ledger should exercise renewals and rosters"
    return {"parties": parties}


def _general(path: Path, f: concession_list.ConcessionFilter) -> list[dict[str, Any]] | None:
    url = resolve_url(str(path))
    try:
        with session_scope(make_engine(url), write=False, url=url) as session:
            return queries.list_concessions(session, f)
    except NotFound:
        return None


def _fast(path: Path, f: concession_list.ConcessionFilter) -> list[dict[str, Any]] | None:
    connection = read_sqlite(str(path))
    assert connection is not None
    try:
        return concession_list.list_concessions(connection, f)
    finally:
        connection.close()


def _date_text(draw: Any) -> str:
    day = draw(st.dates(min_value=dt.date(2014, 1, 1), max_value=dt.date(2027, 12, 31)))
    return str(day.isoformat()[: draw(st.sampled_from([4, 7, 10]))])


@st.composite
def filters(draw: Any, parties: list[str]) -> concession_list.ConcessionFilter:
    party = st.none() | st.sampled_from([*parties, "no-such-party"])
    return concession_list.ConcessionFilter(
        kind=draw(st.none() | st.sampled_from([k.value for k in ConcessionKind])),
        giver=draw(party),
        receiver=draw(st.none() | party),
        status=draw(st.none() | st.sampled_from(list(Status))),
        unpaired=draw(st.booleans()),
        since=FuzzyDate.parse(_date_text(draw)) if draw(st.booleans()) else None,
        until=FuzzyDate.parse(_date_text(draw)) if draw(st.booleans()) else None,
        include_retracted=draw(st.booleans()),
        limit=draw(st.none() | st.integers(min_value=1, max_value=40)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fast_path_returns_the_rows_of_the_general_path(ledger: Path, slugs: dict[str, list[str]], data: Any) -> None:
    f = data.draw(filters(slugs["parties"]))
    general = _general(ledger, f)
    assert _fast(ledger, f) == general
    if general is None:  # an unknown party: the fast path declines and the general path says so
        assert "no-such-party" in (f.giver, f.receiver)


def test_every_concession_and_retracted_record_is_compared(ledger: Path) -> None:
    everything = concession_list.ConcessionFilter(include_retracted=True)
    rows = _fast(ledger, everything)
    assert rows == _general(ledger, everything)
    assert rows is not None and len(rows) > 60
    assert any(r["retracted"] for r in rows) and any(r["renewed_by"] for r in rows) and any(r["named"] for r in rows)
    assert any(r["counterparts"] for r in rows) and any(r["citations"] for r in rows)


#: Command lines of `ledger list` whose output both routes must print alike (the PostgreSQL test uses them too).
LIST_ARGS = [
    [],
    ["--limit", "7"],
    ["--all", "--unpaired"],
    ["--status", "delivered", "--since", "2020-06"],
    ["--until", "2021", "--kind", "prisoner_release"],
    ["--giver", "by"],
    ["--giver", "nobody-at-all"],
    ["--since", "not a date"],
]


def _listing(path: Path, args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--db", str(path), "list", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", [f.value for f in OutputFormat])
@pytest.mark.parametrize("args", LIST_ARGS)
def test_cli_output_is_the_same_on_both_paths(
    ledger: Path, args: list[str], fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _listing(ledger, [*args, "--format", fmt])
    monkeypatch.setattr("ledger.db.read_sqlite", lambda db: None)
    assert _listing(ledger, [*args, "--format", fmt]) == fast


def test_read_sqlite_declines_what_it_cannot_read_exactly(ledger: Path, tmp_path: Path) -> None:
    assert read_sqlite("postgresql+psycopg://nobody@127.0.0.1/ledger") is None
    assert read_sqlite(str(tmp_path / "missing.db")) is None
    (tmp_path / "text.db").write_text("not a database")
    assert read_sqlite(str(tmp_path / "text.db")) is None
    older = tmp_path / "older.db"
    older.write_bytes(ledger.read_bytes())
    with sqlite3.connect(older) as connection:
        connection.execute("UPDATE alembic_version SET version_num = ?", (SCHEMA_REVISIONS[0],))
    assert read_sqlite(str(older)) is None
    connection = read_sqlite(str(ledger))
    assert connection is not None
    connection.close()


def test_the_default_page_walks_the_date_index(ledger: Path) -> None:
    connection = read_sqlite(str(ledger))
    assert connection is not None
    try:
        statement = concession_list.page_statement(connection, concession_list.ConcessionFilter(limit=20))
        assert statement is not None
        plan = [str(row[3]) for row in connection.execute(f"EXPLAIN QUERY PLAN {statement[0]}", statement[1])]
    finally:
        connection.close()
    assert plan[0].startswith("SCAN c USING INDEX ix_concessions_date_order"), plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
