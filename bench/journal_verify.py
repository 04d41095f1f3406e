"""Make a ledger with N journal entries (sources added, then amended), then time `ledger verify`.

    python bench/journal_verify.py /tmp/bench.db 100000
    time ledger --db /tmp/bench.db verify --chain-only
    time ledger --db /tmp/bench.db verify

Prints how long generating took; never run as a test.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from ledger.db import make_engine, resolve_url, session_scope, upgrade
from ledger.ops.add import plan_source
from ledger.ops.base import write
from ledger.ops.correct import plan_amend
from ledger.schemas import SourceIn

BATCH = 2_000


def main(path: str, entries: int) -> None:
    """Write ``entries`` journal entries: three sources added for every one amended."""
    if Path(path).exists():
        sys.exit(f"{path} exists; give a new file")
    url = resolve_url(path)
    upgrade(url)
    engine = make_engine(url)
    started, written = time.perf_counter(), 0
    try:
        while written < entries:
            with session_scope(engine, write=True, url=url) as session:
                session.info["author"] = "bench"
                for _ in range(min(BATCH, entries - written)):
                    n = written
                    if n % 4 == 3:
                        change = {"title": f"report {n - 1}, corrected"}
                        write(session, plan_amend(session, f"s-{n - 1}", change, reason="bench", citations=[]))
                    else:
                        write(session, plan_source(session, SourceIn(id=f"s-{n}", title=f"report {n}")))
                    written += 1
    finally:
        engine.dispose()
    print(f"{written} entries written in {time.perf_counter() - started:.1f} s")  # noqa: T201


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
