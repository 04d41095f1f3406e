"""Start-up: the console script builds only the command it runs, and behaves as the whole app does."""

from __future__ import annotations

import subprocess
import sys
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import typer
from typer._coercion import build_runtime_param
from typer.testing import CliRunner

from ledger.cli.app import ROOT_VALUE_OPTIONS, app, app_for, command_word
from ledger.cli.coercion import UNSURE, obvious
from tests.conftest import Run
from tests.startup import run_fresh

NAMES = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["list", "--limit", "20"], "list"),
        (["--db", "x.db", "list"], "list"),
        (["--db=x.db", "-q", "show", "c-1"], "show"),
        (["--author", "me", "--debug", "party", "add"], "party"),
        (["--", "list"], "list"),
        (["--help"], None),
        (["--db", "list"], None),
        ([], None),
    ],
)
def test_command_word(argv: list[str], word: str | None) -> None:
    assert command_word(argv) == word


def test_root_value_options_are_the_root_options_that_take_a_value() -> None:
    root = typer.main.get_command(app)
    taking_values = {name for p in root.params if not getattr(p, "is_flag", True) for name in p.opts}
    assert taking_values == set(ROOT_VALUE_OPTIONS)


def test_whole_app_for_typos_versions_and_completion(monkeypatch: pytest.MonkeyPatch) -> None:
    assert app_for(["lsit"]) is app
    assert app_for(["--version"]) is app
    monkeypatch.setenv("_LEDGER_COMPLETE", "bash_complete")
    assert app_for(["list"]) is app


@pytest.mark.parametrize("argv", [["--help"], [], ["--db", "x.db", "--help"]])
def test_root_help_lists_every_command_as_the_whole_app_does(argv: list[str]) -> None:
    listing = app_for(argv)
    assert listing is not app
    assert all(c.callback is not None and c.callback.__name__ == "_listed" for c in listing.registered_commands)
    runner = CliRunner()
    whole, listed = runner.invoke(app, argv), runner.invoke(listing, argv)
    assert (listed.exit_code, listed.stdout, listed.stderr) == (whole.exit_code, whole.stdout, whole.stderr)
    assert "  list " in listed.stdout + listed.stderr and "  party " in listed.stdout + listed.stderr


@pytest.mark.parametrize("name", NAMES)
def test_narrowed_app_holds_only_that_command_and_the_same_help(name: str) -> None:
    narrowed = app_for(["--db", "x.db", name])
    group = typer.main.get_command(narrowed)
    assert isinstance(group, typer.core.TyperGroup)
    assert list(group.commands) == [name]
    runner = CliRunner()
    whole, alone = runner.invoke(app, [name, "--help"]), runner.invoke(narrowed, [name, "--help"])
    assert alone.exit_code == whole.exit_code == 0
    assert alone.stdout == whole.stdout
    assert len(app.registered_commands) + len(app.registered_groups) == len(NAMES)  # the app itself is untouched


def test_narrowed_app_runs_the_command_as_the_whole_app_does(seeded: Path, db_url: str) -> None:
    runner = CliRunner()
    for args in (["list", "--limit", "3", "-f", "csv"], ["list", "--kind", "nonsense"], ["show", "nothing-here"]):
        argv = ["--db", db_url, *args]
        whole, alone = runner.invoke(app, argv), runner.invoke(app_for(argv), argv)
        assert (alone.exit_code, alone.stdout, alone.stderr) == (whole.exit_code, whole.stdout, whole.stderr)


@pytest.mark.sqlite_only
def test_sql_on_a_sqlite_file_loads_no_sqlalchemy(ledger_db: Path) -> None:
    """`ledger sql` on a SQLite file needs only the standard library's sqlite3 (SQLAlchemy costs ~0.3 s)."""
    query = ["--db", str(ledger_db), "sql", "SELECT count(*) AS n FROM records", "-f", "csv"]
    assert run_fresh("ledger.cli.app", query, ["sqlalchemy", "alembic"]) == (["n", "0"], [])


@pytest.mark.sqlite_only
def test_list_on_a_sqlite_file_loads_no_sqlalchemy(seeded: Path) -> None:
    """`ledger list` of concessions on a SQLite file reads through sqlite3 alone (ledger.ops.concession_list)."""
    lines, loaded = run_fresh("ledger.cli.app", ["--db", str(seeded), "list", "--limit", "2", "-f", "csv"],
                              ["sqlalchemy", "alembic", "pydantic", "rich"])  # fmt: skip
    assert lines[0].startswith("id,giver,receiver") and len(lines) == 3, lines
    assert loaded == []


def test_the_quick_path_modules_load_no_export_or_format_libraries() -> None:
    """ledger.cli.quick, render and lists, ledger.db and ledger.ops.concession_list import formats (json, csv,
    the export writers with zipfile) only when a format needs them, and never Typer or SQLAlchemy."""
    code = (
        "import sys\n"
        "import ledger.cli.quick, ledger.cli.render, ledger.cli.lists, ledger.db, ledger.ops.concession_list\n"
        "heavy = {'typer', 'sqlalchemy', 'pydantic', 'rich', 'json', 'csv', 'zipfile', 'random', 'dataclasses'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy), 'ledger.io.writers' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["['dataclasses']", "False"]  # dataclasses: FuzzyDate, ConcessionFilter


def _parameters() -> list[tuple[str, Any, Any]]:
    """(command path, command, parameter) for every parameter of every command, the root included."""
    out: list[tuple[str, Any, Any]] = []

    def walk(path: str, command: Any) -> None:
        out.extend((path, command, p) for p in command.params if hasattr(p, "type_descriptor"))
        for name, sub in getattr(command, "commands", {}).items():
            walk(f"{path} {name}", sub)

    walk("ledger", typer.main.get_command(app))
    return out


def _samples(annotation: Any) -> list[Any]:
    if get_origin(annotation) is list:
        return [[s] for s in _samples(get_args(annotation)[0])] + [[]]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        members = list(annotation)
        return [*members, *(str(m.value) for m in members), str(members[0].value).upper(), "nonsense", ""]
    return ["x", "", "-x", "0", "1", "20", "-3", "007", "1e3", " 5", "5_000", "0.5", "-0.5", "10.0", "inf", 0, 7, 10.0]


def test_obvious_values_convert_exactly_as_typer_converts_them() -> None:
    """The light coercion (ledger.cli.coercion) against Typer's own, on every parameter of every command."""
    compared = 0
    for path, command, param in _parameters():
        descriptor = param.type_descriptor
        ctx = typer.Context(command)
        for value in _samples(descriptor.annotation):
            mine = obvious(descriptor.annotation, descriptor.parameter_info, value)
            if mine is UNSURE:
                continue
            theirs = build_runtime_param(descriptor)._coerce_value(value, param=param, ctx=ctx)
            assert (mine, type(mine)) == (theirs, type(theirs)), (path, param.name, value)
            compared += 1
    assert compared > 200


def test_values_that_are_not_obvious_get_typers_own_messages(run: Run) -> None:
    result = run("list", "--limit", "0")
    assert result.exit_code == 2 and "Invalid value for '--limit'" in result.stderr
    result = run("list", "--kind", "nonsense")
    assert result.exit_code == 2 and "'nonsense' is not one of" in result.stderr
