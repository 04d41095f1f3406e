"""Shared fixtures: a fresh ledger file per test, the real Typer app, the seeds and shared sources."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ledger.cli.app import app

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds" / "belarus-us.yaml"
SHARED_SOURCES = ROOT.parent / "shared" / "sources"


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


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture
def run(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke the real app against this test's ledger; returns exit code, stdout and stderr."""
    monkeypatch.delenv("LEDGER_DB", raising=False)
    monkeypatch.setenv("LEDGER_AUTHOR", "tester")
    runner = CliRunner()

    def invoke(*args: str, db: str | None = None, input: str | None = None) -> Result:
        result = runner.invoke(app, ["--db", db or str(db_path), *args], input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Result(result.exit_code, result.stdout, result.stderr)

    return invoke


@pytest.fixture
def ledger_db(run: Run, db_path: Path) -> Path:
    """An initialised, empty ledger."""
    assert run("init").exit_code == 0
    return db_path


@pytest.fixture
def seeded(run: Run, ledger_db: Path) -> Path:
    """A ledger holding the reference case from seeds/."""
    result = run("import", str(SEEDS))
    assert result.exit_code == 0, result.stderr
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
def seeded_copy(seeded_template: Path, db_path: Path) -> Path:
    """Like `seeded`, but a copy of a module-wide seeded file: much faster when many tests need the seeds."""
    import shutil

    shutil.copyfile(seeded_template, db_path)
    return db_path
