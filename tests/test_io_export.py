"""`ledger export`: the import format round-trips, interchange formats validate, files are written safely."""

from __future__ import annotations

import csv
import json
import os
import zipfile
from pathlib import Path

import pytest

from ledger.io.writers import csv_text, csv_unescape
from tests.conftest import Run, checksum


def _export(run: Run, *args: str) -> str:
    result = run("export", *args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_export_imports_into_an_empty_ledger_as_the_same_ledger(
    run: Run, seeded_copy: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"export.{fmt}"
    _export(run, "--format", fmt, "-o", str(out))
    other = str(tmp_path / "other.db")
    assert run("init", db=other).exit_code == 0
    assert run("import", str(out), db=other).exit_code == 0
    assert _export(run, "--format", "jsonl") == run("export", "--format", "jsonl", db=other).stdout
    again = run("import", str(out), db=other)
    assert again.exit_code == 0 and "added 0 records" in again.stdout and "changed 0" in again.stdout


@pytest.mark.parametrize("target", ["folder", "export.zip"])
def test_csv_export_round_trips(run: Run, seeded_copy: Path, tmp_path: Path, target: str) -> None:
    out = tmp_path / target
    _export(run, "--format", "csv", "-o", str(out))
    files = sorted(out.glob("*.csv")) if out.is_dir() else [out]
    other = str(tmp_path / "other.db")
    assert run("init", db=other).exit_code == 0
    result = run("import", *map(str, reversed(files)), db=other)  # any order: the import sorts CSV files
    assert result.exit_code == 0, result.stderr
    assert _export(run) == run("export", db=other).stdout


def test_export_is_deterministic_and_sorted(run: Run, seeded_copy: Path) -> None:
    first = _export(run)
    assert first == _export(run)
    lines = [json.loads(line) for line in first.splitlines()]
    concessions = [r["id"] for r in lines if r["type"] == "concession" and "renews" not in r]
    assert concessions == sorted(concessions)


def test_seeds_export_holds_every_record_once(run: Run, seeded_copy: Path) -> None:
    lines = [json.loads(line) for line in _export(run).splitlines()]
    ids = [r["id"] for r in lines]
    assert len(ids) == len(set(ids))
    kinds = {r["type"] for r in lines}
    assert kinds == {"source", "party", "alias", "concession", "exchange", "link", "total", "claim", "citation"}
    listed = run("sql", "SELECT count(*) AS n FROM records WHERE NOT retracted", "--format", "json").json()[0]["n"]
    assert len(ids) == listed


def test_csv_cells_are_escaped_against_formulas(run: Run, ledger_db: Path, tmp_path: Path) -> None:
    assert run("party", "add", "evil", "--name", '=HYPERLINK("http://x")', "--kind", "person").exit_code == 0
    assert run("party", "add", "quote", "--name", "'already quoted", "--kind", "person").exit_code == 0
    out = tmp_path / "csv"
    _export(run, "--format", "csv", "-o", str(out))
    with (out / "parties.csv").open(encoding="utf-8") as handle:
        names = {row["id"]: row["name"] for row in csv.DictReader(handle)}
    assert names["evil"] == '\'=HYPERLINK("http://x")'
    assert names["quote"] == "''already quoted"
    other = str(tmp_path / "other.db")
    run("init", db=other)
    assert run("import", str(out / "parties.csv"), db=other).exit_code == 0
    assert run("export", db=other).stdout == _export(run)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "'x", "plain", "", "''"])
def test_csv_escaping_is_reversible(text: str) -> None:
    escaped = csv_text(text)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert csv_unescape(escaped) == text


def test_failed_export_leaves_the_old_file(run: Run, seeded_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    out.write_text("previous export\n", encoding="utf-8")
    result = run("export", "--format", "nonsense", "-o", str(out))
    assert result.exit_code == 3
    assert out.read_text(encoding="utf-8") == "previous export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export")] == []


