"""`ledger import`: strict, atomic, idempotent; CSV files; amendments; the streaming path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run, checksum

PARTIES = [
    {"type": "party", "id": "by", "name": "Belarus", "kind": "state"},
    {"type": "party", "id": "us", "name": "United States", "kind": "state"},
    {"type": "source", "id": "san", "title": "Belarus frees 123 prisoners"},
]


def concession(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "concession", "id": f"c-{i}", "giver": "by", "receiver": "us", "kind": "prisoner_release",
        "summary": f"Release {i}", "quantity": i + 1, "unit": "person", "status": "promised", "date": "2025-09",
        "citations": [{"source": "san", "quote": f"quote {i}", "locator": "line 1"}], **extra,
    }  # fmt: skip


def jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# --- rejections: every error with file, line, field, value and expectation; nothing written ----------


REJECTED = {
    "unknown field": ('{"type": "party", "id": "x", "name": "X", "kind": "state", "colour": "red"}',
                      ["bad.jsonl:1", "colour", "Extra inputs are not permitted", "red"]),
    "duplicate key": ('{"type": "party", "id": "x", "id": "y", "name": "X", "kind": "state"}',
                      ["bad.jsonl:1", "duplicate key 'id'"]),
    "NaN": ('{"type": "source", "id": "s", "title": "T", "length": NaN}', ["bad.jsonl:1", "NaN is not allowed"]),
    "Infinity": ('{"type": "source", "id": "s", "title": "T", "length": Infinity}', ["Infinity is not allowed"]),
    "invalid date": ('{"type": "source", "id": "s", "title": "T", "published": "2025-02-30"}',
                     ["bad.jsonl:1", "published", "not a real date"]),
    "count as text": ('{"type": "source", "id": "s", "title": "T", "length": "12"}',
                      ["bad.jsonl:1", "length", "valid integer", "'12'"]),
    "count as boolean": ('{"type": "source", "id": "s", "title": "T", "length": true}', ["length", "valid integer"]),
    "unknown type": ('{"type": "planet", "id": "s"}', ["bad.jsonl:1", "type: 'planet'"]),
    "not JSON": ('{"type": "source", ', ["bad.jsonl:1:", "not valid JSON"]),
}  # fmt: skip


@pytest.mark.sqlite_only
@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
@pytest.mark.parametrize("name", sorted(REJECTED))
def test_rejections_name_line_field_and_value(run: Run, small: Path, tmp_path: Path, name: str, stream: str) -> None:
    line, expected = REJECTED[name]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(line + "\n", encoding="utf-8")
    before = checksum(small)
    result = run("import", stream, str(bad))
    assert result.exit_code == 3, result.stdout
    for text in expected:
        assert text in result.stderr, (name, result.stderr)
    assert "Traceback" not in result.stderr
    assert checksum(small) == before


@pytest.mark.sqlite_only
def test_yaml_anchors_are_rejected(run: Run, small: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("parties:\n  - &p {id: x, name: X, kind: state}\n  - *p\n", encoding="utf-8")
    before = checksum(small)
    result = run("import", str(bad))
    assert result.exit_code == 3 and "bad.yaml:2" in result.stderr and "anchors" in result.stderr
    assert checksum(small) == before


@pytest.mark.sqlite_only
@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
def test_every_error_is_reported_up_to_max_errors(run: Run, ledger_db: Path, tmp_path: Path, stream: str) -> None:
    records = [*PARTIES, concession(1, quantity="many"), concession(2, giver="nobody"), concession(3, status="done")]
    bad = jsonl(tmp_path / "bad.jsonl", records)
    before = checksum(ledger_db)
    result = run("import", stream, str(bad))
    assert result.exit_code == 3
    for text in ("bad.jsonl:4: ", "quantity", "'many'", "bad.jsonl:6: ", "status", "'done'"):
        assert text in result.stderr, result.stderr
    if stream == "--stream":  # the streaming path checks references on every line that validated
        assert "bad.jsonl:5: giver" in result.stderr and "nobody" in result.stderr
    limited = run("import", stream, "--max-errors", "1", str(bad))
    assert limited.exit_code == 3 and "bad.jsonl:4" in limited.stderr and "bad.jsonl:6" not in limited.stderr
    assert checksum(ledger_db) == before


@pytest.mark.sqlite_only
def test_one_bad_file_writes_nothing_from_the_good_one(run: Run, ledger_db: Path, tmp_path: Path) -> None:
    good = jsonl(tmp_path / "good.jsonl", [*PARTIES, concession(1)])
    bad = jsonl(tmp_path / "bad.jsonl", [concession(2, receiver="nobody")])
    before = checksum(ledger_db)
    assert run("import", str(good), str(bad)).exit_code == 3
    assert checksum(ledger_db) == before


# --- idempotence and amendments ------------------------------------------------------------------


@pytest.mark.sqlite_only
@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
def test_importing_twice_changes_nothing(run: Run, ledger_db: Path, tmp_path: Path, stream: str) -> None:
    path = jsonl(tmp_path / "in.jsonl", [*PARTIES, *(concession(i) for i in range(5))])
    first = run("import", stream, str(path))
    assert first.exit_code == 0 and "added 8 records" in first.stdout
    before = checksum(ledger_db)
    second = run("import", stream, str(path))
    assert second.exit_code == 0 and "added 0 records" in second.stdout and "8 unchanged" in second.stdout
    assert checksum(ledger_db) == before


@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
def test_a_changed_record_is_amended_through_the_journal(
    run: Run, ledger_db: Path, tmp_path: Path, stream: str
) -> None:
    assert run("import", str(jsonl(tmp_path / "a.jsonl", [*PARTIES, concession(1)]))).exit_code == 0
    changed = jsonl(tmp_path / "b.jsonl", [*PARTIES, concession(1, status="delivered", quantity=7)])
    dry = run("import", "--dry-run", stream, str(changed))
    assert dry.exit_code == 0 and "would change 1" in dry.stdout and "change  c-1 (quantity, status)" in dry.stdout
    assert run("sql", "SELECT status FROM v_concessions", "--format", "json").json() == [{"status": "promised"}]
    result = run("import", stream, str(changed))
    assert result.exit_code == 0 and "changed 1" in result.stdout
    rows = run("sql", "SELECT quantity, status FROM v_concessions", "--format", "json").json()
    assert rows == [{"quantity": 7, "status": "delivered"}]
    ops = run("sql", "SELECT op FROM journal WHERE record_slug = 'c-1' ORDER BY seq", "--format", "json").json()
    assert [r["op"] for r in ops] == ["add_concession", "amend"]
    assert run("verify").exit_code == 0


def test_an_impossible_change_is_refused(run: Run, ledger_db: Path, tmp_path: Path) -> None:
    assert run("import", str(jsonl(tmp_path / "a.jsonl", [*PARTIES, concession(1, status="delivered")]))).exit_code == 0
    result = run("import", str(jsonl(tmp_path / "b.jsonl", [*PARTIES, concession(1, status="promised")])))
    assert result.exit_code == 3 and "b.jsonl:4" in result.stderr and "delivered to promised" in result.stderr


def test_dry_run_lists_what_it_would_add(run: Run, ledger_db: Path, tmp_path: Path) -> None:
    result = run("import", "--dry-run", str(jsonl(tmp_path / "a.jsonl", [*PARTIES, concession(1)])))
    assert result.exit_code == 0 and "would add 4 records" in result.stdout and "  add     c-1" in result.stdout
    assert run("sql", "SELECT count(*) AS n FROM records", "--format", "json").json() == [{"n": 0}]


# --- the streaming path writes what the record-by-record path writes -----------------------------


def test_streamed_import_equals_the_record_by_record_import(run: Run, tmp_path: Path) -> None:
    records = [*PARTIES, {"type": "party", "id": "lukashenko", "name": "Lukashenko", "kind": "person",
                          "acts_for": "by"},
               *(concession(i, beneficiaries=["lukashenko"] if i % 2 else []) for i in range(30)),
               concession(99, renews="c-3", kind="aid", unit="USD"),
               {"type": "citation", "record": "c-2", "source": "san", "quote": "another quote"}]  # fmt: skip
    path = jsonl(tmp_path / "in.jsonl", records)
    exports, payloads = [], []
    for mode in ("--stream", "--no-stream"):
        db = str(tmp_path / f"{mode}.db")
        assert run("init", db=db).exit_code == 0
        result = run("import", mode, str(path), db=db)
        assert result.exit_code == 0, result.stderr
        exports.append(run("export", db=db).stdout)
        query = "SELECT op, record_type, record_slug, payload FROM journal ORDER BY record_slug, seq"
        payloads.append(run("sql", query, "--format", "json", "--max-rows", "1000", db=db).json())
        assert run("verify", db=db).exit_code == 0
        check = run("rebuild", "--check", db=db)
        assert check.exit_code == 0, check.stdout + check.stderr
    assert exports[0] == exports[1]
    assert payloads[0] == payloads[1]


def test_streaming_refuses_what_it_cannot_stream(run: Run, ledger_db: Path, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "in.jsonl", [*PARTIES, {"type": "exchange", "id": "x", "title": "X"}])
    result = run("import", "--stream", str(path))
    assert result.exit_code == 3 and "in.jsonl:4" in result.stderr and "--no-stream" in result.stderr
    assert run("import", "--no-stream", str(path)).exit_code == 0


def test_streaming_needs_references_on_earlier_lines(run: Run, ledger_db: Path, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "in.jsonl", [concession(1), *PARTIES])
    result = run("import", "--stream", str(path))
    assert result.exit_code == 3 and "in.jsonl:1: giver" in result.stderr and "earlier line" in result.stderr


# --- CSV -----------------------------------------------------------------------------------------


def test_csv_type_from_file_name_or_option(run: Run, ledger_db: Path, tmp_path: Path) -> None:
    (tmp_path / "parties.csv").write_text("id,name,kind\nby,Belarus,state\nus,United States,state\n", "utf-8")
    (tmp_path / "people.csv").write_text("id,name,kind,acts_for\nluka,Lukashenko,person,by\n", "utf-8")
    assert run("import", str(tmp_path / "people.csv")).exit_code == 3
    result = run("import", str(tmp_path / "parties.csv"))
    assert result.exit_code == 0 and "added 2 records" in result.stdout
    result = run("import", "--type", "party", str(tmp_path / "people.csv"))
    assert result.exit_code == 0, result.stderr


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("id,title,length\ns,T,1e3\n", ["sources.csv:2", "length", "valid integer", "'1e3'"]),
        ("id,title,colour\ns,T,red\n", ["sources.csv:1", "unknown column 'colour'"]),
        ("id,title,title\ns,T,U\n", ["sources.csv:1", "appears twice"]),
        ("id,title\ns,T,extra\n", ["sources.csv:2", "3 cells"]),
        ("id,title,published\ns,T,2025-13\n", ["sources.csv:2", "published", "not a real date"]),
        ('id,title\ns,"T\nmulti-line"\nbad id,X\n', ["sources.csv:4", "id"]),
    ],
)
@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
def test_csv_rejections(
    run: Run, ledger_db: Path, tmp_path: Path, content: str, expected: list[str], stream: str
) -> None:
    path = tmp_path / "sources.csv"
    path.write_text(content, encoding="utf-8")
    before = checksum(ledger_db)
    result = run("import", stream, str(path))
    assert result.exit_code == 3
    for text in expected:
        assert text in result.stderr, result.stderr
    assert checksum(ledger_db) == before
