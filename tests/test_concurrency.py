"""Concurrency: 8 writer processes x 200 writes (add, add, link, amend) and a reader, on each backend.

Every write must land exactly once, the journal must stay one unbroken chain, and the reader must never
see a half-applied write. Environment: LEDGER_BATTERY_WORKERS / LEDGER_BATTERY_WRITES scale it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger import journal
from ledger.db import make_engine, resolve_url, session_scope
from ledger.models import JournalEntry
from tests.battery import GROUP, writer_commands
from tests.conftest import ROOT, Run

WORKERS = int(os.environ.get("LEDGER_BATTERY_WORKERS", "8"))
WRITES = int(os.environ.get("LEDGER_BATTERY_WRITES", "200"))
OP_OF = {"add": "add_concession", "link": "link", "amend": "amend"}


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LEDGER_CHECK_TOUCHED": "0"}  # full digests per write: too slow here
    return subprocess.Popen(
        [sys.executable, "-m", "tests.battery", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )


def _report(process: subprocess.Popen[str]) -> dict[str, object]:
    out, _ = process.communicate(timeout=600)
    assert process.returncode == 0, out
    return dict(json.loads(out.strip().splitlines()[-1]))


def expected_entries() -> Counter[tuple[str, str]]:
    """(journal op, record) of every write the writers attempt."""
    wanted: Counter[tuple[str, str]] = Counter()
    for worker in range(WORKERS):
        for args in writer_commands(worker, WRITES):
            slug = args[2] if args[0] == "add" else args[1]
            wanted[(OP_OF[args[0]], slug)] += 1
    return wanted


@pytest.mark.slow
def test_concurrent_writers_and_reader(run: Run, db_url: str, tmp_path: Path) -> None:
    assert run("init").exit_code == 0
    for party, name in (("by", "Belarus"), ("us", "United States")):
        assert run("party", "add", party, "--name", name, "--kind", "state").exit_code == 0
    stop = tmp_path / "stop"
    reader = _spawn("reader", db_url, str(stop))
    writers = [_spawn("writer", db_url, str(w), str(WRITES)) for w in range(WORKERS)]
    reports = [_report(w) for w in writers]
    stop.touch()
    seen = _report(reader)

    assert [r["failures"] for r in reports] == [[]] * WORKERS
    assert sum(int(str(r["ok"])) for r in reports) == WORKERS * WRITES
    engine = make_engine(resolve_url(db_url))
    try:
        with session_scope(engine, write=False) as session:
            stored = Counter(
                (op, slug)
                for op, slug in session.execute(select(JournalEntry.op, JournalEntry.record_slug))
                if op != "add_party"
            )
            broken = list(journal.verify_chain(session))
    finally:
        engine.dispose()
    links = Counter({(op, slug): n for (op, slug), n in stored.items() if op == "link"})
    wanted = expected_entries()
    non_links = Counter({k: n for k, n in stored.items() if k[0] != "link"})
    assert non_links == Counter({k: n for k, n in wanted.items() if k[0] != "link"})  # none lost, none doubled
    assert sum(links.values()) == WORKERS * (WRITES // GROUP) and max(links.values()) == 1
    assert broken == []
    assert seen["failures"] == [] and seen["problems"] == []
    assert int(str(seen["snapshots"])) >= 1
    listed = {row["id"]: row for row in run("list", "--format", "json").json()}
    assert listed["w0-g0-a"]["summary"] == "amended by worker 0 group 0"
    assert listed["w0-g0-a"]["counterparts"] == ["w0-g0-b"]
