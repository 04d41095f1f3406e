"""The audit's queries stay set-based on a large ledger: no full scan inside a loop (issue 8, item 3).

Every query each check runs is captured and explained with SQLite's ``EXPLAIN QUERY PLAN``. A scan of a
whole table (or index) is fine as the outer loop of a query: it is one pass. The same scan nested under
another loop, or inside a correlated subquery, runs once per outer row: quadratic on a million rows.
No timings: the plans are what make the audit fast, and they are checked directly. Without ANALYZE
statistics SQLite plans the same way on the seeds as on a million rows, so the small ledger stands in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ledger.audit.registry import AuditOptions, load_checks
from ledger.db import make_engine, resolve_url, session_scope

#: Checks whose queries are not the audit's own set-based reads: `integrity` runs PRAGMA checks and
#: verifies the journal chain (a sequential pass owned by the journal).
NOT_PLANNED = {"integrity"}


def nested_scans(plan: list[tuple[int, int, str]]) -> list[str]:
    """The full scans of ``plan`` (rows of id, parent, detail) that run inside a loop.

    Within one query block (the rows sharing a parent) the loops nest in the order listed, so only the
    first may scan; every loop under a correlated subquery runs per outer row, so none may scan there.
    Scanning a subquery or CTE materialised once (``SCAN (subquery-1)``, ``SCAN flagged``) or a constant
    row is not a scan of a ledger table.
    """
    details = {row_id: detail for row_id, _parent, detail in plan}
    built = {d.split(" ", 1)[1].strip() for d in details.values() if d.startswith(("MATERIALIZE ", "CO-ROUTINE "))}
    children: dict[int, list[tuple[int, str]]] = {}
    for row_id, parent, detail in plan:
        children.setdefault(parent, []).append((row_id, detail))
    found = []
    for parent, rows in children.items():
        correlated = details.get(parent, "").startswith("CORRELATED")
        loops = [detail for _id, detail in rows if detail.startswith(("SCAN ", "SEARCH "))]
        for position, detail in enumerate(loops):
            scanned = detail.removeprefix("SCAN ").split(" ")[0]
            if not detail.startswith("SCAN ") or detail == "SCAN CONSTANT ROW" or scanned in built:
                continue
            if position > 0 or correlated:
                found.append(detail)
    return found


def _plans_of_checks(path: Path) -> dict[str, list[tuple[str, list[tuple[int, int, str]]]]]:
    """Check name -> (statement, plan) of every SELECT it ran on the ledger at ``path``: through SQLAlchemy or
    straight on the driver's cursor (``db.driver_batches``), so statements are captured by the connection's
    trace callback (their values written in) and explained once the check is done."""
    url = resolve_url(str(path))
    engine = make_engine(url)
    seen: list[str] = []

    def trace(statement: str) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(statement)

    plans: dict[str, list[tuple[str, list[tuple[int, int, str]]]]] = {}
    try:
        with session_scope(engine, write=False, url=url) as session:
            driver = session.connection().connection.driver_connection
            driver.set_trace_callback(trace)
            for name, info in sorted(load_checks().items()):
                if name in NOT_PLANNED or name.startswith("plugin:"):
                    continue
                seen.clear()
                list(info.fn(session, AuditOptions(as_of=dt.date(2026, 1, 1))))
                driver.set_trace_callback(None)
                plans[name] = [(statement, [(int(r[0]), int(r[1]), str(r[3])) for r in
                                            driver.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()])
                               for statement in seen]  # fmt: skip
                driver.set_trace_callback(trace)
    finally:
        engine.dispose()
    return plans


@pytest.mark.sqlite_only
def test_no_audit_query_scans_a_table_inside_a_loop(seeded_copy: Path) -> None:
    plans = _plans_of_checks(seeded_copy)
    assert {"unpaired", "one-sided", "totals", "single-origin", "chronology", "aliases"} <= set(plans)
    problems = []
    for name, queries in plans.items():
        assert queries, f"the {name} check ran no query: nothing was checked"
        for statement, plan in queries:
            problems += [f"{name}: {scan}\n  in {' '.join(statement.split())[:300]}" for scan in nested_scans(plan)]
    assert not problems, "full scans inside a loop:\n" + "\n".join(problems)


@pytest.mark.sqlite_only
def test_the_plan_check_flags_a_scan_inside_a_correlated_subquery(seeded_copy: Path) -> None:
    import sqlite3

    with sqlite3.connect(seeded_copy) as connection:
        bad = connection.execute(  # claims.value has no index: the subquery scans claims per record
            "EXPLAIN QUERY PLAN SELECT slug FROM records r WHERE EXISTS (SELECT 1 FROM claims c WHERE c.value = r.slug)"
        ).fetchall()
        joined = connection.execute(  # a join no index can serve: the inner loop scans claims per record
            "EXPLAIN QUERY PLAN SELECT r.slug FROM records r JOIN claims c ON instr(c.value, r.slug) > 0"
        ).fetchall()
        good = connection.execute(
            "EXPLAIN QUERY PLAN SELECT slug FROM records r WHERE EXISTS (SELECT 1 FROM citations c WHERE "
            "c.record_id = r.id)"
        ).fetchall()
    as_rows = [[(int(r[0]), int(r[1]), str(r[3])) for r in plan] for plan in (bad, joined, good)]
    assert nested_scans(as_rows[0]), as_rows[0]
    assert nested_scans(as_rows[1]), as_rows[1]
    assert not nested_scans(as_rows[2]), as_rows[2]
