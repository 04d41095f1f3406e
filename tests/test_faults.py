"""Crashes and faults on a SQLite ledger: kill -9 mid-import, full disk, read-only, locked, damaged files.

Each fault must give a clear message and exit 4 (never a traceback), leave the previous state, and never
replace the file with a freshly created empty ledger.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger import journal
from ledger.db import make_engine, resolve_url, session_scope
from tests.battery import big_import_file
from tests.conftest import ROOT, Run, checksum

pytestmark = pytest.mark.sqlite_only
RECORDS = int(os.environ.get("LEDGER_BATTERY_RECORDS", "1500"))
KILLS = int(os.environ.get("LEDGER_BATTERY_KILLS", "20"))
CLI = [sys.executable, "-c", "from ledger.cli.app import run; run()"]


def ledger(db: Path, *args: str, env: dict[str, str] | None = None, drop_root: bool = False) -> subprocess.Popen[str]:
    """Start the real console entry point in its own process."""
    prefix: list[str] = []
    if drop_root and os.geteuid() == 0:
        # root ignores file permissions; without CAP_DAC_OVERRIDE it is held to them like any owner.
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: cannot make a file read-only to ourselves")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    return subprocess.Popen(
        [*prefix, *CLI, "--db", str(db), *args],
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LEDGER_AUTHOR": "tester",
            "LEDGER_CHECK_TOUCHED": "0",
            **(env or {}),
        },  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def integrity(path: Path) -> tuple[str, int, list[str]]:
    """(PRAGMA integrity_check, journal entries, chain problems) of a ledger file."""
    with sqlite3.connect(path) as connection:
        check = connection.execute("PRAGMA integrity_check").fetchone()[0]
        entries = connection.execute("SELECT count(*) FROM journal").fetchone()[0]
    engine = make_engine(resolve_url(str(path)))
    try:
        with session_scope(engine, write=False) as session:
            problems = [p.message for p in journal.verify_chain(session)]
    finally:
        engine.dispose()
    return check, entries, problems


def imported(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM records WHERE slug LIKE 'imp-%'").fetchone()[0])


@pytest.mark.slow
def test_kill_9_during_a_large_import_leaves_none_or_all(small: Path, tmp_path: Path) -> None:
    data = tmp_path / "big.jsonl"
    total = big_import_file(data, RECORDS)
    base = tmp_path / "base.db"
    shutil.copy(small, base)
    base_entries = integrity(base)[1]
    started = time.monotonic()
    code, _, err = finished(ledger(small, "import", str(data)))
    full = time.monotonic() - started
    assert code == 0, err
    assert imported(small) == total
    rng = random.Random(7)
    outcomes: list[str] = []
    for run_no in range(KILLS):
        target = tmp_path / f"kill-{run_no}.db"
        shutil.copy(base, target)
        process = ledger(target, "import", str(data))
        time.sleep(rng.uniform(0.05, full))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        check, entries, problems = integrity(target)
        count = imported(target)
        assert check == "ok" and problems == [], (run_no, check, problems)
        assert (count, entries) in {(0, base_entries), (total, base_entries + total)}, (run_no, count, entries)
        outcomes.append("all" if count else "none")
    print(f"kill -9 x{KILLS} of a {total}-record import (full run {full:.1f}s): {outcomes}")  # noqa: T201


def test_full_disk_gives_a_clear_error_and_the_previous_state(
    run: Run, small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "big.jsonl"
    big_import_file(data, 500)
    with sqlite3.connect(small) as connection:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    before = checksum(small)
    monkeypatch.setenv("LEDGER_SQLITE_MAX_PAGES", str(pages + 5))
    result = run("import", str(data))
    assert result.exit_code == 4, result.stdout
    assert "disk is full" in result.stderr and "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr and "INSERT" not in result.stderr
    monkeypatch.delenv("LEDGER_SQLITE_MAX_PAGES")
    assert checksum(small) == before
    assert integrity(small)[0] == "ok"
    assert len(run("list", "--format", "json").json()) == 2


def _refused(code: int, err: str, *phrases: str) -> None:
    assert code == 4, err
    assert "Traceback" not in err
    assert all(p in err for p in phrases), err


def test_read_only_file(small: Path) -> None:
    small.chmod(0o444)
    try:
        before = checksum(small)
        code, _, err = finished(
            ledger(small, "party", "add", "ru", "--name", "Russia", "--kind", "state", drop_root=True)
        )
        _refused(code, err, "read-only")
        assert checksum(small) == before
    finally:
        small.chmod(0o644)


def test_read_only_directory(small: Path) -> None:
    folder = small.parent
    folder.chmod(0o555)
    try:
        before = checksum(small)
        code, _, err = finished(
            ledger(small, "party", "add", "ru", "--name", "Russia", "--kind", "state", drop_root=True)
        )
        _refused(code, err, str(small))
        assert "read-only" in err or "cannot open" in err
        assert checksum(small) == before
    finally:
        folder.chmod(0o755)


def test_locked_database_waits_then_exits_4(run: Run, small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time\n"
         "c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN EXCLUSIVE')\n"
         "print('locked', flush=True); time.sleep(60)", str(small)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        monkeypatch.setenv("LEDGER_BUSY_TIMEOUT", "0.5")
        result = run("party", "add", "ru", "--name", "Russia", "--kind", "state")
        _refused(result.exit_code, result.stderr, "busy", "LEDGER_BUSY_TIMEOUT")
        assert run("list", "--format", "json").exit_code == 0  # WAL: readers are not blocked by a writer
    finally:
        holder.kill()
        holder.wait()
    monkeypatch.delenv("LEDGER_BUSY_TIMEOUT")
    assert run("party", "add", "ru", "--name", "Russia", "--kind", "state").exit_code == 0


Damage = Callable[[Path], None]


def _not_sqlite(path: Path) -> None:
    path.write_bytes(b"PK\x03\x04 this is a zip file, not a ledger" * 200)


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _corrupt_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    rng = random.Random(3)
    for offset in range(4096 + 100, len(data), 4096):  # every page after the first, past its header
        data[offset : offset + 512] = rng.randbytes(512)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("damage", "phrase"), [(_not_sqlite, "not a SQLite database"), (_truncated, "damaged"),
                                                (_corrupt_pages, "damaged")])  # fmt: skip
def test_damaged_files_are_refused_and_never_recreated(run: Run, small: Path, damage: Damage, phrase: str) -> None:
    assert not Path(f"{small}-wal").exists()  # every command has closed and checkpointed
    damage(small)
    before = checksum(small)
    for args in (("list",), ("party", "add", "ru", "--name", "Russia", "--kind", "state"), ("audit",), ("init",)):
        result = run(*args)
        _refused(result.exit_code, result.stderr, str(small))
        assert phrase in result.stderr or "damaged" in result.stderr, (args, result.stderr)
    assert checksum(small) == before
