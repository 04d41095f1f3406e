"""The journal's canonical form (RFC 8785 JCS), its value domain, hashing, appends and checkpoints."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from ledger import journal
from ledger.db import make_engine, resolve_url, session_scope
from ledger.errors import InvalidInput
from tests.conftest import Run

SAFE = journal.MAX_SAFE_INTEGER
scalars = st.none() | st.booleans() | st.integers(-SAFE, SAFE) | st.text()
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127)), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(values)
def test_canonical_is_rfc8785_jcs_for_the_journal_domain(value: Any) -> None:
    assert journal.canonical(value).encode() == rfc8785.dumps(value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (1.5, "float"),
        (2**53, "outside the exact JSON integer range"),
        (-(2**53), "outside the exact JSON integer range"),
        ({"é": 1}, "not ASCII"),
        ({1: "a"}, "not ASCII"),
        ("\ud800", "lone surrogate"),
        ({"a": [1, {"b": float("nan")}]}, "payload.a[1].b"),
    ],
)
def test_values_outside_the_domain_are_refused(value: Any, why: str) -> None:
    with pytest.raises(InvalidInput, match=why.replace("[", r"\[").replace("]", r"\]")):
        journal.canonical(value)


def test_the_entry_hash_is_sha256_of_the_jcs_entry() -> None:
    payload = {"id": "release", "quantity": 123, "summary": "Belarus frees 123 — «prisoners»"}
    fields = {"seq": 7, "at": "2025-12-13T08:00:00.000000Z", "author": "tester", "op": "add_concession",
              "record_type": "concession", "record_slug": "release", "prev_hash": "ab" * 32}  # fmt: skip
    expected = hashlib.sha256(rfc8785.dumps({**fields, "payload": payload})).hexdigest()
    assert journal.entry_hash(**fields, payload=journal.canonical(payload)) == expected


def test_checkpoint_lines_round_trip() -> None:
    head = journal.Head(42, "f" * 64)
    line = journal.checkpoint_line(head)
    assert line == f"ledger-checkpoint v1 seq=42 sha256={'f' * 64}"
    assert journal.parse_checkpoint(f"  {line}\n") == head
    for bad in ("", "ledger-checkpoint v2 seq=1 sha256=" + "0" * 64, line.replace("sha256=", "sha256=x")):
        with pytest.raises(InvalidInput, match="not a checkpoint line"):
            journal.parse_checkpoint(bad)


def test_an_append_costs_one_insert(run: Run, small: Path) -> None:
    url = resolve_url(str(small))
    engine = make_engine(url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        with session_scope(engine, write=True, url=url) as session:
            journal.append(session, "note", {"n": 1}, record_type=None, record_slug=None)
            statements.clear()
            for n in range(2, 5):
                journal.append(session, "note", {"n": n}, record_type=None, record_slug=None)
            session.rollback()
    finally:
        engine.dispose()
    assert len(statements) == 3 and all(s.lstrip().upper().startswith("INSERT INTO JOURNAL") for s in statements)


def test_author_comes_from_the_option_the_environment_or_the_os(
    run: Run, ledger_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("--author", "alice", "party", "add", "by", "--name", "Belarus", "--kind", "state").exit_code == 0
    assert run("party", "add", "us", "--name", "United States", "--kind", "state").exit_code == 0  # LEDGER_AUTHOR
    history = run("history", "by", "--format", "json").json() + run("history", "us", "--format", "json").json()
    assert [h["author"] for h in history] == ["alice", "tester"]
    monkeypatch.delenv("LEDGER_AUTHOR")
    monkeypatch.setattr("getpass.getuser", lambda: "os-user")
    assert journal.default_author() == "os-user"


def test_stored_payloads_are_canonical(run: Run, small: Path) -> None:
    url = resolve_url(str(small))
    engine = make_engine(url)
    try:
        with session_scope(engine, write=False, url=url) as session:
            from sqlalchemy import select

            from ledger.models import JournalEntry

            payloads = session.execute(select(JournalEntry.payload)).scalars().all()
    finally:
        engine.dispose()
    assert payloads and all(p.encode() == rfc8785.dumps(json.loads(p)) for p in payloads)


@settings(max_examples=200)
@given(st.text(), st.text(), st.text(), st.none() | st.text(), st.none() | st.text(), values, st.integers(1, SAFE))
def test_entry_hash_is_sha256_of_jcs_for_any_entry(
    at: str, author: str, op: str, record_type: str | None, record_slug: str | None, payload: Any, seq: int
) -> None:
    fields = {"seq": seq, "at": at, "author": author, "op": op, "record_type": record_type,
              "record_slug": record_slug, "prev_hash": "0" * 64}  # fmt: skip
    expected = hashlib.sha256(rfc8785.dumps({**fields, "payload": payload})).hexdigest()
    assert journal.entry_hash(**fields, payload=journal.canonical(payload)) == expected


@pytest.mark.sqlite_only
def test_the_recipe_in_docs_recomputes_the_chain(run: Run, small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "journal.md").read_text(encoding="utf-8")
    recipe = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(small.parent)
    exec(compile(recipe, "docs/journal.md", "exec"), {})  # asserts every entry's link and hash
    import sqlite3

    with sqlite3.connect(small) as connection:
        connection.execute("DROP TRIGGER journal_no_update")
        connection.execute("UPDATE journal SET author = 'mallory' WHERE seq = 2")
    with pytest.raises(AssertionError):
        exec(compile(recipe, "docs/journal.md", "exec"), {})
