"""Ranked claims, counts against rosters, snapshots in the journal, and the quote normalisation."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.audit.registry import load_checks
from ledger.audit.textmatch import find_quote, normalise
from tests.conftest import Run, checksum
from tests.test_audit_evidence import COUNTS, ISSUE_TEXT, findings, ok

SAN_CLAIM, GAZE_CLAIM = "claim-lukashenko-name-san", "claim-lukashenko-name-gaze"


def _two_names(run: Run) -> None:
    ok(run, "source", "add", "gaze", "--title", "The Gaze")
    ok(run, "claim", "add", "lukashenko", "name", "Alexander Lukashenko", "--source", "san")
    ok(run, "claim", "add", "lukashenko", "name", "Aliaksandr Lukashenka", "--source", "gaze")


def _claims(run: Run) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in run("list", "claims", "--format", "json").json()}


def test_a_deprecated_claim_settles_a_conflict(run: Run, small: Path) -> None:
    _two_names(run)
    shown = run("show", "lukashenko", "--format", "json").json()
    assert shown["values_in_use"]["name"].endswith("(unsettled: rank one preferred)")
    if "conflict" in load_checks():  # issue 4's check: loud while unsettled
        assert [f["record"] for f in findings(run, "conflict")] == ["lukashenko"]
    assert {c["id"] for c in shown["claims"] if c["in_use"]} == {SAN_CLAIM, GAZE_CLAIM}
    result = run("claim", "rank", GAZE_CLAIM, "deprecated", "--reason", "a transliteration; the ledger uses the name")
    assert result.exit_code == 0, result.stderr
    claims = _claims(run)
    assert (claims[GAZE_CLAIM]["rank"], claims[GAZE_CLAIM]["in_use"]) == ("deprecated", False)
    assert claims[GAZE_CLAIM]["rank_author"] == "tester" and claims[GAZE_CLAIM]["rank_reason"].startswith("a tr")
    assert claims[SAN_CLAIM]["in_use"] is True
    shown = run("show", "lukashenko", "--format", "json").json()
    assert shown["values_in_use"] == {"name": "Alexander Lukashenko"}
    table = run("show", "lukashenko").stdout
    assert "values_in_use" in table and "name: Alexander Lukashenko" in table
    if "conflict" in load_checks():  # issue 4's check: quiet once a ranking with a reason settles it
        assert [f for f in findings(run, "conflict") if f["record"] == "lukashenko"] == []


def test_a_preferred_claim_is_the_value_in_use(run: Run, small: Path) -> None:
    _two_names(run)
    ok(run, "claim", "rank", GAZE_CLAIM, "preferred", "--reason", "the Belarusian transliteration")
    claims = _claims(run)
    assert (claims[GAZE_CLAIM]["in_use"], claims[SAN_CLAIM]["in_use"]) == (True, False)
    assert run("show", "lukashenko", "--format", "json").json()["values_in_use"] == {"name": "Aliaksandr Lukashenka"}
    ok(run, "claim", "rank", GAZE_CLAIM, "normal")
    assert _claims(run)[GAZE_CLAIM]["rank_reason"] is None
    assert {c for c, row in _claims(run).items() if row["in_use"]} == {SAN_CLAIM, GAZE_CLAIM}


@pytest.mark.sqlite_only
def test_rank_is_journalled_and_bad_ranks_change_nothing(run: Run, small: Path) -> None:
    _two_names(run)
    before = checksum(small)
    for args, message in [
        ((GAZE_CLAIM, "deprecated"), "needs a reason"),
        ((GAZE_CLAIM, "preferred", "--reason", " "), "--reason"),
        (("claim-lukashenko-name-gazette", "preferred", "--reason", "r"), "did you mean: claim-lukashenko-name-gaze"),
        (("lukashenko", "preferred", "--reason", "r"), "is a party, not a claim"),
        ((GAZE_CLAIM, "normal"), "already normal"),
    ]:
        result = run("claim", "rank", *args)
        assert result.exit_code == 3 and message in result.stderr, (args, result.stderr)
        assert checksum(small) == before
    assert run("claim", "rank", GAZE_CLAIM, "best").exit_code == 2
    ok(run, "--author", "editor", "claim", "rank", GAZE_CLAIM, "deprecated", "--reason", "transliteration")
    with sqlite3.connect(small) as connection:
        op, slug, payload = connection.execute(
            "SELECT op, record_slug, payload FROM journal ORDER BY seq DESC"
        ).fetchone()
        view = connection.execute("SELECT id, rank, rank_author, in_use FROM v_claims ORDER BY id").fetchall()
    assert (op, slug) == ("rank_claim", GAZE_CLAIM)
    assert json.loads(payload) == {"claim": GAZE_CLAIM, "rank": "deprecated", "reason": "transliteration",
                                   "author": "editor"}  # fmt: skip
    assert view == [(GAZE_CLAIM, "deprecated", "editor", 0), (SAN_CLAIM, "normal", None, 1)]
    assert run("show", GAZE_CLAIM, "--format", "json").json()["journal_entries"] == 2
    entries = run("history", GAZE_CLAIM, "--format", "json").json()
    assert [(e["op"], e["changes"], e["reason"]) for e in entries][-1] == (
        "rank_claim", "rank: deprecated (ranked by editor)", "transliteration"
    )  # fmt: skip


def test_a_rank_recorded_without_a_reason_is_kept(run: Run, small: Path) -> None:
    """Files and `claim add` may carry a bare rank (the conflict check says it settles nothing);
    `claim rank` always asks for the reason."""
    ok(run, "claim", "add", "lukashenko", "name", "A. L.", "--source", "san", "--rank", "preferred")
    claim = _claims(run)["claim-lukashenko-name-san"]
    assert (claim["rank"], claim["rank_reason"], claim["in_use"]) == ("preferred", None, True)


@pytest.mark.sqlite_only
def test_snapshot_retrieval_time_is_in_the_journal(run: Run, small: Path) -> None:
    ok(run, "source", "snapshot", "san", str(ISSUE_TEXT), "--retrieved-at", "2026-11-29T22:00:00+02:00")
    with sqlite3.connect(small) as connection:
        op, payload = connection.execute("SELECT op, payload FROM journal ORDER BY seq DESC").fetchone()
    data = json.loads(payload)
    assert op == "snapshot_source"
    assert data["retrieved_at"] == "2026-11-29T20:00:00Z" and data["text"] == ISSUE_TEXT.read_text(encoding="utf-8")
    assert (data["sha256"], data["length"]) == (
        "136cb6f9eff90790dfd6fa360e95096e7811ac91910b6daa6f1247d9bee11ccc",
        1798,
    )
    source = run("show", "san", "--format", "json").json()
    assert source["retrieved_at"] == "2026-11-29T20:00:00Z" and source["snapshot_length"] == 1798
    assert source["snapshot_text"].startswith("1798 characters kept")
    last = run("history", "san", "--format", "json").json()[-1]
    assert last["changes"] == (
        "snapshot: text, sha256 136cb6f9eff90790dfd6fa360e95096e7811ac91910b6daa6f1247d9bee11ccc, 1798 bytes, "
        "retrieved 2026-11-29T20:00:00Z"
    )
    bad = run("source", "snapshot", "san", str(ISSUE_TEXT), "--retrieved-at", "yesterday")
    assert bad.exit_code == 3 and "--retrieved-at" in bad.stderr


def test_counts_from_two_sources_and_the_roster(run: Run, ledger_db: Path) -> None:
    ok(run, "import", str(COUNTS))
    shown = run("show", "by-pardons-123-2025", "--format", "json").json()
    assert shown["roster"] == "0 named of 123" and shown["release_form"] == "pardon"
    assert sorted(c["value"] for c in shown["claims"]) == ["114", "123"]
    assert "unsettled" in shown["values_in_use"]["quantity"]
    if "conflict" in load_checks():  # issue 4's check compares the two counts
        assert any(f["record"] == "by-pardons-123-2025" for f in findings(run, "conflict"))


def test_show_prints_named_of_stated(run: Run, small: Path) -> None:
    for person in ("p1", "p2", "p3"):
        ok(run, "party", "add", person, "--name", person.upper(), "--kind", "person")
    ok(run, "add", "--id", "pardon", "--giver", "by", "--receiver", "us", "--kind", "prisoner_release",
       "--summary", "pardons", "--quantity", "123", "--unit", "person", "--status", "delivered",
       "--release-form", "transfer", "--destination", "Ukraine",
       "--beneficiary", "p1", "--beneficiary", "p2", "--beneficiary", "p3")  # fmt: skip
    assert "3 named of 123" in run("show", "pardon").stdout
    row = next(r for r in run("list", "--format", "json").json() if r["id"] == "pardon")
    assert (row["named"], row["roster"], row["release_form"], row["destination"]) == (
        3, "3 named of 123", "transfer", "Ukraine"
    )  # fmt: skip


# --- the normalisation, as a pure function -------------------------------------------------------


def test_normalise_folds_exactly_what_the_docs_say() -> None:
    assert normalise("Trump\u2019s \u201cdeal\u201d\u00a0\u00bbnow\u00ab") == 'Trump\'s "deal" "now"'
    assert normalise("  a\n\t b\u2003c ") == "a b c"
    assert (
        normalise("e\u0301t\u00e9 \ufb01le soft\u00adhyphen zero\u200bwidth")
        == "\u00e9t\u00e9 file softhyphen zerowidth"
    )
    assert normalise("en\u2013dash") == "en\u2013dash"  # dashes are not folded
    assert normalise("Case") != normalise("case")


def test_find_quote_counts_occurrences_and_context() -> None:
    text = "In return, A. Later: In return, B."
    assert find_quote(text, "In return,").occurrences == 2
    assert find_quote(text, "In return,", suffix="B.").in_context == 1
    assert find_quote(text, "In return,", prefix="Later:", suffix="A.").found is False
    assert find_quote(text, "In  return", prefix="", suffix="").found
    assert find_quote(text, "   ").occurrences == 0


_TEXT = st.text(alphabet="ab \n\u2019\u201c\u201d", min_size=1, max_size=60)


@given(_TEXT, st.data())
def test_any_slice_of_a_text_is_found_in_it(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    quote = text[start:end]
    if normalise(quote):
        assert find_quote(text, quote).found


@given(_TEXT, st.data())
def test_a_slice_is_found_between_the_text_around_it(text: str, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), min_size=4, max_size=4)))
    prefix, quote, suffix = text[cuts[0] : cuts[1]], text[cuts[1] : cuts[2]], text[cuts[2] : cuts[3]]
    if normalise(quote):
        assert find_quote(text, quote, prefix=prefix, suffix=suffix).found


@pytest.mark.sqlite_only
def test_replaying_the_journal_rebuilds_ranks_and_snapshots(run: Run, small: Path, tmp_path: Path) -> None:
    """The projectors read only their payload: replayed into an empty ledger, the journal gives the same rows."""
    from sqlalchemy import select

    import ledger.ops.add
    import ledger.ops.evidence  # noqa: F401  (with ledger.ops.add: registers the projectors replayed here)
    from ledger.db import make_engine, resolve_url, session_scope
    from ledger.models import JournalEntry
    from ledger.ops.base import PROJECTORS

    _two_names(run)
    ok(run, "claim", "rank", GAZE_CLAIM, "deprecated", "--reason", "transliteration")
    ok(run, "source", "snapshot", "san", str(ISSUE_TEXT), "--retrieved-at", "2026-11-29")
    copy = tmp_path / "replayed.db"
    assert run("init", db=str(copy)).exit_code == 0
    source, target = make_engine(resolve_url(str(small))), make_engine(resolve_url(str(copy)))
    with session_scope(source, write=False) as read, session_scope(target, write=True) as session:
        for entry in read.execute(select(JournalEntry).order_by(JournalEntry.seq)).scalars():
            session.info["applying_seq"] = entry.seq
            PROJECTORS[entry.op](session, json.loads(entry.payload))
            session.flush()
    source.dispose()
    target.dispose()
    for what in ("claims", "sources"):
        original = run("list", what, "--format", "json").json()
        assert run("list", what, "--format", "json", db=str(copy)).json() == original
    replayed = run("show", "san", "--format", "json", db=str(copy)).json()
    assert replayed["retrieved_at"] == "2026-11-29T00:00:00Z" and replayed["snapshot_length"] == 1798


def test_a_ranked_claim_is_exported_with_who_ranked_it_and_why(run: Run, small: Path, tmp_path: Path) -> None:
    _two_names(run)
    ok(run, "claim", "rank", GAZE_CLAIM, "deprecated", "--reason", "a transliteration")
    exported = tmp_path / "ledger.jsonl"
    ok(run, "export", "--format", "jsonl", "--output", str(exported))
    claim = next(r for r in map(json.loads, exported.read_text().splitlines()) if r.get("id") == GAZE_CLAIM)
    assert (claim["rank"], claim["rank_reason"], claim["rank_author"]) == ("deprecated", "a transliteration", "tester")
    csv_dir = tmp_path / "csv"
    ok(run, "export", "--format", "csv", "--output", str(csv_dir))
    assert "rank_author" in (csv_dir / "claims.csv").read_text().splitlines()[0]
