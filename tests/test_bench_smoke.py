"""The benchmark keeps working: bench/run.py at a few hundred rows, its table and JSON, and its raw loader.

No timing assertions: the figures belong in docs/performance.md, not in the test suite.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.db import make_engine, resolve_url, session_scope
from ledger.journal import entry_hash, verify_chain
from ledger.ops.verify import verify

ROOT = Path(__file__).resolve().parent.parent
ROWS = 200
EXPECTED = {
    "--help (new process)", "import jsonl", "audit (all checks)", "audit unpaired+one-sided+totals",
    "export csv", "list --limit 20 (new process)", "sql filtered aggregate on v_concessions",
}  # fmt: skip


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], str, Path]:
    workdir = tmp_path_factory.mktemp("bench")
    out = workdir / "figures.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--rows", str(ROWS), "--repeat", "1", "--full-verify",
         "--json", str(out), "--workdir", str(workdir)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text()), done.stdout, workdir


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_the_report_has_every_operation_with_figures_or_a_reason(bench: tuple[dict[str, object], str, Path]) -> None:
    report, stdout, _ = bench
    assert report["rows"] == ROWS and report["backend"] == "sqlite"
    assert {"nproc", "python", "sqlite"} <= set(report["machine"])  # type: ignore[arg-type]
    results = {r["operation"]: r for r in report["results"]}  # type: ignore[attr-defined]
    assert set(results) >= EXPECTED
    assert any(name.startswith("verify") for name in results)
    for row in results.values():
        assert row["baseline_s"] is not None and row["baseline_s"] > 0, row
        assert not row["note"].startswith(("failed", "timeout")) and "baseline failed" not in row["note"], row
        if row["ledger_s"] is None:
            assert row["note"].startswith("n/a"), row
        elif not row["note"]:
            assert row["ratio"] == pytest.approx(row["ledger_s"] / row["baseline_s"], rel=0.02)
            assert row["ledger_rss_mb"] > 0 or not Path("/usr/bin/time").exists()
    assert results["list --limit 20 (new process)"]["ratio"] is not None
    assert set(results["--help (new process)"]["extra"]["imports"]) >= {"sqlalchemy", "alembic"}
    header = stdout.splitlines()[1]
    for column in ("operation", "rows", "ledger s", "baseline s", "ratio", "ledger MB", "baseline MB"):
        assert column in header
    assert any(line.startswith("list --limit 20") for line in stdout.splitlines())


def _journal(path: Path) -> dict[tuple[str, str, str], str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT op, record_type, record_slug, payload FROM journal").fetchall()
    return {(op, rtype, slug): payload for op, rtype, slug, payload in rows}


def _counts(path: Path) -> dict[str, int]:
    tables = (
        "records", "parties", "aliases", "sources", "concessions", "status_changes", "exchanges", "exchange_sides",
        "exchange_members", "links", "citations", "reported_totals", "claims", "journal",
    )  # fmt: skip
    with sqlite3.connect(path) as connection:
        return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_the_raw_loader_writes_what_ledger_import_writes(bench: tuple[dict[str, object], str, Path]) -> None:
    _, _, workdir = bench
    imported, raw = workdir / "import.db", workdir / "read.db"
    assert _counts(raw) == _counts(imported)
    assert _counts(raw)["concessions"] == ROWS
    assert _journal(raw) == _journal(imported)


@pytest.mark.slow
@pytest.mark.sqlite_only
def test_the_raw_loader_chain_verifies_with_the_ledgers_own_hash(bench: tuple[dict[str, object], str, Path]) -> None:
    _, _, workdir = bench
    url = resolve_url(str(workdir / "read.db"))
    engine = make_engine(url)
    try:
        with session_scope(engine, write=False, url=url) as session:
            assert list(verify_chain(session)) == []
            report = verify(session)  # its record digests, computed with plain sqlite3, are the ledger's own
            assert report.ok and report.rows_checked and not report.undigested, report.problems[:3]
    finally:
        engine.dispose()
    sys.path.insert(0, str(ROOT / "bench"))
    import rawload

    args = {"seq": 7, "at": "2026-01-01T00:00:00Z", "author": "a", "op": "add_party", "record_type": "party",
            "record_slug": "by", "payload": '{"id":"by"}', "prev_hash": "0" * 64}  # fmt: skip
    assert rawload.entry_hash(*args.values()) == entry_hash(**args)  # type: ignore[arg-type]
    state = '{"r1":"00112233445566778899aabbccddeeff"}'
    assert rawload.entry_hash(*args.values(), state) == entry_hash(**args, state=state)  # type: ignore[arg-type]


def test_realistic_dates_cite_sources_published_after_the_event() -> None:
    """By default (``--realistic-dates`` is a no-op) a concession cites sources published on or after its event
    (when a later one exists); ``--independent-dates`` (``realistic=False``) draws another ledger."""
    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    realistic = list(generate.records(400))
    published = {r["id"]: generate._first_day(r.get("published")) for r in realistic if r["type"] == "source"}
    days = [day for day in published.values() if day is not None]
    checked = 0
    for record in (r for r in realistic if r["type"] == "concession"):
        event = generate._last_day(record.get("announced") or record.get("date"))
        if event is None or sum(day >= event for day in days) < 2:  # too late for two later sources: any source
            continue
        for citation in record.get("citations", []):
            day = published[citation["source"]]
            assert day is not None and day >= event, (record["id"], citation["source"])
            checked += 1
    assert checked > 100
    assert list(generate.records(50)) == list(generate.records(50, realistic=True))
    assert list(generate.records(50)) != list(generate.records(50, realistic=False))


def test_date_options_of_the_benchmark() -> None:
    """Realistic dates are the default; ``--realistic-dates`` is still accepted; ``--independent-dates`` asks
    for the independent draw of the figures before the fifth session."""
    sys.path.insert(0, str(ROOT / "bench"))
    import run

    assert not run.parse(["--quick"]).independent_dates
    assert not run.parse(["--quick", "--realistic-dates"]).independent_dates
    assert run.parse(["--quick", "--independent-dates"]).independent_dates
