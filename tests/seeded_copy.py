"""A seeded ledger built once per test module and copied for each test (the seeds import is slow)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli.app import app
from tests.conftest import SEEDS


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "ledger.db"
    runner = CliRunner()
    for args in (["init"], ["--author", "tester", "import", str(SEEDS)]):
        result = runner.invoke(app, ["--db", str(path), *args])
        assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def seeded(seeded_template: Path, db_path: Path) -> Path:
    """A copy of the seeded ledger for this test."""
    shutil.copyfile(seeded_template, db_path)
    return db_path
