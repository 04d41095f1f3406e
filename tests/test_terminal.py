"""Terminal polish: tables that fit the width, colours only on a terminal and never with NO_COLOR,
shell completion, and errors that say what to run next."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ledger.cli import render
from ledger.cli.common import progress
from tests.conftest import Run

ANSI = re.compile(r"\x1b\[")
ROWS = [
    {"id": f"concession-{i}", "status": "delivered", "summary": "a long summary of what was given " * 4}
    for i in range(3)
]


def test_terminal_table_fits_the_width_and_colours_statuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)
    text = render.render_rows(ROWS, ["id", "status", "summary"], render.OutputFormat.TABLE)
    plain = ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", text))
    assert max(len(line) for line in plain.splitlines()) <= 60
    assert ANSI.search(text) is not None


def test_no_color_means_no_colour_even_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "_is_terminal", lambda: True)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    text = render.render_rows(ROWS, ["id", "status"], render.OutputFormat.TABLE)
    assert "delivered" in text and re.search(r"\x1b\[[0-9;]*3\dm", text) is None


def test_piped_output_is_plain_text(run: Run, seeded: Path) -> None:
    out = run("list").stdout
    assert ANSI.search(out) is None and out.startswith("id ")


def test_progress_passes_every_item_through_when_not_on_a_terminal() -> None:
    assert list(progress(range(5), "counting")) == [0, 1, 2, 3, 4]


def test_shell_completion_script_is_offered(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import shellingham

    # Typer names the shell by walking the process tree, which a pytest-xdist worker may not show: say bash.
    monkeypatch.setattr(shellingham, "detect_shell", lambda *_a, **_k: ("bash", "/bin/bash"))
    result = run("--show-completion", "bash")
    assert result.exit_code == 0 and "_LEDGER_COMPLETE" in result.stdout


def test_errors_say_what_to_run_next(run: Run, db_path: Path) -> None:
    result = run("balance")
    # SQLite: the file is missing; PostgreSQL: the server database exists but holds no ledger yet.
    missing = "no ledger at" in result.stderr or "is not an initialised ledger" in result.stderr
    assert result.exit_code == 4 and missing and "ledger init" in result.stderr
