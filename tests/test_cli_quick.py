"""The console script's quick path (ledger.cli.quick): `list` and `sql` without Typer, exactly as Typer runs them.

Every command line the quick path accepts must parse to the values Typer gives and print the same bytes
with the same exit code; anything else must be left to Typer with nothing printed.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ledger.cli import quick
from ledger.cli.app import app
from tests.conftest import ROOT, SEEDS
from tests.startup import run_fresh

pytestmark = pytest.mark.sqlite_only
GROUP = typer.main.get_command(app)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("quick") / "ledger.db"
    for args in (["init"], ["--author", "tester", "import", str(SEEDS)]):
        result = CliRunner().invoke(app, ["--db", str(path), *args])
        assert result.exit_code == 0, result.output
    return path


def typer_parse(argv: Sequence[str]) -> tuple[dict[str, Any], str, dict[str, Any]] | None:
    """(root options, command, its parameters) as Typer parses them; None when Typer refuses the line."""
    try:
        with GROUP.make_context("ledger", list(argv)) as ctx:
            name = ctx._protected_args[0]
            sub = GROUP.get_command(ctx, name)
            assert sub is not None
            with sub.make_context(name, list(ctx.args), parent=ctx) as sub_ctx:
                return ctx.params, name, sub_ctx.params
    except (typer.TyperException, typer.Exit):
        return None


LIST_WORDS = [
    "--limit", "3", "0", "007", "-1", "--kind", "aid", "AID", "prisoner_release", "--status", "delivered",
    "Delivered", "--since", "2020", "2025-12", "nope", "", "--until", "2021-05", "--giver", "by", "nobody",
    "--receiver", "us", "--unpaired", "--all", "-f", "csv", "json", "jsonl", "markdown", "table", "--format=csv",
    "--format", "-fcsv", "concessions", "parties", "--", "--limit=2", "--unpaired=1", "--help", "-f=csv",
]  # fmt: skip
SQL_WORDS = [
    "SELECT count(*) AS n FROM records", "SELECT :a AS a, :b AS b", "-p", "a", "b", "a=5", "b=-3", "7", "x",
    "--max-rows", "1", "0", "--timeout", "0.5", "5", "1e3", "0.05", "-f", "csv", "json", "--format=markdown",
    "DELETE FROM records", "SELECT 1; SELECT 2", "--param", "--max-rows=2", "--", "-q",
]  # fmt: skip
ROOT_WORDS = [["--db", "{db}"], ["--db={db}"], ["-q"], ["--quiet"], ["--author", "me"], ["--debug"], ["--db"]]


@st.composite
def command_lines(draw: Any, db: str) -> list[str]:
    root = [w.format(db=db) for part in draw(st.lists(st.sampled_from(ROOT_WORDS), max_size=3)) for w in part]
    if not any(w.startswith("--db") for w in root):
        root = ["--db", db, *root]
    command = draw(st.sampled_from(["list", "sql"]))
    words = draw(st.lists(st.sampled_from(LIST_WORDS if command == "list" else SQL_WORDS), max_size=7))
    return [*root, command, *words]


def _quick_parse(argv: list[str]) -> tuple[dict[str, Any], str, dict[str, Any]] | None:
    split = quick._root(argv)
    if split is None:
        return None
    root, command, words = split
    parsed = quick._COMMANDS[command][0](words) if command in quick._COMMANDS else None
    return None if parsed is None else (root, command, parsed)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_what_the_quick_path_accepts_parses_as_typer_parses_it(ledger: Path, data: Any) -> None:
    argv = data.draw(command_lines(str(ledger)))
    mine = _quick_parse(argv)
    if mine is None:
        return
    theirs = typer_parse(argv)
    assert theirs is not None, argv
    root, command, params = mine
    assert command == theirs[1]
    assert params == theirs[2], argv
    assert {k: v for k, v in theirs[0].items() if v not in (None, False)} == root, argv


def _both(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[Any, Any]:
    code = quick.main(argv)
    out, err = capsys.readouterr()
    # The help texts the quick path prints are those of a terminal of 80 columns (CliRunner forces 80 wide).
    result = CliRunner().invoke(app, argv, terminal_width=quick.HELP_COLUMNS - 2)
    return (code, out, err), (result.exit_code, result.stdout, result.stderr)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_quick_path_prints_what_typer_prints(ledger: Path, data: Any, capsys: pytest.CaptureFixture[str]) -> None:
    argv = data.draw(command_lines(str(ledger)))
    mine, theirs = _both(argv, capsys)
    if mine[0] is None:
        assert mine[1:] == ("", ""), "a declined command line prints nothing"
        return
    assert mine == theirs, argv


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--limit", "4", "-f", "csv"],
        ["list", "--kind", "prisoner_release", "--format=json"],
        ["-q", "list", "concessions", "--all", "-f", "markdown"],
        ["list", "--giver", "by", "--since", "2020"],
        ["list", "--since", "nope"],
        ["sql", "SELECT count(*) AS n FROM records", "-f", "csv"],
        ["sql", "SELECT :a AS a", "-p", "a", "7", "-f", "json"],
        ["sql", "SELECT slug FROM records ORDER BY slug", "--max-rows", "2"],
        ["-q", "sql", "SELECT slug FROM records ORDER BY slug", "--max-rows", "2"],
        ["sql", "DELETE FROM records"],
        ["sql", "SELECT * FROM nowhere"],
        ["--help"],
        ["list", "--help"],
        ["-q", "party", "add", "--help"],
    ],
)
def test_plain_command_lines_take_the_quick_path(
    ledger: Path, args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100")  # the stored help texts are for terminals of 80 columns or more
    mine, theirs = _both(["--db", str(ledger), *args], capsys)
    assert mine[0] is not None, "the quick path should run this one"
    assert mine == theirs


@pytest.mark.parametrize(
    "args",
    [
        ["list", "--limit", "3", "--help"],
        ["--help", "list"],
        ["--debug", "list"],
        ["list", "parties"],
        ["list", "--limit", "0"],
        ["list", "--limit", "2", "--limit", "3"],
        ["list", "--kind", "AID"],
        ["show", "by"],
        ["list", "--giver", "nobody"],
        ["sql"],
        ["sql", "SELECT 1", "--timeout", "1e3"],
    ],
)
def test_everything_else_is_left_to_typer(ledger: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert quick.main(["--db", str(ledger), *args]) is None
    assert capsys.readouterr() == ("", "")


def test_a_postgresql_url_or_a_missing_file_is_left_to_typer(tmp_path: Path) -> None:
    assert quick.main(["--db", "postgresql+psycopg://nobody@127.0.0.1:1/x", "list"]) is None
    assert quick.main(["--db", "postgresql+psycopg://nobody@127.0.0.1:1/x", "sql", "SELECT 1"]) is None
    assert quick.main(["--db", str(tmp_path / "missing.db"), "list"]) is None


def test_the_console_script_is_the_quick_entry_point() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["ledger"] == "ledger.cli.quick:run"


@pytest.mark.parametrize("args", [["list", "--limit", "2", "-f", "csv"], ["sql", "SELECT 1 AS one", "-f", "csv"]])
def test_quick_commands_import_neither_typer_nor_the_database_stack(ledger: Path, args: list[str]) -> None:
    heavy = ["typer", "sqlalchemy", "alembic", "pydantic", "rich", "zipfile", "json"]
    lines, loaded = run_fresh("ledger.cli.quick", ["--db", str(ledger), *args], heavy)
    assert loaded == [], lines
    assert len(lines) > 1


def test_other_commands_run_through_typer_from_the_console_script(ledger: Path) -> None:
    code = (
        "import sys; from ledger.cli.quick import run\n"
        f"sys.argv = ['ledger', '--db', {str(ledger)!r}, 'list', 'parties', '-f', 'csv']\n"
        "try:\n    run()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == CliRunner().invoke(app, ["--db", str(ledger), "list", "parties", "-f", "csv"]).stdout
