"""Tampering through a raw sqlite3 connection, as an attacker with the file would: `ledger verify` must
catch each edit, name the record and exit 1. The append-only triggers are dropped first, as an
attacker with write access to the file could."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ledger.journal import entry_hash
from tests.conftest import Run

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def corrected(run: Run, small: Path) -> Path:
    """The small ledger plus an amendment and a status change (8 entries)."""
    assert run("add", "--id", "promise", "--giver", "by", "--receiver", "us", "--kind", "prisoner_release",
               "--summary", "Belarus promises 14 more", "--quantity", "14", "--unit", "person",
               "--status", "promised").exit_code == 0  # fmt: skip
    assert run("amend", "promise", "--set", "quantity=15", "--source", "san", "--reason", "recount").exit_code == 0
    assert run("status", "promise", "delivered", "--date", "2025-12-20", "--source", "san").exit_code == 0
    return small


def tamper(path: Path, *statements: str) -> None:
    """Run SQL straight on the file, without the journal's append-only triggers."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("DROP TRIGGER IF EXISTS journal_no_update")
        connection.execute("DROP TRIGGER IF EXISTS journal_no_delete")
        for statement in statements:
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


def entries(path: Path) -> list[tuple[int, str | None, str]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT seq, record_slug, op FROM journal ORDER BY seq").fetchall()


def test_an_untouched_ledger_verifies(run: Run, corrected: Path) -> None:
    result = run("verify")
    assert result.exit_code == 0, result.stdout
    assert "verified: 9 entries" in result.stderr
    assert run("verify", "--checkpoint", run("checkpoint").stdout.strip()).exit_code == 0
    assert run("rebuild", "--check").exit_code == 0


def test_the_append_only_triggers_refuse_update_and_delete(corrected: Path) -> None:
    with sqlite3.connect(corrected) as connection, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        connection.execute("UPDATE journal SET author = 'mallory'")
    with sqlite3.connect(corrected) as connection, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        connection.execute("DELETE FROM journal WHERE seq = 1")


def test_a_quantity_updated_in_the_table_is_named(run: Run, corrected: Path) -> None:
    tamper(corrected, "UPDATE concessions SET quantity = 999 WHERE id = (SELECT id FROM records WHERE slug='release')")
    result = run("verify")
    assert result.exit_code == 1
    assert "concession release: its rows differ from what journal entry 5 recorded" in result.stdout
    assert "promise" not in result.stdout
    replayed = run("verify", "--replay")
    assert replayed.exit_code == 1
    assert "release: quantity is 999 in the table but 123 in the journal" in replayed.stdout
    assert run("verify", "--chain-only").exit_code == 0  # the chain itself is intact
    audit = run("audit", "--format", "json")
    assert any(f["check"] == "integrity" and f["record"] == "release" for f in audit.json()), audit


def test_a_journal_entry_deleted_from_the_middle(run: Run, corrected: Path) -> None:
    seq, slug, _op = entries(corrected)[2]  # the party lukashenko
    tamper(corrected, f"DELETE FROM journal WHERE seq = {seq}")
    result = run("verify", "--format", "json")
    assert result.exit_code == 1
    problems = result.json()
    assert problems[0]["where"] == f"entry {seq + 1}" and "entries 3 before it are missing" in problems[0]["message"]
    assert any(p["record"] == slug and "written by no journal entry" in p["message"] for p in problems)
    assert f"first broken entry: {seq + 1}" in result.stderr
    replayed = run("verify", "--replay", "--format", "json").json()
    assert any(p["record"] == slug and "no journal entry creates it" in p["message"] for p in replayed)


def test_the_last_entries_deleted(run: Run, corrected: Path) -> None:
    published = run("checkpoint").stdout.strip()
    tamper(corrected, "DELETE FROM journal WHERE seq >= 8")
    assert run("verify", "--chain-only").exit_code == 0  # a shorter chain is still a chain ...
    result = run("verify", "--checkpoint", published)
    assert result.exit_code == 1  # ... but not one that extends the published head
    assert "the journal ends at entry 7 but the checkpoint names entry 9" in result.stdout
    assert "promise" in result.stdout  # its rows are those of entry 9, not those the newest entry left recorded


def test_two_entries_swapped(run: Run, corrected: Path) -> None:
    tamper(
        corrected,
        "UPDATE journal SET seq = -1 WHERE seq = 5",
        "UPDATE journal SET seq = 5 WHERE seq = 6",
        "UPDATE journal SET seq = 6 WHERE seq = -1",
    )
    result = run("verify", "--format", "json")
    assert result.exit_code == 1
    broken = {p["where"]: p for p in result.json() if p["where"].startswith("entry")}
    assert set(broken) >= {"entry 5", "entry 6"}
    assert {broken["entry 5"]["record"], broken["entry 6"]["record"]} == {"release", "potash"}
    assert "does not link to the entry before it" in broken["entry 5"]["message"]


def test_a_payload_edited_without_rehashing_is_the_first_broken_entry(run: Run, corrected: Path) -> None:
    tamper(
        corrected, "UPDATE journal SET payload = replace(payload, '\"quantity\":123', '\"quantity\":124') WHERE seq=5"
    )
    result = run("verify")
    assert result.exit_code == 1
    assert "first broken entry: 5" in result.stderr
    assert "its content does not match its hash" in result.stdout and "release" in result.stdout


def _rewrite_from(path: Path, seq: int, edit: str, state: str | None = None, raw_state: str | None = None) -> None:
    """Edit one payload (and, given, its state; or replace the state's text with ``raw_state``) and re-hash it
    and every later entry, as an attacker who read docs/journal.md would."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("DROP TRIGGER IF EXISTS journal_no_update")
        rows = connection.execute(
            "SELECT seq, at, author, op, record_type, record_slug, payload, prev_hash, state FROM journal "
            "WHERE seq >= ? ORDER BY seq",
            (seq,),
        ).fetchall()
        prev = rows[0][7]
        for s, at, author, op, record_type, record_slug, payload, _prev, old_state in rows:
            if s == seq:
                payload = json.dumps({**json.loads(payload), **json.loads(edit)}, sort_keys=True, separators=(",", ":"))
                if state is not None:  # the forged digests replace the recorded ones they name
                    old_state = json.dumps({**json.loads(old_state), **json.loads(state)}, separators=(",", ":"))
                if raw_state is not None:
                    old_state = raw_state
            digest = entry_hash(seq=s, at=at, author=author, op=op, record_type=record_type,
                                record_slug=record_slug, payload=payload, prev_hash=prev, state=old_state)  # fmt: skip
            connection.execute(
                "UPDATE journal SET payload = ?, prev_hash = ?, hash = ?, state = ? WHERE seq = ?",
                (payload, prev, digest, old_state, s),
            )
            prev = digest
        connection.commit()
    finally:
        connection.close()


def _state_now(path: Path, slug: str) -> str:
    """The ``state`` an entry would record for the record ``slug`` as its rows are now (docs/journal.md)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from ledger.db import make_engine, resolve_url
    from ledger.models import Record
    from ledger.ops import state

    engine = make_engine(resolve_url(str(path)))
    try:
        with Session(engine) as session:
            key = session.execute(select(Record.id).where(Record.slug == slug)).scalar_one()
            return json.dumps(state.state_of(session, {("r", key)}), separators=(",", ":"))
    finally:
        engine.dispose()


def test_a_payload_rewritten_and_rehashed_is_caught_only_by_the_checkpoint(run: Run, corrected: Path) -> None:
    published = run("checkpoint").stdout.strip()
    # The attacker makes the table agree with a forged journal, payload and digests alike: nothing but the
    # checkpoint notices.
    tamper(corrected, "UPDATE concessions SET quantity = 124 WHERE id = (SELECT id FROM records WHERE slug='release')")
    assert "concession release: its rows differ" in run("verify").stdout  # the digest alone catches the table edit
    _rewrite_from(corrected, 5, '{"quantity": 124}', _state_now(corrected, "release"))
    assert run("verify", "--replay").exit_code == 0
    result = run("verify", "--checkpoint", published)
    assert result.exit_code == 1
    assert "entry 9 no longer has the checkpointed hash: the journal was rewritten" in result.stdout
    assert "promise" in result.stdout  # the record of the checkpointed entry


def test_a_rehashed_payload_that_the_table_contradicts_is_named_by_the_replay(run: Run, corrected: Path) -> None:
    _rewrite_from(corrected, 5, '{"quantity": 124}')
    assert run("verify").exit_code == 0  # the rows still match their digests: only a replay reads the payload
    result = run("verify", "--replay")
    assert result.exit_code == 1
    assert "release: quantity is 123 in the table but 124 in the journal" in result.stdout


@pytest.fixture(params=["sql", "python"])
def expansion(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Expand the recorded digests with SQLite's JSON functions, or (as on an SQLite without them) in Python."""
    from ledger.ops import verify

    if request.param == "python":
        monkeypatch.setattr(verify, "_MALFORMED", "SELECT no_such_function()")
    return str(request.param)


@pytest.mark.parametrize("forged", ["[1]", "not json", '{"r5": ', '"r5"'])
def test_a_state_that_is_not_an_object_of_digests_is_named(
    run: Run, corrected: Path, forged: str, expansion: str
) -> None:
    _rewrite_from(corrected, 5, "{}", raw_state=forged)
    result = run("verify", "--format", "csv")
    assert result.exit_code == 1
    assert "entry 5,,its state is not a JSON object of digests" in result.stdout
    assert "release" in result.stdout  # its digest is gone: the record's rows are now written by no entry


def test_both_expansions_find_the_same(run: Run, corrected: Path, expansion: str) -> None:
    tamper(
        corrected,
        "UPDATE concessions SET quantity = 999 WHERE id = (SELECT id FROM records WHERE slug = 'promise')",
        "DELETE FROM status_changes WHERE concession_id = (SELECT id FROM records WHERE slug = 'promise')",
        "CREATE TEMP TABLE gone AS SELECT id FROM records WHERE slug = 'release'",
        "DELETE FROM status_changes WHERE concession_id IN (SELECT id FROM gone)",
        "DELETE FROM beneficiaries WHERE concession_id IN (SELECT id FROM gone)",
        "DELETE FROM concessions WHERE id IN (SELECT id FROM gone)",
        "DELETE FROM records WHERE id IN (SELECT id FROM gone)",
    )
    result = run("verify", "--format", "csv")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        'records,release,"record #5: rows the journal recorded are missing (written by entry 5, on release)'
        ' (deleted outside the ledger); `ledger verify --replay` shows the columns"',
        "concessions,promise,concession promise: its rows differ from what journal entry 9 recorded (changed"
        " outside the ledger); `ledger verify --replay` shows the columns",
    ], result.stdout


def test_a_malformed_checkpoint_is_invalid_input(run: Run, corrected: Path) -> None:
    result = run("verify", "--checkpoint", "seq=3 sha256=abc")
    assert result.exit_code == 3
    assert "not a checkpoint line" in result.stderr


def test_entries_that_no_longer_replay_are_each_named(run: Run, corrected: Path) -> None:
    tamper(corrected, "DELETE FROM journal WHERE seq = 1")  # the party by: later entries name it
    result = run("verify", "--replay", "--format", "json")
    assert result.exit_code == 1
    problems = result.json()
    assert problems[0]["where"] == "entry 2" and "entries 1 before it are missing" in problems[0]["message"]
    unreplayable = {p["record"] for p in problems if "cannot be replayed" in p["message"]}
    assert {"release", "potash", "promise"} <= unreplayable
    assert "party lukashenko: acts_for_id is 'by' in the table but None in the journal" in result.stdout


def test_orphaned_foreign_keys_are_found_by_pragma_and_by_query(run: Run, corrected: Path) -> None:
    from ledger.db import _orphans, make_engine, resolve_url, session_scope, storage_problems

    with sqlite3.connect(corrected) as connection:  # foreign keys are off on a plain connection
        connection.execute("DELETE FROM parties WHERE id = (SELECT id FROM records WHERE slug = 'by')")
    url = resolve_url(str(corrected))
    engine = make_engine(url)
    try:
        with session_scope(engine, write=False, url=url) as session:
            by_pragma = sorted((t, k) for t, k, _m in storage_problems(session))
            by_query = sorted((t, k) for t, k, _m in _orphans(session))
    finally:
        engine.dispose()
    assert by_pragma == by_query and len(by_query) >= 4  # lukashenko acts for by; three concessions name by
    assert {t for t, _k in by_query} >= {"parties", "concessions"}
    audit = run("audit", "--check", "integrity", "--format", "json").json()
    assert any("points at a missing row of parties" in f["message"] and f["record"] == "release" for f in audit)


def test_the_empty_journal_checkpoint_is_extended_by_any_journal(run: Run, ledger_db: Path) -> None:
    empty = run("checkpoint").stdout.strip()
    assert empty == "ledger-checkpoint v1 seq=0 sha256=" + "0" * 64
    assert run("party", "add", "by", "--name", "Belarus", "--kind", "state").exit_code == 0
    result = run("verify", "--checkpoint", empty, "--format", "json")
    assert result.exit_code == 0 and result.json() == []
    forged = run("verify", "--checkpoint", "ledger-checkpoint v1 seq=0 sha256=" + "1" * 64)
    assert forged.exit_code == 1 and "genesis hash" in forged.stdout
