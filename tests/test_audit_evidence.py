"""The evidence checks: expired, wording, disputed-link and quotes, each tripped and not tripped."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Run, checksum

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHAIN = FIXTURES / "licence-chain-2015.yaml"
COUNTS = FIXTURES / "counts-and-wording-2025.yaml"
ISSUE_TEXT = FIXTURES / "issue-10-public-record.txt"
SAN, GAZE = "san-belarus-frees-123", "gaze-belarus-example"
ARTICLES = {
    SAN: "straight-arrow-news-belarus-frees-123.txt",
    GAZE: "the-gaze-via-wsj-belarus-example-for-putin.txt",
}


def findings(run: Run, check: str, *args: str) -> list[dict[str, Any]]:
    result = run("audit", "--check", check, "--fail-on", "never", "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return list(result.json())


def ok(run: Run, *args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout


# --- expired -------------------------------------------------------------------------------------

FIRST, RENEWAL = "us-licence-nine-companies-2015", "us-licence-nine-companies-renewal-2016"


def test_licence_chain_is_recorded_as_a_chain(run: Run, ledger_db: Path) -> None:
    ok(run, "import", str(CHAIN))
    rows = {r["id"]: r for r in run("list", "--format", "json").json()}
    first, renewal = rows[FIRST], rows[RENEWAL]
    assert first["expires"]["value"] == "2016-04-30" and first["renewed_by"] == [RENEWAL]
    assert renewal["renews"] == FIRST and renewal["expires"]["value"] == "2016-10-31"
    assert renewal["conditions"].startswith("A changed threshold")
    assert (first["instrument"], first["authority"], first["quantity"], first["unit"]) == (
        "general_licence", "US Treasury", 9, "company"
    )  # fmt: skip
    assert run("show", RENEWAL, "--format", "json").json()["renews"] == FIRST
    assert run("show", FIRST, "--format", "json").json()["renewed_by"] == [RENEWAL]


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2016-03-01", []),  # nothing has expired yet
        ("2016-05-15", []),  # the first has expired but is renewed; the renewal runs until 31 October
        ("2016-10-31", []),  # the renewal's last day
        ("2016-11-15", [RENEWAL]),  # the renewal has expired and nothing renews it
    ],
)
def test_expired_follows_as_of(run: Run, ledger_db: Path, as_of: str, expected: list[str]) -> None:
    ok(run, "import", str(CHAIN))
    assert [f["record"] for f in findings(run, "expired", "--as-of", as_of)] == expected


def test_expired_respects_precision_and_renewal_dates(run: Run, small: Path) -> None:
    base = ("--giver", "us", "--receiver", "by", "--kind", "sanctions_relief", "--status", "delivered")
    ok(run, "add", "--id", "waiver", *base, "--summary", "a waiver", "--instrument", "waiver", "--expires", "2016-10")
    assert findings(run, "expired", "--as-of", "2016-10-31") == []  # a month-precision expiry: all of October
    assert [f["record"] for f in findings(run, "expired", "--as-of", "2016-11-01")] == ["waiver"]
    ok(run, "add", "--id", "waiver-2", *base, "--summary", "renewed", "--renews", "waiver", "--announced", "2017-01-10")
    # As of December the renewal had not been announced yet; as of February it had.
    assert [f["record"] for f in findings(run, "expired", "--as-of", "2016-12-01")] == ["waiver"]
    assert findings(run, "expired", "--as-of", "2017-02-01") == []
    ok(run, "add", "--id", "gone", "--giver", "us", "--receiver", "by", "--kind", "sanctions_relief",
       "--status", "withdrawn", "--summary", "withdrawn", "--expires", "2015")  # fmt: skip
    assert all(f["record"] != "gone" for f in findings(run, "expired", "--as-of", "2017-02-01"))


# --- wording -------------------------------------------------------------------------------------


def test_wording_flags_lifted_for_a_licence(run: Run, ledger_db: Path) -> None:
    ok(run, "import", str(COUNTS))
    found = findings(run, "wording")
    assert [(f["record"], f["details"]["word"], f["details"]["instrument"]) for f in found] == [
        ("us-licence-belavia-2025", "lifted", "general_licence")
    ]
    assert found[0]["details"]["quote"] == 'while the press said sanctions were "lifted"'
    assert "licensed, not lifted" in found[0]["message"]


def test_wording_is_quiet_for_a_delisting_or_plain_words(run: Run, small: Path) -> None:
    base = ("--giver", "us", "--receiver", "by", "--kind", "sanctions_relief", "--status", "delivered")
    ok(run, "add", "--id", "delisted", *base, "--summary", "s", "--instrument", "delisting",
       "--source", "san", "--quote", "the U.S. lifted sanctions")  # fmt: skip
    ok(run, "add", "--id", "licensed", *base, "--summary", "s", "--instrument", "general_licence",
       "--source", "san", "--quote", "dealings are authorised")  # fmt: skip
    ok(run, "add", "--id", "unknown-instrument", *base, "--summary", "s", "--source", "san", "--quote", "lifted")
    assert findings(run, "wording") == []
    ok(run, "cite", "licensed", "--source", "san", "--quote", "Sanctions were removed.")
    assert [f["details"]["word"] for f in findings(run, "wording")] == ["removed"]


# --- disputed-link -------------------------------------------------------------------------------


def test_disputed_link_stated_by_one_source_and_denied_by_another(run: Run, small: Path) -> None:
    ok(run, "link", "release", "potash", "--source", "san", "--quote", "In return")
    assert findings(run, "disputed-link") == []
    # An invented denial, for the test: an official denies the quid pro quo the article states.
    ok(run, "source", "add", "denial", "--title", "An official denies any link (invented for the test)")
    ok(run, "link", "potash", "release", "--basis", "denied", "--source", "denial", "--quote", "no link")
    found = findings(run, "disputed-link")
    assert len(found) == 1
    assert found[0]["record"] == "link-release--potash"
    assert found[0]["details"]["stated_by"] == ["san"] and found[0]["details"]["denied_by"] == ["denial"]
    assert "stated by san and denied by denial" in found[0]["message"]
    counterparts = run("show", "release", "--format", "json").json()["counterparts"]
    assert counterparts == ["potash"]  # the denial does not add a counterpart


# --- quotes --------------------------------------------------------------------------------------


def _snapshot_articles(run: Run, shared: Path) -> None:
    for source, name in ARTICLES.items():
        ok(run, "source", "snapshot", source, str(shared / name), "--retrieved-at", "2026-11-29T20:00:00Z")


def test_every_seed_quote_is_verbatim_in_its_snapshot(run: Run, seeded: Path, shared_sources: Path) -> None:
    before = findings(run, "quotes")
    assert {(f["severity"], f["record"]) for f in before} == {("info", SAN), ("info", GAZE)}  # hash only
    _snapshot_articles(run, shared_sources)
    assert findings(run, "quotes") == []
    sources = {s["id"]: s for s in run("list", "sources", "--format", "json").json()}
    assert sources[SAN]["snapshot"] == "text" and sources[SAN]["retrieved_at"] == "2026-11-29T20:00:00Z"
    assert sources["wsj-economic-support"]["snapshot"] is None


@pytest.mark.sqlite_only
def test_a_changed_snapshot_file_is_refused(run: Run, seeded: Path, shared_sources: Path, tmp_path: Path) -> None:
    text = (shared_sources / ARTICLES[SAN]).read_text(encoding="utf-8")
    changed = tmp_path / "san.txt"
    changed.write_text(text.replace("released 123 prisoners", "released 124 prisoners", 1), encoding="utf-8")
    before = checksum(seeded)
    result = run("source", "snapshot", SAN, str(changed))
    assert result.exit_code == 3 and "is not the text recorded for source" in result.stderr
    assert "--replace" in result.stderr
    assert checksum(seeded) == before
    # Recorded anyway, the changed text no longer holds the quote the seeds cite.
    ok(run, "source", "snapshot", SAN, str(changed), "--replace")
    missing = [f for f in findings(run, "quotes") if f["severity"] == "error"]
    quotes = [f["details"]["quote"] for f in missing]
    assert "Belarus released 123 prisoners early Saturday." in quotes
    assert all("released 123 prisoners" in q for q in quotes)  # only the quotes that hold the changed character


@pytest.mark.sqlite_only
def test_a_snapshot_changed_in_the_database_is_detected(run: Run, seeded: Path, shared_sources: Path) -> None:
    _snapshot_articles(run, shared_sources)
    with sqlite3.connect(seeded) as connection:
        connection.execute(
            "UPDATE sources SET snapshot_text = replace(snapshot_text, 'Saturday', 'Saturdey') "
            "WHERE id = (SELECT id FROM records WHERE slug = ?)",
            (SAN,),
        )
    found = findings(run, "quotes")
    assert [(f["severity"], f["record_type"], f["record"]) for f in found] == [("error", "source", SAN)]
    assert "no longer matches its SHA-256" in found[0]["message"]


def test_a_one_character_change_in_a_quote_is_detected(run: Run, seeded: Path, shared_sources: Path) -> None:
    _snapshot_articles(run, shared_sources)
    quote = "Belarus released 124 prisoners early Saturday."
    citation = ok(run, "cite", "by-releases-123-prisoners", "--source", SAN, "--quote", quote).strip()
    found = findings(run, "quotes")
    assert [(f["severity"], f["record_type"], f["record"]) for f in found] == [("error", "citation", citation)]
    assert found[0]["details"]["record"] == "by-releases-123-prisoners"


def test_quotes_are_compared_after_normalisation(run: Run, seeded: Path, shared_sources: Path) -> None:
    _snapshot_articles(run, shared_sources)
    # Straight apostrophe for the article's curly one, a line break and double spaces for single spaces.
    ok(run, "cite", "coale", "--source", SAN, "--quote", "U.S. President Donald Trump's\n special  envoy")
    assert findings(run, "quotes") == []


def test_prefix_and_suffix_pick_the_occurrence(run: Run, seeded: Path, shared_sources: Path) -> None:
    _snapshot_articles(run, shared_sources)
    record = "by-releases-123-prisoners"
    ok(run, "cite", record, "--source", GAZE, "--quote", "In return,", "--prefix", "Maria Kolesnikova.",
       "--suffix", "the US lifted")  # fmt: skip
    assert findings(run, "quotes") == []
    wrong = ok(run, "cite", record, "--source", GAZE, "--quote", "In return,", "--prefix", "Maria Kolesnikova.",
               "--suffix", "he was willing", "--locator", "line 6").strip()  # fmt: skip
    found = findings(run, "quotes")
    assert [(f["severity"], f["record"], f["details"]["occurrences"]) for f in found] == [("warning", wrong, 2)]
    shown = run("show", record, "--format", "json").json()["citations"]
    assert {"Maria Kolesnikova."} == {c["prefix"] for c in shown if c["quote"] == "In return,"}
    refused = run("cite", record, "--source", GAZE, "--prefix", "context without a quote")
    assert refused.exit_code == 3 and "give the quote too" in refused.stderr


def test_hash_only_snapshot_cannot_check_quotes(run: Run, ledger_db: Path) -> None:
    ok(run, "import", str(CHAIN))
    ok(run, "source", "snapshot", "issue-10-summary", str(ISSUE_TEXT), "--hash-only")
    found = findings(run, "quotes")
    assert [(f["severity"], f["record"]) for f in found] == [("info", "issue-10-summary")]
    assert "keeps only its SHA-256" in found[0]["message"]
    ok(run, "source", "snapshot", "issue-10-summary", str(ISSUE_TEXT))
    assert findings(run, "quotes") == []  # every quote of the fixture, prefix and suffix included


def test_snapshot_of_a_file_that_is_not_text(run: Run, small: Path, tmp_path: Path) -> None:
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(b"%PDF-1.7\xff\xfe\x00")
    refused = run("source", "snapshot", "san", str(binary))
    assert refused.exit_code == 3 and "not UTF-8" in refused.stderr and "--hash-only" in refused.stderr
    assert run("source", "snapshot", "san", str(tmp_path / "absent.txt")).exit_code == 3
    assert run("source", "snapshot", "nowhere", str(binary), "--hash-only").exit_code == 3
    assert ok(run, "source", "snapshot", "san", str(binary), "--hash-only").startswith("san: hash only")
    assert run("list", "sources", "--format", "json").json()[0]["length"] == 11


def test_seed_sources_are_unchanged_by_the_seeds_import(run: Run, seeded: Path) -> None:
    sources = {s["id"]: s for s in run("list", "sources", "--format", "json").json()}
    assert sources[SAN]["snapshot"] == "hash only" and sources[SAN]["length"] == 2074


@pytest.mark.sqlite_only
def test_concession_terms_view(run: Run, ledger_db: Path) -> None:
    ok(run, "import", str(CHAIN))
    with sqlite3.connect(ledger_db) as connection:
        rows = connection.execute(
            "SELECT id, renews, renewed_by, expires_on, instrument, authority, quantity, named, conditions "
            "FROM v_concession_terms WHERE kind = 'sanctions_relief' ORDER BY id"
        ).fetchall()
    assert rows == [
        (FIRST, None, RENEWAL, "2016-04-30", "general_licence", "US Treasury", 9, 0, None),
        (RENEWAL, FIRST, None, "2016-10-31", "general_licence", "US Treasury", 9, 0,
         "A changed threshold (the summary does not say which)."),
    ]  # fmt: skip
