"""`ledger sql` on PostgreSQL runs on psycopg alone: the same statement, rows, output and errors.

``ledger.db.query_without_sqlalchemy`` sends psycopg the statement and values SQLAlchemy's ``text()``
would send (``pyformat_statement``, compared here with what SQLAlchemy compiles), in the same REPEATABLE
READ, READ ONLY transaction with the same ``statement_timeout``. On a real server it is compared with
the general path (SQLAlchemy, ``_query_postgresql``) over fixed cases and generated queries on the views:
columns, rows with the Python type of every value, the truncation flag and the error of a refused
query; and through the CLI (console script, Typer with either route) in every output format.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ledger import db
from ledger.cli import quick
from ledger.cli.app import app
from ledger.cli.render import OutputFormat
from ledger.errors import LedgerError
from tests.pg import PgServer
from tests.startup import run_fresh
from tests.test_list_fast_path import postgresql_ledger


@pytest.fixture(scope="module")
def pg_ledger(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The listing ledger of tests/test_list_fast_path.py (seed 5: seeds, 60 generated concessions,
    renewals, retractions), on PostgreSQL."""
    with postgresql_ledger(pg_server, tmp_path_factory.mktemp("pg-sql"), 5) as url:
        yield url


def _general_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, ``ledger sql`` on PostgreSQL goes through SQLAlchemy (the psycopg route declines)."""
    monkeypatch.setattr(db, "_query_psycopg", lambda *args, **kwargs: None)


def _outcome(result: db.QueryResult | None) -> tuple[Any, ...]:
    assert result is not None, "the psycopg route should answer this one"
    # repr tells 1 from 1.0, True, Decimal("1") and "1"; and a date from its text
    return "rows", result.columns, repr(result.rows), result.truncated


def _answers(url: str, sql: str, params: dict[str, Any], *, max_rows: int = 1000, seconds: float = 10.0) -> Any:
    """(psycopg route, general path): each the columns, rows and truncation, or the error it raised."""
    answers = []
    for route in ("psycopg", "general"):
        with pytest.MonkeyPatch.context() as monkeypatch:
            if route == "general":
                _general_only(monkeypatch)
                run = db.query_read_only
            else:
                run = db.query_without_sqlalchemy  # type: ignore[assignment]
            try:
                answers.append(_outcome(run(url, sql, dict(params), max_rows=max_rows, seconds=seconds)))
            except LedgerError as exc:
                answers.append(("error", type(exc).__name__, exc.exit_code, str(exc)))
    return answers


#: (query, parameters, max rows, seconds, what the answer must contain): each runs on both routes.
CASES: list[tuple[str, dict[str, Any], int, float, str]] = [
    ("SELECT id, quantity, date_on, date_text, citation_count, counterparts FROM v_concessions ORDER BY id",
     {}, 1000, 10, "rows"),
    ("SELECT kind, status, count(*) AS concessions, sum(quantity) AS quantity FROM v_concessions "
     "WHERE date_on >= '2020-01-01' AND date_precision = 'day' GROUP BY kind, status ORDER BY kind, status",
     {}, 1000, 10, "rows"),
    ("SELECT quantity::text AS q, quantity::int AS i, quantity::float8 / 3 AS f, date_on::text AS d, "
     "CAST(:n AS numeric) * 2 AS twice FROM v_concessions ORDER BY id LIMIT 5", {"n": 21}, 1000, 10, "rows"),
    ("SELECT id FROM v_concessions WHERE id LIKE '%release%' OR summary LIKE :pattern ORDER BY id",
     {"pattern": "%sanction%"}, 1000, 10, "rows"),
    ("SELECT format('%s-%s', 1, 2) AS f, '100%' AS pct, 'a%%b' AS two, 'x\\:y' AS escaped, 'x:y' AS word",
     {}, 1000, 10, "rows"),
    ("SELECT id, giver FROM v_concessions WHERE giver = :giver OR receiver = :giver ORDER BY id LIMIT :n",
     {"giver": "by", "n": 3, "unused": "x"}, 1000, 10, "rows"),
    ("SELECT :big AS big, :negative AS negative, :text AS text, :é AS accented",
     {"big": 10**30, "negative": -7, "text": "it's 50% : done", "é": "e"}, 1000, 10, "rows"),
    ("SELECT ' :a ' AS in_literal, 1 AS \":b\" -- :c", {"a": 1, "b": 2, "c": 3}, 1000, 10, ""),
    ("SELECT :a::text AS cast_after_a_parameter", {"a": 1}, 1000, 10, "error"),
    ("SELECT '{\"a\": [1, 2.5, null]}'::json AS j, '{\"b\": true}'::jsonb AS jb, NULL AS nothing, "
     "1.50::numeric AS n, 1e100::float8 AS big, true AS yes, DATE '2024-02-29' AS day, "
     "TIMESTAMP '2024-02-29 12:30' AS ts, TIMESTAMPTZ '2024-02-29 12:30+02' AS tstz, interval '1 day 2 hours' AS iv, "
     "'\\x00ff'::bytea AS b, ARRAY[1, NULL, 3] AS arr, '1.2.3.4/32'::inet AS ip, "
     "'a1b2c3d4-0000-4000-8000-000000000000'::uuid AS u, 'é ✓ \"quoted\", comma'::text AS t",
     {}, 1000, 10, "rows"),
    ("SELECT current_setting('transaction_isolation') AS isolation, "
     "current_setting('transaction_read_only') AS read_only, current_setting('statement_timeout') AS timeout",
     {}, 1000, 1.5, "'repeatable read', 'on', '1500ms'"),
    ("SELECT slug FROM records ORDER BY slug", {}, 3, 10, "True"),
    ("SELECT slug FROM records WHERE false", {}, 3, 10, "[]"),
    ("SELECT pg_sleep(2)", {}, 1000, 0.2, "ran longer than the 0.2 s limit"),
    ("SELECT :a AS a, :b AS b", {"a": 1}, 1000, 10, "the query uses :b but no value was given"),
    ("DELETE FROM journal", {}, 1000, 10, "refused: cannot execute DELETE in a read-only transaction"),
    ("INSERT INTO concession_kinds VALUES ('evil', '1', 'x')", {}, 1000, 10, "read-only transaction"),
    ("WITH x AS (DELETE FROM journal RETURNING seq) SELECT * FROM x", {}, 1000, 10, "read-only transaction"),
    ("SELECT nextval(pg_get_serial_sequence('records', 'id'))", {}, 1000, 10, "read-only transaction"),
    ("SET statement_timeout = 0", {}, 1000, 10, "the statement returns no rows"),
    ("COMMIT", {}, 1000, 10, "the statement returns no rows"),
    ("SELECT 1; DELETE FROM journal", {}, 1000, 10, "only one statement"),
    ("  ;", {}, 1000, 10, "the query is empty"),
    ("SELEC nothing", {}, 1000, 10, "syntax error"),
    ("SELECT * FROM nowhere", {}, 1000, 10, "does not exist"),
    ("SELECT 1 / 0 AS x", {}, 1000, 10, "division by zero"),
    ("SELECT CAST(:d AS date) AS d", {"d": "not a date"}, 1000, 10, "invalid input syntax"),
]  # fmt: skip


@pytest.mark.parametrize(("sql", "params", "max_rows", "seconds", "expected"), CASES)
def test_fixed_cases_answer_the_same_on_both_routes(
    pg_ledger: str, sql: str, params: dict[str, Any], max_rows: int, seconds: float, expected: str
) -> None:
    fast, general = _answers(pg_ledger, sql, params, max_rows=max_rows, seconds=seconds)
    assert fast == general
    assert expected in repr(fast)
    if fast[0] == "error":
        assert fast[1:3] == ("InvalidInput", 3)


def test_the_views_and_types_are_really_compared(pg_ledger: str) -> None:
    def kinds(sql: str) -> set[str]:
        result = db.query_without_sqlalchemy(pg_ledger, sql, {"n": 1}, max_rows=1000, seconds=10)
        assert result is not None and result.rows
        return {type(value).__name__ for row in result.rows for value in row}

    assert len(db.query_read_only(pg_ledger, CASES[0][0], {}, max_rows=1000, seconds=10).rows) > 50
    assert {"str", "date", "int", "NoneType"} <= kinds(CASES[0][0])
    assert kinds(CASES[1][0]) >= {"Decimal"}
    everything = {"dict", "list", "Decimal", "float", "bool", "date", "datetime", "timedelta", "bytes", "UUID"}
    assert everything <= kinds(CASES[9][0])


# --- generated queries over the views ------------------------------------------------------------

VIEWS = {
    "v_concessions": ["id", "kind", "summary", "giver", "receiver", "quantity", "unit", "status", "date_text",
                      "date_on", "date_precision", "exchange", "counterparts", "citation_count"],
    "v_links": ["id", "exchange", "quid", "quo", "basis", "reason", "citation_count"],
    "v_sides": ["exchange", "title", "side", "concessions", "delivered", "outstanding", "gave"],
    "v_citations": ["id", "record", "record_type", "source", "quote", "locator"],
    "v_concession_terms": ["id", "kind", "status", "expires_on", "renews", "renewed_by", "quantity", "named"],
}  # fmt: skip
#: Text both routes must treat alike: % signs, colons, escapes, quotes, parameters where text() sees them.
LITERALS = ["'%'", "'50%% off'", "'a:b'", "' :p0 '", "'\\:p1'", "'::'", "'it''s'", "E'tab\\there'", "'é'", "'%(p0)s'"]


@st.composite
def queries(draw: Any) -> tuple[str, dict[str, Any]]:
    """A query over one view: columns, expressions with literals and parameters, a filter, grouping."""
    view = draw(st.sampled_from(sorted(VIEWS)))
    columns = draw(st.lists(st.sampled_from(VIEWS[view]), min_size=1, max_size=4, unique=True))
    params: dict[str, Any] = {}

    def param(value: Any) -> str:
        name = f"p{len(params)}"
        params[name] = value
        return f":{name}"

    values = st.integers(-(10**12), 10**12) | st.text(alphabet="ab%:_'\\ é", max_size=6)
    grouped = draw(st.booleans())
    where = []
    for column in draw(st.lists(st.sampled_from(VIEWS[view]), max_size=2)):
        form = draw(st.sampled_from(["equal", "like", "like literal", "compare", "null"]))
        if form == "equal":
            where.append(f"{column}::text = CAST({param(draw(values))} AS text)")
        elif form == "like":
            where.append(f"{column}::text LIKE {param(draw(st.sampled_from(['%', '%a%', 'by%', '%1', '_'])))}")
        elif form == "like literal":
            where.append(f"{column}::text LIKE '%{draw(st.sampled_from(['a', 'e', '1', '%', '']))}%'")
        elif form == "compare":
            where.append(f"length({column}::text) > {param(draw(st.integers(-1, 30)))}")
        else:
            where.append(f"{column} IS {draw(st.sampled_from(['NULL', 'NOT NULL']))}")
    extras = draw(st.lists(st.sampled_from(LITERALS), max_size=2))
    if grouped:
        aggregate = draw(st.sampled_from(["count(*)", "count(DISTINCT {c})", "min({c}::text)", "max({c})",
                                          "string_agg({c}::text, '%; ' ORDER BY {c}::text)"]))  # fmt: skip
        select = [*columns, aggregate.format(c=draw(st.sampled_from(VIEWS[view]))) + " AS agg", *extras]
        tail = f" GROUP BY {', '.join(str(i + 1) for i in range(len(columns)))}"
    else:
        select, tail = [*columns, *extras], ""
    sql = f"SELECT {', '.join(select)} FROM {view}"
    if where:
        sql += " WHERE " + draw(st.sampled_from([" AND ", " OR "])).join(where)
    sql += tail + " ORDER BY " + ", ".join(f"{i + 1}" for i in range(len(select)))
    if draw(st.booleans()):
        sql += f" LIMIT {param(draw(st.integers(0, 40)))}"
    if "p0" in "".join(extras) and "p0" not in params:
        params["p0"] = draw(values)  # a parameter text() sees inside a literal: give it a value, mostly
    return sql, params


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries(), max_rows=st.integers(1, 60))
@example(query=("SELECT id, '%' FROM v_concessions WHERE id LIKE :p0 ORDER BY 1, 2", {"p0": "%a%"}), max_rows=2)
def test_generated_queries_answer_the_same_on_both_routes(
    pg_ledger: str, query: tuple[str, dict[str, Any]], max_rows: int
) -> None:
    sql, params = query
    fast, general = _answers(pg_ledger, sql, params, max_rows=max_rows)
    assert fast == general, sql


# --- the command line -----------------------------------------------------------------------------

CLI_CASES = [
    ["SELECT kind, status, count(*) AS n, sum(quantity) AS quantity, min(date_on) AS first FROM v_concessions "
     "WHERE date_on >= CAST(:since AS date) GROUP BY kind, status ORDER BY kind, status", "-p", "since", "2020-01-01"],
    ["SELECT id, quantity, date_on, counterparts FROM v_concessions WHERE giver = :g ORDER BY id", "-p", "g=by"],
    [CASES[9][0]],
    ["SELECT slug FROM records WHERE slug LIKE '%a%' ORDER BY slug", "--max-rows", "4"],
    ["SELECT :n AS n, :t AS t", "-p", "n=-12", "-p", "t", "x|y<z>", "--timeout", "2.5"],
    ["SELECT :missing AS m"],
    ["DELETE FROM journal"],
    ["SELECT pg_sleep(1)", "--timeout", "0.1"],
    ["SET x.y = 1"],
]  # fmt: skip


@pytest.mark.parametrize("fmt", [f.value for f in OutputFormat])
@pytest.mark.parametrize("args", CLI_CASES)
def test_cli_output_is_the_same_on_both_routes(
    pg_ledger: str, args: list[str], fmt: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--db", pg_ledger, "sql", *args, "--format", fmt]
    code = quick.main(argv)  # the console script: psycopg, without Typer
    console = (code, *capsys.readouterr())
    typer_fast = CliRunner().invoke(app, argv)
    _general_only(monkeypatch)
    general = CliRunner().invoke(app, argv)
    expected = (general.exit_code, general.stdout, general.stderr)
    assert (typer_fast.exit_code, typer_fast.stdout, typer_fast.stderr) == expected
    assert code is not quick.Declined, "the console script should answer this through psycopg"
    assert console == expected
    assert general.exit_code in (0, 3) and "Traceback" not in general.stderr


@pytest.mark.parametrize(
    ("entry", "heavy"),
    [
        ("ledger.cli.quick", ["alembic", "pydantic", "sqlalchemy", "typer"]),
        ("ledger.cli.app", ["alembic", "sqlalchemy"]),
    ],
)
def test_ledger_sql_on_postgresql_loads_no_sqlalchemy(pg_ledger: str, entry: str, heavy: list[str]) -> None:
    """The console script (and the Typer command, when the console script hands it over) query through
    psycopg alone: SQLAlchemy and its ORM cost about 0.3 s of CPU in a new process."""
    query = "SELECT kind, count(*) AS n FROM v_concessions WHERE giver = :g GROUP BY kind ORDER BY kind"
    lines, loaded = run_fresh(entry, ["--db", pg_ledger, "sql", query, "-p", "g", "by", "-f", "csv"], heavy)
    assert lines[0] == "kind,n" and len(lines) > 1, lines
    assert loaded == []


# --- what the psycopg route leaves to SQLAlchemy --------------------------------------------------


def _database_at(pg_server: PgServer, revision: str, *extensions: str) -> str:
    """A new database that looks like a ledger at ``revision`` (its alembic_version alone)."""
    import psycopg

    name = pg_server.create_database()
    arguments = db.psycopg_arguments(pg_server.url(name))
    assert arguments is not None
    with psycopg.connect(**arguments, autocommit=True) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES (%s)", (revision,))
        for extension in extensions:
            connection.execute(f"CREATE EXTENSION {extension}".encode())
    return name


def test_a_database_with_hstore_is_left_to_sqlalchemy(pg_server: PgServer) -> None:
    name = _database_at(pg_server, db.SCHEMA_REVISIONS[-1], "hstore")
    try:
        url = pg_server.url(name)
        sql = "SELECT 'a=>1'::hstore AS h"
        assert db.query_without_sqlalchemy(url, sql, {}, max_rows=10, seconds=10) is None
        assert db.query_read_only(url, sql, {}, max_rows=10, seconds=10).rows == [({"a": "1"},)]
    finally:
        pg_server.drop_database(name)


def test_a_database_not_at_our_schema_is_left_to_sqlalchemy(
    pg_server: PgServer, capsys: pytest.CaptureFixture[str]
) -> None:
    name = _database_at(pg_server, db.SCHEMA_REVISIONS[0])
    try:
        url = pg_server.url(name)
        sql = "SELECT version_num FROM alembic_version"
        assert db.query_without_sqlalchemy(url, sql, {}, max_rows=10, seconds=10) is None
        assert quick.main(["--db", url, "sql", sql]) is quick.Declined
        assert capsys.readouterr() == ("", "")
        assert db.query_read_only(url, sql, {}, max_rows=10, seconds=10).rows == [(db.SCHEMA_REVISIONS[0],)]
    finally:
        pg_server.drop_database(name)


def test_an_unreachable_server_is_reported_by_the_general_path(pg_server: PgServer) -> None:
    url = pg_server.url("postgres", password="wrong")
    assert db.query_without_sqlalchemy(url, "SELECT 1", {}, max_rows=10, seconds=10) is None
    result = CliRunner().invoke(app, ["--db", url, "sql", "SELECT 1"])
    assert result.exit_code == 4 and "password authentication failed" in result.stderr
    assert "s3cret" not in result.stderr and "wrong" not in result.stderr


# --- the translation of :name parameters ----------------------------------------------------------


@cache
def _psycopg_dialect() -> Any:
    from sqlalchemy import create_engine

    return create_engine("postgresql+psycopg://u@h/db").dialect  # no connection: the dialect alone


def _sqlalchemy_compiles(sql: str) -> tuple[str, list[str]]:
    """What SQLAlchemy gives psycopg for ``text(sql)``: the statement and its parameters, in order."""
    from sqlalchemy import text

    compiled = text(sql).compile(dialect=_psycopg_dialect())
    return compiled.string, list(compiled.binds)


@pytest.mark.parametrize(
    ("sql", "statement", "names"),
    [
        ("SELECT :a, :b, :a", "SELECT %(a)s, %(b)s, %(a)s", ["a", "b"]),
        ("SELECT x::int, :a::text, 'a:b', a:b", "SELECT x::int, :a::text, 'a:b', a:b", []),
        ("SELECT '%', format('%s', :v)", "SELECT '%%', format('%%s', %(v)s)", ["v"]),
        ("SELECT '\\:a', \\:b, '\\::c'", "SELECT ':a', :b, '\\::c'", []),
        (
            "SELECT ' :a ', \":b\", 1 -- :c\n/* :d */",
            "SELECT ' %(a)s ', \"%(b)s\", 1 -- %(c)s\n/* %(d)s */",
            ["a", "b", "c", "d"],
        ),
        ("SELECT :é1, :_x, :1", "SELECT %(é1)s, %(_x)s, %(1)s", ["é1", "_x", "1"]),
        ("SELECT $1, $$:a$$, %(a)s", "SELECT $1, $$%(a)s$$, %%(a)s", ["a"]),
        ("SELECT :select, :" + "n" * 100, "SELECT %(select)s, %(" + "n" * 100 + ")s", ["select", "n" * 100]),
    ],
)
def test_parameters_are_found_where_text_finds_them(sql: str, statement: str, names: list[str]) -> None:
    assert db.pyformat_statement(sql) == (statement, names)
    assert _sqlalchemy_compiles(sql) == (statement, names)


@given(st.text(alphabet=st.sampled_from(list(":%\\'\"$-/*\n ()_aé1:")), max_size=30))
@settings(max_examples=500, deadline=None)
def test_pyformat_statement_is_what_sqlalchemy_compiles(sql: str) -> None:
    assert db.pyformat_statement(sql) == _sqlalchemy_compiles(sql)


def test_the_patterns_are_sqlalchemys() -> None:
    from sqlalchemy.sql import compiler, elements

    assert db._TEXT_PARAMETER.pattern == elements.TextClause._bind_params_regex.pattern
    assert db._TEXT_ESCAPE.pattern == compiler.BIND_PARAMS_ESC.pattern
