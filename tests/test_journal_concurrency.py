"""Concurrent writers never fork the chain: 8 processes appending 200 entries each to one SQLite file."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ledger import journal
from ledger.db import make_engine, resolve_url, session_scope
from ledger.models import JournalEntry
from tests.conftest import Run

WORKERS = 8
APPENDS = 200


def _append_many(path: str, worker: int, start: Any) -> None:
    """One writer: 200 separate transactions, each adding one source through the journal."""
    from ledger.ops.add import add, plan_source
    from ledger.schemas import SourceIn

    url = resolve_url(path)
    engine = make_engine(url)
    start.wait()
    try:
        for i in range(APPENDS):
            with session_scope(engine, write=True, url=url) as session:
                session.info["author"] = f"writer-{worker}"
                add(session, plan_source(session, SourceIn(id=f"s-{worker}-{i}", title=f"report {i} of {worker}")))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_eight_writers_leave_one_unbroken_chain(
    db_url: str, run: Run, ledger_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_CHECK_TOUCHED", "0")  # a full digest pass per write: too slow for 1,600 writes
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WORKERS)
    processes = [context.Process(target=_append_many, args=(db_url, w, start)) for w in range(WORKERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
    assert [p.exitcode for p in processes] == [0] * WORKERS
    url = resolve_url(db_url)
    engine = make_engine(url)
    try:
        with session_scope(engine, write=False, url=url) as session:
            problems = list(journal.verify_chain(session))
            total = session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()
            authors = session.execute(select(JournalEntry.author, func.count()).group_by(JournalEntry.author)).all()
            head = journal.head(session)
    finally:
        engine.dispose()
    assert problems == []
    assert total == head.seq == WORKERS * APPENDS
    assert dict(authors) == {f"writer-{w}": APPENDS for w in range(WORKERS)}
    assert run("verify").exit_code == 0
