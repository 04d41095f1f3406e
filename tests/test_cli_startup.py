"""Start-up: the console script builds only the command it runs, and behaves as the whole app does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from ledger.cli.app import ROOT_VALUE_OPTIONS, app, app_for, command_word

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


def test_whole_app_for_root_help_typos_and_completion(monkeypatch: pytest.MonkeyPatch) -> None:
    assert app_for(["--help"]) is app
    assert app_for(["lsit"]) is app
    monkeypatch.setenv("_LEDGER_COMPLETE", "bash_complete")
    assert app_for(["list"]) is app


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
    code = (
        "import sys; from ledger.cli.app import run\n"
        f"sys.argv = ['ledger', '--db', {str(ledger_db)!r}, 'sql', 'SELECT count(*) AS n FROM records', '-f', 'csv']\n"
        "try:\n    run()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'alembic'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["n", "0", "[]"]
