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


def every_type() -> list[dict[str, Any]]:
    """A file in section order (as `ledger export` writes one) with every record type and shape."""
    cite = [{"source": "san", "quote": "agreed", "locator": "para 2"}]
    return [
        *PARTIES[2:],
        {"type": "source", "id": "relay", "title": "Relayed report", "relays": "san", "published": "2025-09-13"},
        *PARTIES[:2],
        {"type": "party", "id": "lukashenko", "name": "Lukashenko", "kind": "person", "acts_for": "by",
         "aliases": [{"name": "Lukashenka", "source": "san", "script": "Latin", "citations": cite},
                     {"id": "alias-luka", "name": "Luka"}], "citations": cite},
        {"type": "party", "id": "envoy", "name": "Envoy", "kind": "person", "acts_for": "us"},
        {"type": "alias", "party": "us", "name": "USA", "source": "relay", "citations": cite},
        *(concession(i, beneficiaries=["lukashenko"] if i % 2 else []) for i in range(8)),
        concession(50, giver="envoy", receiver="by", kind="sanctions_relief", instrument="general_licence",
                   announced={"text": "early Saturday", "value": "2025-09-13"}, expires="2026", unit=None,
                   quantity=None),
        concession(51, giver="us", receiver="by", kind="aid", unit="USD"),
        concession(52, giver="us", receiver="by", kind="other", kind_detail="visa", unit=None, quantity=None),
        concession(99, renews="c-3", kind="aid", unit="USD"),
        {"type": "concession", "giver": "by", "receiver": "us", "kind": "other", "summary": "Without an ID",
         "status": "considered"},
        {"type": "exchange", "id": "x-1", "title": "September deal", "citations": cite,
         "links": [{"concessions": ["c-0", "c-1", "c-50"], "basis": "stated", "citations": cite}]},
        {"type": "exchange", "id": "x-2", "title": "Aid for a release", "summary": "Inferred."},
        {"type": "link", "exchange": "x-2", "concessions": ["c-2", "c-51"], "basis": "inferred",
         "reason": "announced together"},
        {"type": "link", "id": "deny", "concessions": ["c-4", "c-52"], "basis": "denied", "citations": cite},
        {"type": "link", "concessions": ["c-0", "c-50"], "basis": "stated"},  # already linked: changes nothing
        {"type": "link", "concessions": ["c-3", "c-50"], "basis": "stated"},  # joins x-1, which c-50 is in
        {"type": "total", "id": "t-1", "source": "san", "giver": "by", "receiver": "us", "kind": "prisoner_release",
         "unit": "person", "value": 123, "period_start": "2024-11", "statement": "123 in all", "citations": cite},
        {"type": "total", "id": "t-2", "source": "relay", "giver": "us", "unit": "USD", "value": 5},
        {"type": "claim", "record": "c-1", "attribute": "quantity", "value": "52", "source": "relay"},
        {"type": "claim", "id": "claim-x", "record": "lukashenko", "attribute": "name", "value": "Lukashenka",
         "source": "san", "quote": "Lukashenka", "rank": "preferred", "rank_reason": "official spelling"},
        {"type": "citation", "record": "c-2", "source": "san", "quote": "another quote"},
        {"type": "citation", "record": "x-2", "source": "relay", "locator": "p. 3"},
    ]  # fmt: skip


def _imported(run: Run, db: str, mode: str, path: Path) -> tuple[str, list[Any], str]:
    assert run("init", db=db).exit_code == 0
    result = run("import", mode, str(path), db=db)
    assert result.exit_code == 0, result.stderr
    query = "SELECT op, record_type, record_slug, payload FROM journal ORDER BY seq"
    journal = run("sql", query, "--format", "json", "--max-rows", "1000", db=db).json()
    assert run("verify", db=db).exit_code == 0
    check = run("rebuild", "--check", db=db)
    assert check.exit_code == 0, check.stdout + check.stderr
    return run("export", "--format", "jsonl", db=db).stdout, journal, result.stdout.split(": ", 1)[1]


