"""The row pass of `ledger verify` shared with a second process finds exactly what one process finds.

The second process (the *helper*) takes ranges of owners from a counter in a scratch file; it must read
the same moment of the ledger as the main process (PostgreSQL shares the snapshot; on SQLite the main
process sees that the journal heads differ and hashes everything itself), and a helper that fails costs
time, never a wrong answer.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from ledger import db
from ledger.ops import state, verify
from tests.conftest import Run


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, int]]:
    """Force the two-process row pass on a small ledger, in ranges of 3 owners; record, per verification,
    the scratch files of live digests compared and how many owners each holds."""
    monkeypatch.setattr(verify, "PARALLEL_FROM", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(state, "SPAN", 3)
    seen: list[dict[str, int]] = []
    compare = verify.compare

    def recording(
        session: Any, scratch: verify.Scratch, live: list[Path], *, hint: bool = True
    ) -> Iterator[verify.Problem]:
        counts = {}
        for path in live:
            with sqlite3.connect(path) as connection:
                counts[path.stem] = connection.execute("SELECT count(*) FROM live").fetchone()[0]
        seen.append(counts)
        return compare(session, scratch, live, hint=hint)

    monkeypatch.setattr(verify, "compare", recording)
    finish = verify.RowPass.finish

    def after_the_helper_took_a_range(self: verify.RowPass) -> list[Path]:
        # The main process's chain is done in milliseconds here: wait until the helper has started and
        # taken a range, so that the helper really takes part.
        if self.helper is not None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and self.helper.process.poll() is None:
                with sqlite3.connect(self.scratch.path("claims"), timeout=60) as connection:
                    if connection.execute("SELECT next FROM counter").fetchone()[0] > 0:
                        break
                time.sleep(0.05)
        return finish(self)

    monkeypatch.setattr(verify.RowPass, "finish", after_the_helper_took_a_range)
    return seen


def _tamper(db_url: str, *statements: str) -> None:
    url = db.resolve_url(db_url)
    engine = create_engine(url.set(drivername="sqlite") if db.is_sqlite(url) else url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def _verify(db_url: str) -> verify.Report:
    with db.session_scope(db.make_engine(db.resolve_url(db_url)), write=False) as session:
        return verify.verify(session)


def test_two_processes_find_what_one_finds(
    run: Run, seeded: Path, db_url: str, spy: list[dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _tamper(
        db_url,
        "UPDATE concessions SET quantity = 999 WHERE id = (SELECT min(id) FROM concessions)",
        "DELETE FROM exchange_members WHERE id = (SELECT max(id) FROM exchange_members)",
        "UPDATE records SET slug = 'renamed' WHERE id = (SELECT max(id) FROM records WHERE type = 'source')",
    )
    shared = _verify(db_url)
    assert len(spy) == 1 and sorted(spy[0]) == ["live0", "live1"], spy
    # The helper hashed owners (how many each process takes is up to scheduling: on a ledger this small the
    # helper can take every range before this process asks for one).
    assert spy[0]["live1"] > 0, spy
    monkeypatch.setattr(verify, "PARALLEL_FROM", 10**12)
    alone = _verify(db_url)
    assert sorted(spy[1]) == ["live0"]
    assert shared.problems == alone.problems
    assert sorted(p.where for p in shared.problems) == ["concessions", "exchanges", "sources"], shared.problems
    assert all("changed outside the ledger" in p.message for p in shared.problems)
    assert sum(spy[0].values()) == spy[1]["live0"]  # every owner hashed once, by one process or the other


def test_the_helper_reads_the_moment_the_main_process_reads(
    run: Run, seeded: Path, db_url: str, backend: str, spy: list[dict[str, int]]
) -> None:
    with db.session_scope(db.make_engine(db.resolve_url(db_url)), write=False) as session:
        before = verify.journal.head(session)  # this transaction's snapshot starts here
        # Another process writes while this transaction is open.
        added = subprocess.run(
            [sys.executable, "-c", "from ledger.cli.quick import run; run()", "--db", db_url, "--author", "tester",
             "add", "--id", "later", "--giver", "by", "--receiver", "us", "--kind", "prisoner_release",
             "--summary", "written while verify runs", "--status", "promised"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        report = verify.verify(session)
    assert report.ok, report.problems  # the new concession is neither "inserted outside" nor anything else
    assert report.head == before
    # PostgreSQL hands the snapshot to the helper; SQLite cannot, so the main process sees the helper
    # read a newer head and hashes every range itself.
    assert sorted(spy[0]) == (["live0", "live1"] if backend == "postgresql" else ["alone"]), spy
    assert _verify(db_url).ok


def test_a_failed_helper_costs_time_not_the_answer(
    run: Run, seeded: Path, db_url: str, spy: list[dict[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _tamper(db_url, "UPDATE concessions SET quantity = 7 WHERE id = (SELECT max(id) FROM concessions)")
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the helper exits 1 at once
    failed = _verify(db_url)
    assert sorted(spy[0]) == ["alone"], spy
    monkeypatch.setattr(verify, "PARALLEL_FROM", 10**12)
    assert failed.problems == _verify(db_url).problems
    assert [p.where for p in failed.problems] == ["concessions"]


def test_the_cli_verifies_with_a_helper(run: Run, seeded: Path, spy: list[dict[str, int]]) -> None:
    result = run("verify")
    assert result.exit_code == 0, result.stderr
    assert sorted(spy[0]) == ["live0", "live1"], spy