def test_export_file_gets_ordinary_permissions(run: Run, seeded_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.jsonl"
    old_umask = os.umask(0o022)
    try:
        _export(run, "-o", str(out))
    finally:
        os.umask(old_umask)
    assert out.stat().st_mode & 0o777 == 0o644  # as a plain open() would make it (mkstemp alone gives 0600)
    out.chmod(0o600)
    _export(run, "-o", str(out))
    assert out.stat().st_mode & 0o777 == 0o600  # an existing file keeps its mode


def test_export_writes_atomically_and_replaces(run: Run, seeded_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.json"
    out.write_text("old", encoding="utf-8")
    _export(run, "--format", "json", "-o", str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["ledger"] == 1 and data["concessions"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "ledger.db" and not p.name.startswith("ledger.db-")) \
        == ["export.json"]  # fmt: skip


@pytest.mark.sqlite_only
def test_export_changes_nothing(run: Run, seeded_copy: Path) -> None:
    before = checksum(seeded_copy)
    _export(run, "--format", "markdown")
    assert checksum(seeded_copy) == before


def test_filter_by_exchange_exports_an_importable_part(run: Run, seeded_copy: Path, tmp_path: Path) -> None:
    exchange = run("sql", "SELECT exchange FROM v_links ORDER BY exchange LIMIT 1", "--format", "json").json()[0]
    out = tmp_path / "part.jsonl"
    _export(run, "--exchange", exchange["exchange"], "-o", str(out))
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["id"] for r in lines if r["type"] == "exchange"} == {exchange["exchange"]}
    assert any(r["type"] == "link" for r in lines)
    other = str(tmp_path / "other.db")
    run("init", db=other)
    result = run("import", str(out), db=other)
    assert result.exit_code == 0, result.stderr


def test_filter_by_party_and_since(run: Run, small: Path) -> None:
    by = [json.loads(line) for line in _export(run, "--party", "us").splitlines()]
    assert {r["id"] for r in by if r["type"] == "concession"} == {"release", "potash"}
    assert run("add", "--id", "late", "--giver", "by", "--receiver", "us", "--kind", "aid", "--summary", "Aid",
               "--status", "delivered", "--date", "2026-02").exit_code == 0  # fmt: skip
    since = [json.loads(line) for line in _export(run, "--since", "2026-01").splitlines()]
    assert {r["id"] for r in since if r["type"] == "concession"} == {"late"}
    assert {r["id"] for r in since if r["type"] == "party"} == {"by", "us"}


def test_unknown_exchange_filter_is_refused(run: Run, seeded_copy: Path) -> None:
    result = run("export", "--exchange", "no-such-exchange")
    assert result.exit_code == 3
    assert "no-such-exchange" in result.stderr


def test_markdown_export_has_a_table_per_type(run: Run, seeded_copy: Path) -> None:
    text = _export(run, "--format", "markdown")
    for heading in ("## Sources", "## Parties", "## Concessions", "## Citations"):
        assert heading in text


def test_csv_needs_an_output(run: Run, seeded_copy: Path) -> None:
    result = run("export", "--format", "csv")
    assert result.exit_code == 3 and "-o" in result.stderr


def test_zip_has_one_file_per_type(run: Run, seeded_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "all.zip"
    _export(run, "--format", "csv", "-o", str(out))
    with zipfile.ZipFile(out) as archive:
        assert "concessions.csv" in archive.namelist()
        header = archive.read("concessions.csv").decode().splitlines()[0]
        assert header.startswith("id,giver,receiver,kind")


def _both_csv_exports(db_url: str, tmp_path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """The whole ledger as CSV by the reference path (records -> csv_row) and by the tables the database computes."""
    from ledger.db import make_engine, resolve_url, session_scope
    from ledger.io.writers import write_csv, write_csv_tables
    from ledger.ops.export import csv_tables, export_records

    url = resolve_url(db_url)
    with session_scope(make_engine(url), write=False, url=url) as session:
        reference = write_csv(export_records(session), tmp_path / "reference")
        fast = write_csv_tables(csv_tables(session), tmp_path / "fast")
    assert fast == reference

    def files(folder: str) -> dict[str, str]:
        return {p.name: p.read_text(encoding="utf-8") for p in sorted((tmp_path / folder).glob("*.csv"))}

    return files("reference"), files("fast")


def test_csv_tables_write_what_the_records_write(run: Run, seeded_copy: Path, db_url: str, tmp_path: Path) -> None:
    """The fast CSV path (one SELECT per type, cells computed by the database) against the reference path:
    dates of every precision, beneficiaries, renewals, retracted records, formula-looking cells."""
    for args in (
        ("party", "add", "evil", "--name", '=HYPERLINK("http://x")', "--kind", "person"),
        ("party", "add", "quote", "--name", "'already quoted", "--kind", "person", "--note", "-minus"),
        ("add", "--id", "again", "--giver", "evil", "--receiver", "quote", "--kind", "aid", "--summary", "+plus",
         "--status", "promised", "--date", "2024-02", "--due", "2025", "--date-text", "@next year",
         "--expires", "2026-01-31", "--renews", "us-lifts-potash-sanctions", "--beneficiary", "quote",
         "--beneficiary", "evil", "--quantity", "7", "--unit", "person"),
        ("retract", "by-first-step-requested", "--reason", "test"),
    ):  # fmt: skip
        result = run(*args)
        assert result.exit_code == 0, result.stderr
    reference, fast = _both_csv_exports(db_url, tmp_path)
    assert set(reference) >= {"concessions.csv", "parties.csv", "citations.csv", "links.csv", "sources.csv"}
    assert fast == reference
    assert "'=HYPERLINK" in fast["parties.csv"] and "'-minus" in fast["parties.csv"]
    assert "again,evil,quote,aid,,'+plus,7,person,promised,2024-02" in fast["concessions.csv"]
    assert "by-first-step-requested," not in fast["concessions.csv"]


def test_csv_tables_match_on_the_benchmark_ledger(run: Run, ledger_db: Path, db_url: str, tmp_path: Path) -> None:
    """Synthetic data with every kind, status, date precision, relays, aliases, totals and claims."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    import generate

    data = tmp_path / "bench.jsonl"
    generate.write_jsonl(data, 300)
    assert run("import", str(data)).exit_code == 0
    reference, fast = _both_csv_exports(db_url, tmp_path)
    assert len(reference) == 9
    assert fast == reference
