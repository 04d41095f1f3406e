"""The core commands through the real Typer app, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import SEEDS, Run

Fingerprint = Callable[[], str]


def test_help_lists_every_command_and_version(run: Run) -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("init", "add", "list", "show", "link", "unlink", "import", "audit", "party", "source", "alias"):
        assert f"  {command} " in result.stdout
    assert run("--version").stdout.startswith("ledger ")


@pytest.mark.sqlite_only
def test_missing_database_is_refused_and_not_created(run: Run, db_path: Path) -> None:
    result = run("list")
    assert result.exit_code == 4
    assert "no ledger at" in result.stderr and "ledger init" in result.stderr
    assert "Traceback" not in result.stderr
    assert not db_path.exists()


@pytest.mark.sqlite_only
def test_uninitialised_file_is_refused(run: Run, db_path: Path) -> None:
    sqlite3.connect(db_path).close()
    result = run("list")
    assert result.exit_code == 4
    assert "not an initialised ledger" in result.stderr and "ledger init" in result.stderr


@pytest.mark.sqlite_only
def test_newer_schema_is_refused(run: Run, ledger_db: Path) -> None:
    with sqlite3.connect(ledger_db) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    result = run("list")
    assert result.exit_code == 4
    assert "newer than this version" in result.stderr
    assert run("init").exit_code == 4


@pytest.mark.sqlite_only
def test_not_a_database_is_refused(run: Run, db_path: Path) -> None:
    db_path.write_bytes(b"this is not a database" * 100)
    result = run("list")
    assert result.exit_code == 4
    assert "Traceback" not in result.stderr


def test_init_is_idempotent(run: Run, ledger_db: Path) -> None:
    result = run("init")
    assert result.exit_code == 0
    assert "up to date" in result.stdout


@pytest.mark.sqlite_only
def test_sqlite_connection_settings(ledger_db: Path) -> None:
    from ledger.db import make_engine, resolve_url

    engine = make_engine(resolve_url(str(ledger_db)))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    engine.dispose()


def test_add_list_show(run: Run, small: Path) -> None:
    rows = run("list", "--format", "json").json()
    assert [r["id"] for r in rows] == ["potash", "release"]
    release = rows[1]
    assert release["quantity"] == 123 and release["unit"] == "person"
    assert release["date"] == {
        "text": "early Saturday", "value": None, "precision": "unknown", "shown": 'unknown, reported "early Saturday"'
    }  # fmt: skip
    assert release["citations"][0]["quote"] == "Belarus released 123 prisoners early Saturday."
    shown = run("show", "release", "--format", "json").json()
    assert shown["giver"] == "by" and shown["status_history"][0]["status"] == "delivered"
    assert run("show", "lukashenko", "--format", "json").json()["acts_for"] == "by"


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "markdown"])
def test_every_list_format(run: Run, small: Path, fmt: str) -> None:
    for what in ("concessions", "exchanges", "parties", "sources", "aliases", "totals", "claims"):
        result = run("list", what, "--format", fmt)
        assert result.exit_code == 0, result.stderr


def test_list_filters(run: Run, small: Path) -> None:
    def ids(*args: str) -> list[str]:
        return [r["id"] for r in run("list", *args, "--format", "json").json()]

    assert ids("--giver", "us") == ["potash"]
    assert ids("--kind", "prisoner_release") == ["release"]
    assert ids("--status", "delivered") == ["potash", "release"]
    assert ids("--unpaired") == ["potash", "release"]
    assert ids("--limit", "1") == ["potash"]
    run("add", "--id", "dated", "--giver", "by", "--receiver", "us", "--kind", "aid", "--summary", "aid",
        "--status", "promised", "--date", "2025-12")  # fmt: skip
    assert ids("--since", "2025-12-31") == ["dated"]  # a month-precision date may fall on the 31st
    assert ids("--since", "2026-01") == []
    assert ids("--until", "2025-11") == []
    unknown = run("list", "--giver", "belrus")
    assert unknown.exit_code == 3 and "did you mean" in unknown.stderr


def test_unknown_party_names_the_closest(run: Run, small: Path) -> None:
    result = run(
        "add", "--giver", "luka", "--receiver", "uss", "--kind", "aid", "--summary", "s", "--status", "offered"
    )
    assert result.exit_code == 3
    assert "giver: no party with ID 'luka'" in result.stderr and "lukashenko" in result.stderr
    assert "receiver: no party with ID 'uss'" in result.stderr and "us" in result.stderr


BAD_ADDS = [
    (["--quantity", "5_000", "--unit", "person"], "--quantity"),
    (["--quantity", "-5", "--unit", "person"], "greater than or equal to 0"),
    (["--quantity", "true", "--unit", "person"], "--quantity"),
    (["--quantity", "12"], "needs a unit"),
    (["--date", "2023-02-29"], "not a real date"),
    (["--kind", "bribe"], "--kind"),
    (["--status", "done"], "--status"),
    (["--quote", "words without a source"], "need --source"),
    (["--source", "nowhere"], "no source with ID 'nowhere'"),
    (["--id", "release"], "already exists"),
    (["--id", "Bad ID"], "--id"),
]


@pytest.mark.parametrize(("extra", "message"), BAD_ADDS)
def test_bad_input_is_refused_and_changes_nothing(
    run: Run, small: Path, extra: list[str], message: str, fingerprint: Fingerprint
) -> None:
    before = fingerprint()
    args = {"--giver": "by", "--receiver": "us", "--kind": "aid", "--summary": "s", "--status": "offered"}
    for i in range(0, len(extra), 2):
        args[extra[i]] = extra[i + 1]
    result = run("add", *[x for pair in args.items() for x in pair])
    assert result.exit_code == 3, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert fingerprint() == before


def test_usage_errors_exit_2(run: Run, small: Path) -> None:
    assert run("add", "--giver", "by").exit_code == 2
    assert run("list", "nonsense").exit_code == 2


def test_link_and_unlink(run: Run, small: Path) -> None:
    result = run("link", "release", "potash", "--source", "san", "--quote", "In return")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "link-release--potash"
    exchanges = run("list", "exchanges", "--format", "json").json()
    assert exchanges[0]["sides"] == {"by": ["release (delivered)"], "us": ["potash (delivered)"]}
    assert run("list", "--unpaired", "--format", "json").json() == []
    again = run("link", "release", "potash")
    assert again.exit_code == 3 and "already linked" in again.stderr
    assert run("unlink", "release", "potash", "--reason", "source withdrew it").exit_code == 0
    assert len(run("list", "--unpaired", "--format", "json").json()) == 2
    link = run("show", "link-release--potash", "--format", "json").json()
    assert link["retracted"] is True
    # Linked again: the same link record is restored (the table holds one link per pair and basis), with
    # its citation; a new citation is added beside it.
    relinked = run("link", "release", "potash", "--reason", "a second source confirms it", "--source", "san",
                   "--quote", "In return")  # fmt: skip
    assert relinked.exit_code == 0, relinked.stderr
    assert relinked.stdout.strip() == "link-release--potash"
    assert run("list", "--unpaired", "--format", "json").json() == []
    assert exchanges[0]["sides"] in [x["sides"] for x in run("list", "exchanges", "--format", "json").json()]
    restored = run("show", "link-release--potash", "--format", "json").json()
    assert restored["retracted"] is False and restored["reason"] == "a second source confirms it"
    assert run("unlink", "release", "potash").exit_code == 0
    assert run("link", "release", "potash").exit_code == 0
    history = run("history", "link-release--potash", "--format", "json").json()
    assert [h["op"] for h in history] == ["link", "unlink", "link", "unlink", "link"]
    assert run("verify").exit_code == 0
    assert run("rebuild", "--check").exit_code == 0


@pytest.mark.parametrize("stream", ["--stream", "--no-stream"])
def test_an_unlinked_pair_linked_again_by_an_import(run: Run, small: Path, tmp_path: Path, stream: str) -> None:
    assert run("link", "release", "potash", "--source", "san", "--quote", "In return").exit_code == 0
    assert run("unlink", "release", "potash").exit_code == 0
    again = {"type": "link", "concessions": ["release", "potash"], "basis": "stated", "reason": "confirmed",
             "citations": [{"source": "san", "quote": "In return"}]}  # fmt: skip
    path = tmp_path / "relink.jsonl"
    path.write_text(json.dumps(again) + "\n")
    result = run("import", str(path), stream)
    if stream == "--stream":  # the streamed path only inserts rows: it says what to do instead
        assert result.exit_code == 3, result.stderr
        assert "relink.jsonl:1: concessions: release and potash were linked before" in result.stderr
        assert "--no-stream" in result.stderr
        return
    assert result.exit_code == 0, result.stderr
    link = run("show", "link-release--potash", "--format", "json").json()
    assert link["retracted"] is False and link["reason"] == "confirmed"
    assert run("list", "--unpaired", "--format", "json").json() == []
    assert run("verify").exit_code == 0
    assert run("rebuild", "--check").exit_code == 0


def test_link_needs_two_sides(run: Run, small: Path) -> None:
    run("add", "--id", "more", "--giver", "lukashenko", "--receiver", "us", "--kind", "prisoner_release",
        "--summary", "more", "--status", "promised")  # fmt: skip
    result = run("link", "release", "more")
    assert result.exit_code == 3 and "side of by" in result.stderr  # Lukashenko acts for Belarus


def test_import_seeds_is_idempotent_and_lists_citations(run: Run, ledger_db: Path, fingerprint: Fingerprint) -> None:
    first = run("import", str(SEEDS))
    assert first.exit_code == 0, first.stderr
    assert "0 unchanged" in first.stdout
    before = fingerprint()
    second = run("import", str(SEEDS))
    assert second.exit_code == 0 and "added 0 records and 0 links" in second.stdout
    assert fingerprint() == before
    rows = {r["id"]: r for r in run("list", "--format", "json").json()}
    release = rows["by-releases-123-prisoners"]
    assert release["quantity"] == 123 and release["status"] == "delivered"
    assert {c["source"] for c in release["citations"]} == {"san-belarus-frees-123", "gaze-belarus-example"}
    assert rows["by-promises-release-14-more"]["status"] == "promised"


def test_import_errors_name_file_line_and_field(
    run: Run, ledger_db: Path, tmp_path: Path, fingerprint: Fingerprint
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "parties:\n"
        "  - id: by\n"
        "    name: Belarus\n"
        "    kind: state\n"
        "concessions:\n"
        "  - id: c1\n"
        "    giver: by\n"
        "    receiver: nobody\n"
        "    kind: prisoner_release\n"
        "    summary: x\n"
        "    status: delivered\n"
        "    quantity: 5_000\n"
        "    unit: person\n"
    )
    before = fingerprint()
    result = run("import", str(bad))
    assert result.exit_code == 3
    assert f"{bad}:12: concessions[0].quantity" in result.stderr
    assert fingerprint() == before
    bad.write_text(bad.read_text().replace("5_000", "5000"))
    result = run("import", str(bad))
    assert result.exit_code == 3
    assert f"{bad}:6: concessions[0]" in result.stderr and "receiver: no party with ID 'nobody'" in result.stderr
    assert run("list", "parties", "--format", "json").json() == []  # the valid party was not kept either


def test_import_amends_a_changed_record(run: Run, seeded: Path, tmp_path: Path) -> None:
    changed = tmp_path / "changed.yaml"
    changed.write_text(SEEDS.read_text(encoding="utf-8").replace("value: 156", "value: 157"), encoding="utf-8")
    result = run("import", str(changed))
    assert result.exit_code == 0 and "changed 1" in result.stdout, result.stderr
    history = run("sql", "SELECT op, payload FROM journal WHERE record_slug = 'san-156-since-november' ORDER BY seq",
                  "--format", "json").json()  # fmt: skip
    assert [h["op"] for h in history] == ["add_total", "amend"]
    assert '"old":156' in history[1]["payload"].replace(" ", "") and '"new":157' in history[1]["payload"]


def test_import_refuses_an_impossible_change(run: Run, seeded: Path, tmp_path: Path, fingerprint: Fingerprint) -> None:
    changed = tmp_path / "changed.yaml"
    text = SEEDS.read_text(encoding="utf-8").replace("value: 156", "value: -1")
    changed.write_text(text, encoding="utf-8")
    before = fingerprint()
    result = run("import", str(changed))
    assert result.exit_code == 3 and "changed.yaml" in result.stderr and "value" in result.stderr
    assert fingerprint() == before


def test_dry_run_writes_nothing(run: Run, ledger_db: Path, fingerprint: Fingerprint) -> None:
    before = fingerprint()
    result = run("import", "--dry-run", str(SEEDS))
    assert result.exit_code == 0 and "would add" in result.stdout
    assert fingerprint() == before
    assert run("list", "--format", "json").json() == []


def test_basic_audit_of_seeds(run: Run, seeded: Path) -> None:
    result = run("audit", "--format", "json")
    assert result.exit_code == 0, result.stderr
    findings = result.json()
    unpaired = {f["record"] for f in findings if f["check"] == "unpaired"}
    assert "us-considers-zepbound-for-lukashenko" in unpaired
    assert "by-releases-123-prisoners" not in unpaired
    assert run("audit", "--fail-on", "info").exit_code == 1
    assert run("audit", "--check", "nope").exit_code == 3


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    from ledger.db import make_engine, resolve_url

    engine = make_engine(resolve_url(url))
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def test_every_write_is_journalled(run: Run, small: Path, db_url: str) -> None:
    ops = [row[0] for row in _rows(db_url, "SELECT op FROM journal ORDER BY seq")]
    authors = {row[0] for row in _rows(db_url, "SELECT author FROM journal")}
    assert ops == ["add_party", "add_party", "add_party", "add_source", "add_concession", "add_concession"]
    assert authors == {"tester"}


def test_journal_rejects_update_and_delete(small: Path, db_url: str) -> None:
    from sqlalchemy import exc

    for statement in ("UPDATE journal SET author = 'mallory'", "DELETE FROM journal"):
        with pytest.raises(exc.DatabaseError, match="append-only"):
            _rows(db_url, statement)
    assert len(_rows(db_url, "SELECT seq FROM journal")) == 6


def test_views_answer_plain_sql(seeded: Path, db_url: str) -> None:
    row = _rows(
        db_url,
        "SELECT giver_name, receiver_name, quantity, exchange, counterparts FROM v_concessions "
        "WHERE id = 'by-releases-123-prisoners'",
    )[0]
    assert row[:4] == ("Belarus", "United States", 123, "exchange-123-for-potash")
    assert "potash" in str(row[4])
    sides = _rows(db_url, "SELECT side, concessions FROM v_sides WHERE exchange = 'exchange-123-for-potash'")
    assert dict(sides) == {"by": 1, "us": 3}  # type: ignore[arg-type]
    assert _rows(db_url, "SELECT count(*) FROM v_exchanges")[0][0] > 0  # type: ignore[operator]
    assert _rows(db_url, "SELECT count(*) FROM v_citations")[0][0] > 0  # type: ignore[operator]
    assert _rows(db_url, "SELECT count(*) FROM v_links WHERE basis = 'stated'")[0][0] >= 3  # type: ignore[operator]
