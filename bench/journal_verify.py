"""Make a ledger with N journal entries (sources added, one in four amended), to time `ledger verify`.

    python bench/journal_verify.py /tmp/bench.db 100000
    time ledger --db /tmp/bench.db verify --chain-only
    time ledger --db /tmp/bench.db verify

The rows are written in bulk (Core executemany), exactly as the projectors of `add_source` and
`amend` would write them, so the full verify (which replays every entry) must find no difference.
Prints how long generating took; never run as a test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, update

from ledger import journal
from ledger.db import make_engine, resolve_url, session_scope, upgrade
from ledger.domain import Precision, RecordType
from ledger.models import JournalEntry, Record, Source

BATCH = 5_000
AT = "2025-12-13T08:00:00.000000Z"


def _entries(count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Journal rows, new sources, and amended titles, hash-chained from the genesis hash."""
    rows, sources, titles, prev = [], [], [], journal.GENESIS_HASH
    for seq in range(1, count + 1):
        if seq % 4 == 0:
            slug = f"s-{seq - 1}"
            change = {"title": {"old": f"report {seq - 1}", "new": f"report {seq - 1}, corrected"}}
            op, payload = "amend", {"id": slug, "changes": change, "reason": "bench"}
            titles.append({"key": seq - 1, "new_title": change["title"]["new"]})
        else:
            slug = f"s-{seq}"
            op, payload = "add_source", {"id": slug, "title": f"report {seq}"}
            sources.append({"id": seq, "slug": slug, "title": payload["title"]})
        text = journal.canonical(payload)
        digest = journal.entry_hash(seq=seq, at=AT, author="bench", op=op, record_type="source",
                                    record_slug=slug, payload=text, prev_hash=prev)  # fmt: skip
        rows.append({"seq": seq, "at": AT, "author": "bench", "op": op, "record_type": "source",
                     "record_slug": slug, "payload": text, "prev_hash": prev, "hash": digest})  # fmt: skip
        prev = digest
    return rows, sources, titles


def main(path: str, count: int) -> None:
    """Write ``count`` journal entries and the tables they project to."""
    if Path(path).exists():
        sys.exit(f"{path} exists; give a new file")
    started = time.perf_counter()
    url = resolve_url(path)
    upgrade(url)
    rows, sources, titles = _entries(count)
    engine = make_engine(url)
    try:
        with session_scope(engine, write=True, url=url) as session:
            for i in range(0, count, BATCH):
                session.execute(insert(JournalEntry), rows[i : i + BATCH])
            records = [{"id": s["id"], "type": RecordType.SOURCE, "slug": s["slug"], "retracted": False,
                        "created_seq": s["id"]} for s in sources]  # fmt: skip
            session.execute(insert(Record.__table__), records)
            table = Source.__table__
            session.execute(insert(table), [{"id": s["id"], "title": s["title"],
                                             "published_precision": Precision.UNKNOWN} for s in sources])  # fmt: skip
            session.execute(
                update(table).where(table.c.id == bindparam("key")).values(title=bindparam("new_title")), titles
            )
    finally:
        engine.dispose()
    print(f"{count} entries written in {time.perf_counter() - started:.1f} s")  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
