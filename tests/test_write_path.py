"""The record-by-record write path (``ops.base.write``): what its shortcuts must leave exactly as it was.

A write digests the records it touched with the types its flushes showed (``state.state_of`` with
``types``), takes the entry's record key from those flushes, and flushes a record's citations with the
rest of its change. Each must give the same journal and rows as the general path.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event, select

from ledger.db import make_engine, resolve_url, session_scope
from ledger.domain import RecordType
from ledger.models import AliasJudgement, JournalEntry, Record
from ledger.ops import state
from tests.conftest import Run


def _ok(run: Run, *args: str) -> None:
    result = run(*args)
    assert result.exit_code == 0, (args, result.stderr)


def _writes(run: Run) -> None:
    _ok(run, "party", "add", "xp", "--name", "X Person", "--kind", "person", "--acts-for", "by")
    _ok(run, "alias", "add", "xp", "Ex Person", "--source", "san", "--quote", "Ex Person said")
    _ok(
        run, "add", "--id", "xc", "--giver", "by", "--receiver", "us", "--kind", "prisoner_release",
        "--summary", "x frees", "--status", "promised", "--source", "san", "--quote", "x frees three",
        "--beneficiary", "xp", "--beneficiary", "lukashenko",
    )  # fmt: skip
    _ok(run, "cite", "xc", "--source", "san", "--quote", "a second quote", "--locator", "p. 2")
    _ok(run, "link", "xc", "potash", "--source", "san", "--quote", "in return")
    _ok(run, "status", "xc", "delivered", "--source", "san", "--quote", "x frees three")
    _ok(run, "alias", "confirm", "Ex Person", "xp", "--reason", "same")


def test_state_of_with_known_types_equals_the_digests(run: Run, db_url: str, small: Any) -> None:
    """Records digested by their given types (record_digests), records whose type is looked up, judgements
    and owners with no rows: every path gives what ``state.digests`` reads for the same owners."""
    _writes(run)
    engine = make_engine(resolve_url(db_url))
    try:
        with session_scope(engine, write=False) as session:
            types = dict(session.execute(select(Record.id, Record.type)).all())
            judgements = list(session.execute(select(AliasJudgement.id)).scalars())
            assert judgements and RecordType.CONCESSION in types.values() and RecordType.LINK in types.values()
            gone = max(types) + 1000
            owners = {("r", key) for key in types} | {("j", key) for key in judgements} | {("r", gone)}
            read = {state.key_of(o): d for o, d in state.digests(session, owners)}
            expected = {state.key_of(o): read.get(state.key_of(o)) for o in owners}
            assert expected[f"r{gone}"] is None and len([d for d in expected.values() if d]) == len(owners) - 1
            assert state.state_of(session, owners) == expected
            assert state.state_of(session, owners, {**types, gone: RecordType.CONCESSION}) == expected
            half = dict(list(types.items())[::2])
            assert state.state_of(session, owners, half) == expected
    finally:
        engine.dispose()


def test_known_types_skip_the_type_lookup(run: Run, db_url: str, small: Any) -> None:
    """With the record's type given, its digest reads one statement per table of that type, nothing more."""
    engine = make_engine(resolve_url(db_url))
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        with session_scope(engine, write=False) as session:
            key = session.execute(select(Record.id).where(Record.slug == "release")).scalar_one()
            session.connection()
            statements.clear()
            known = state.state_of(session, {("r", key)}, {key: RecordType.CONCESSION})
            read_with_type = len(statements)
            statements.clear()
            assert state.state_of(session, {("r", key)}) == known
            assert read_with_type == 4  # records, concessions, beneficiaries, status_changes
            assert len(statements) == read_with_type + 1  # and the type lookup
    finally:
        engine.dispose()


def test_a_write_names_its_records_and_keeps_their_order(run: Run, db_url: str, small: Any) -> None:
    """Each entry's state names the record it wrote and the citations flushed with it; records get keys in
    the order the change adds them (the concession, then its citations in payload order)."""
    _writes(run)
    engine = make_engine(resolve_url(db_url))
    try:
        with session_scope(engine, write=False) as session:
            ids = dict(session.execute(select(Record.slug, Record.id)).all())
            entries = session.execute(
                select(JournalEntry.op, JournalEntry.record_slug, JournalEntry.payload, JournalEntry.state)
                .where(JournalEntry.record_slug.in_(["xc", "xp"]))
                .order_by(JournalEntry.seq)
            ).all()
            for op, slug, payload_text, state_text in entries:
                named = json.loads(state_text)
                assert f"r{ids[slug]}" in named, (op, slug)
                payload = json.loads(payload_text)
                cited = [ids[c["id"]] for c in payload.get("citations", [])]
                assert cited == sorted(cited) and all(key > ids[slug] for key in cited if op.startswith("add_")), op
                assert {f"r{key}" for key in cited} <= named.keys(), op
            assert [op for op, *_ in entries][:2] == ["add_party", "add_concession"]
    finally:
        engine.dispose()
    assert run("verify").exit_code == 0
