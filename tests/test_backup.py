"""`ledger backup`: a consistent, verified copy of a live SQLite ledger; PostgreSQL points to pg_dump."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, Run


@pytest.mark.sqlite_only
def test_backup_copies_and_the_copy_verifies(run: Run, seeded: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    result = run("backup", str(copy))
    assert result.exit_code == 0, result.stderr
    assert "hash chain verified" in result.stdout
    assert not Path(f"{copy}-wal").exists()
    assert run("verify", db=str(copy)).exit_code == 0
    assert run("audit", "--fail-on", "error", db=str(copy)).exit_code == 0
    assert run("list", "--format", "json", db=str(copy)).json() == run("list", "--format", "json").json()


@pytest.mark.sqlite_only
def test_backup_refuses_to_overwrite_without_force(run: Run, small: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_text("precious")
    result = run("backup", str(copy))
    assert result.exit_code == 3 and "already exists" in result.stderr and "--force" in result.stderr
    assert copy.read_text() == "precious"
    assert run("backup", str(small)).exit_code == 3  # never over the ledger itself
    assert run("backup", "--force", str(copy)).exit_code == 0
    assert run("verify", db=str(copy)).exit_code == 0


@pytest.mark.sqlite_only
def test_backup_of_a_ledger_being_written(run: Run, small: Path, tmp_path: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-m", "tests.battery", "writer", str(small), "0", "60"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    copies = []
    try:
        while writer.poll() is None and len(copies) < 5:
            copy = tmp_path / f"copy-{len(copies)}.db"
            result = run("backup", str(copy))
            assert result.exit_code == 0, result.stderr
            copies.append(copy)
    finally:
        writer.communicate(timeout=300)
    assert writer.returncode == 0
    assert copies
    for copy in copies:
        assert run("verify", db=str(copy)).exit_code == 0, copy


def test_backup_on_postgresql_points_to_pg_dump(run: Run, ledger_db: Path, backend: str, tmp_path: Path) -> None:
    if backend != "postgresql":
        pytest.skip("the PostgreSQL answer only")
    result = run("backup", str(tmp_path / "x.db"))
    assert result.exit_code == 3 and "pg_dump" in result.stderr
    assert not (tmp_path / "x.db").exists()
