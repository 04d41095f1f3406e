"""The CSV and JSON Lines audit of a large ledger on two processes.

The checks are independent reads, and a 2-core machine runs one Python process per core: on a ledger
of ``PARALLEL_FROM`` journal entries or more, a second process (``ops.helper``: ``python -I -c`` on this
process's import path, on the same snapshot) runs about half of the checks (by their weight at 1M
concessions) and renders their lines into a spill file of its own, while this process runs the others.
Every run of lines is sorted and tagged with its check's position, so the output is byte for byte what one
process writes (``audit_lines.Rendered.chunks``). A helper that failed or read another moment of the
ledger is not used: this process runs its checks itself. A helper costs time, never a different answer.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger import journal
from ledger.audit.registry import AuditOptions, CheckInfo, each_check, load_checks
from ledger.cli.audit_lines import LineFormat, Rendered, Run, csv_renderer, jsonl_renderer, render_checks
from ledger.ops.helper import Helper, helper_session, worth_one

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: Journal entries from which the audit takes a helper (below, its start-up, about a second, is not worth it).
PARALLEL_FROM = 50_000
#: Rough CPU seconds of each built-in check, query to rendered lines, at 1M concessions (docs/performance.md):
#: what the split balances. A check not named here (a plug-in) weighs 1 and stays in this process.
WEIGHTS = {
    "integrity": 60.0, "chronology": 14.0, "single-origin": 14.0, "overdue": 5.0, "aliases": 4.0,
    "unsourced": 3.0, "unpaired": 2.5, "one-sided": 2.0, "expired": 2.0, "wording": 2.0, "disputed-link": 1.0,
    "totals": 0.7, "conflict": 0.1, "quotes": 0.1,
}  # fmt: skip
#: Seconds this process waits for the helper once its own checks are done: past that, the helper is stopped
#: and this process runs the helper's checks itself.
HELPER_GRACE = 1800


def split(checks: list[CheckInfo]) -> tuple[list[int], list[int]]:
    """The positions of the checks this process runs and of those the helper runs: heaviest first, each to
    the lighter side; plug-ins stay here (the helper loads only what ``load_checks`` finds)."""
    mine: list[int] = [i for i, c in enumerate(checks) if c.name not in WEIGHTS]
    theirs: list[int] = []
    load = [float(len(mine)), 0.0]
    for i in sorted((i for i, c in enumerate(checks) if c.name in WEIGHTS), key=lambda i: -WEIGHTS[checks[i].name]):
        side = 0 if load[0] <= load[1] else 1
        (mine, theirs)[side].append(i)
        load[side] += WEIGHTS[checks[i].name]
    return sorted(mine), sorted(theirs)


def render(session: Session, options: AuditOptions, checks: list[CheckInfo], *, csv: bool) -> Rendered:
    """Run the checks and render their lines (CSV or JSON Lines), on two processes when the ledger is large."""
    form = csv_renderer() if csv else jsonl_renderer()
    head = journal.head(session)  # (the first read: SQLite fixes this transaction's snapshot here)
    mine, theirs = split(checks) if _worth_a_helper(head, checks) else (list(range(len(checks))), [])
    if not theirs:
        return render_checks(each_check(session, options, checks), form)
    with tempfile.TemporaryDirectory(prefix="ledger-audit-") as name:  # private (mode 0700)
        folder = Path(name)
        job = {
            "checks": [checks[i].name for i in theirs],
            "orders": theirs,
            "as_of": options.as_of.isoformat(),
            "window": options.promise_window_days,
            "csv": csv,
        }
        helper = Helper(session, folder, "ledger.cli.audit_parallel:helper", job)
        try:
            done = render_checks(each_check(session, options, [checks[i] for i in mine]), form, orders=mine)
            result = _result(folder) if helper.finish(head, HELPER_GRACE) else None
            if result is not None:
                runs = [((rank, check), Run(order, 1, start, size, _lengths(lengths)))
                        for rank, check, order, start, size, lengths in result["runs"]]  # fmt: skip
                done.adopt((folder / "spill").open("rb"), runs, result["by_severity"], result["by_check"])
            else:  # the helper failed or read another moment of the ledger: its checks, here, on this snapshot
                render_checks(each_check(session, options, [checks[i] for i in theirs]), form, orders=theirs, out=done)
        finally:
            helper.stop()
    return done  # (the helper's spill file stays readable once its folder is gone: it is open)


def _worth_a_helper(head: journal.Head, checks: list[CheckInfo]) -> bool:
    return worth_one(head, PARALLEL_FROM) and sum(c.name in WEIGHTS for c in checks) > 1


def _result(folder: Path) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = json.loads((folder / "result.json").read_text())
    except (OSError, ValueError):
        return None
    return result


def _lengths(values: list[int]) -> Any:
    from array import array

    return array("L", values)


def helper(folder: str) -> None:
    """The second process: the job's checks, their lines into ``spill``, where they lie into ``result.json``."""
    import datetime as dt

    path = Path(folder)
    with helper_session(path) as (session, job):
        form: LineFormat = csv_renderer() if job["csv"] else jsonl_renderer()
        known = load_checks()
        options = AuditOptions(as_of=dt.date.fromisoformat(job["as_of"]), promise_window_days=int(job["window"]))
        with (path / "spill").open("w+b") as spill:
            done = Rendered(form.key_of, spill=spill)
            render_checks(each_check(session, options, [known[n] for n in job["checks"]]), form, orders=job["orders"],
                          out=done)  # fmt: skip
    result = {
        "runs": [
            [group[0], group[1], run.order, run.start, run.size, run.lengths.tolist()]
            for group, runs in done.runs.items()
            for run in runs
        ],  # fmt: skip
        "by_severity": {str(severity): count for severity, count in done.by_severity.items()},
        "by_check": dict(done.by_check),
    }
    (path / "result.tmp").write_text(json.dumps(result))
    os.replace(path / "result.tmp", path / "result.json")  # all or nothing