@pytest.mark.parametrize("batch", [1_000, 3])
def test_streamed_import_equals_the_record_by_record_import(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    import ledger.ops.bulk

    monkeypatch.setattr(ledger.ops.bulk, "BATCH", batch)  # small batches: references across batch boundaries
    records = every_type()
    path = jsonl(tmp_path / "in.jsonl", records)
    streamed = _imported(run, str(tmp_path / "streamed.db"), "--stream", path)
    whole = _imported(run, str(tmp_path / "whole.db"), "--no-stream", path)
    assert streamed[0] == whole[0]
    assert streamed[1] == whole[1]
    assert streamed[2] == whole[2]
    exported = [json.loads(line)["type"] for line in streamed[0].splitlines()]
    assert set(exported) == {r["type"] for r in records}  # every type made it through
    ops = [entry["op"] for entry in streamed[1]]
    assert ops.count("link") == 4 and "add_alias" in ops and "add_claim" in ops and "add_total" in ops
    # The export is a file in section order: streamed into an empty ledger, it exports the same again.
    again = _imported(
        run,
        str(tmp_path / "again.db"),
        "--stream",
        jsonl(tmp_path / "export.jsonl", [json.loads(x) for x in streamed[0].splitlines()]),
    )
    assert again[0] == streamed[0]


@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
def test_importing_every_type_twice_changes_nothing(run: Run, ledger_db: Path, tmp_path: Path, stream: str) -> None:
    path = jsonl(tmp_path / "in.jsonl", every_type())
    assert run("import", stream, str(path)).exit_code == 0
    count = "SELECT count(*) AS n FROM journal"
    before = run("sql", count, "--format", "json").json()
    second = run("import", stream, str(path))
    assert second.exit_code == 0 and "added 0 records and 0 links; changed 0" in second.stdout, second.stdout
    assert run("sql", count, "--format", "json").json() == before


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


# --- an ID given twice in one file ---------------------------------------------------------------


DUPLICATES = {
    "same batch": ([*PARTIES, concession(1), concession(2), concession(1, status="delivered")], 6, 4),
    "later batch": ([*PARTIES, concession(1), *(concession(i) for i in range(2, 9)), concession(1)], 12, 4),
    "across types": ([*PARTIES, {"type": "source", "id": "by", "title": "T"}], 4, 1),
    "after an error": ([*PARTIES, concession(1, giver="nobody"), concession(2), concession(2)], 6, 5),
}  # fmt: skip


@pytest.mark.sqlite_only
@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
@pytest.mark.parametrize("case", sorted(DUPLICATES))
def test_an_id_given_twice_in_one_file_is_an_error(
    run: Run, ledger_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, stream: str
) -> None:
    import ledger.ops.bulk

    monkeypatch.setattr(ledger.ops.bulk, "BATCH", 3)
    records, second, first = DUPLICATES[case]
    before = checksum(ledger_db)
    result = run("import", stream, str(jsonl(tmp_path / "dup.jsonl", records)))
    assert result.exit_code == 3, result.stdout
    slug = records[second - 1]["id"]
    message = next(line for line in result.stderr.splitlines() if "used twice" in line)
    assert f"ID {slug!r} is used twice" in message, result.stderr
    assert f"dup.jsonl:{second}" in message and f"dup.jsonl:{first}" in message, message
    assert checksum(ledger_db) == before


@pytest.mark.sqlite_only
@pytest.mark.parametrize("stream", ["--no-stream", "--stream"])
def test_an_existing_record_given_twice_is_an_error_too(run: Run, ledger_db: Path, tmp_path: Path, stream: str) -> None:
    assert run("import", str(jsonl(tmp_path / "a.jsonl", [*PARTIES, concession(1)]))).exit_code == 0
    before = checksum(ledger_db)
    twice = jsonl(tmp_path / "b.jsonl", [*PARTIES, concession(1), concession(1, status="delivered")])
    result = run("import", stream, str(twice))
    assert result.exit_code == 3 and "b.jsonl:5: " in result.stderr and "b.jsonl:4" in result.stderr
    assert "ID 'c-1' is used twice" in result.stderr
    assert checksum(ledger_db) == before
