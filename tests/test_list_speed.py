"""`ledger list` stays fast on a large ledger: the page query walks an index, and start-up stays light.

No timings here: the plan and the imports are what make it fast, and they are checked directly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ledger.db import make_engine, resolve_url, session_scope
from ledger.ops import queries
from tests.conftest import Run


def _plan(db_path: Path, filters: queries.ConcessionFilter) -> list[str]:
    url = resolve_url(str(db_path))
    engine = make_engine(url)
    try:
        with session_scope(engine, write=False, url=url) as session:
            statement = queries._concession_select(session, filters)
            compiled = statement.compile(engine)
            params = tuple(compiled.params[name] for name in compiled.positiontup or ())
            rows = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
            return [str(row[3]) for row in rows]
    finally:
        engine.dispose()


@pytest.mark.sqlite_only
def test_the_default_page_walks_the_date_index_instead_of_sorting_the_table(seeded: Path) -> None:
    plan = _plan(seeded, queries.ConcessionFilter(limit=20))
    assert plan[0] == "SCAN concessions USING INDEX ix_concessions_date_order", plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


@pytest.mark.sqlite_only
def test_listing_does_not_build_the_import_schemas(seeded: Path) -> None:
    code = (
        "import sys\n"
        f"sys.argv = ['ledger', '--db', {str(seeded)!r}, 'list', '--limit', '2', '--format', 'json']\n"
        "from ledger.cli.app import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print('SCHEMAS' if 'ledger.schemas' in sys.modules else 'NO-SCHEMAS')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "NO-SCHEMAS"
    assert '"id"' in done.stdout  # the listing itself ran


def test_the_page_is_ordered_by_date_with_unknown_dates_last(run: Run, seeded: Path) -> None:
    rows = run("list", "--format", "json").json()
    starts = [(r["date"]["value"] or "")[:10] for r in rows]
    keys = [(start == "", start + "-01-01"[len(start) - 4 :] if start else "") for start in starts]
    assert keys == sorted(keys)
    assert run("list", "--limit", "3", "--format", "json").json() == rows[:3]
