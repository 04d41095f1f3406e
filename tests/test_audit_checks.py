"""Each audit check on a small ledger holding records that trip it, records that do not, and edge cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update

from ledger.domain import Precision, Status
from ledger.models import AliasJudgement, Concession, JournalEntry, Record, Source, StatusChange
from tests.audit_helpers import by_record, cite, concession, exchange, findings, load, session_on
from tests.conftest import Run

Fingerprint = Callable[[], str]


def test_unpaired_and_one_sided(run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, concessions=[
        concession("released"), concession("relief", "us", "by", kind="sanctions_relief"),
        concession("freed", status="delivered"), concession("lifting", "us", "by", kind="sanctions_relief",
                                                            status="promised"),
        concession("offer", status="offered"), concession("talks", "us", "by", kind="diplomatic_access",
                                                          status="requested"),
        concession("lone"), concession("idea", status="considered"),
    ], exchanges=[exchange("fair", ("released", "relief")), exchange("owed", ("freed", "lifting")),
                  exchange("nothing-yet", ("offer", "talks"))])  # fmt: skip
    unpaired = by_record(findings(run, "unpaired"))
    assert set(unpaired) == {"lone", "idea"}
    assert unpaired["lone"]["severity"] == "warning" and unpaired["idea"]["severity"] == "info"
    one_sided = by_record(findings(run, "one-sided"))
    assert set(one_sided) == {"owed"}, one_sided
    message = one_sided["owed"]["message"]
    assert "Belarus delivered" in message and "United States gave" in message and "promise" in message


def test_one_sided_when_the_other_side_is_retracted(db_url: str, run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, concessions=[concession("a"), concession("b", "us", "by", kind="sanctions_relief")],
         exchanges=[exchange("half", ("a", "b"))])  # fmt: skip
    assert findings(run, "one-sided") == []
    with session_on(db_url) as session:  # what a retraction leaves: the exchange with one side giving
        session.execute(update(Record).where(Record.slug == "b").values(retracted=True))
    rows = by_record(findings(run, "one-sided"))
    assert "only Belarus gave anything" in rows["half"]["message"]


def test_unsourced(run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, concessions=[concession("cited"), concession("bare", citations=[])])
    assert set(by_record(findings(run, "unsourced"))) == {"bare"}


def test_single_origin_follows_relay_chains(run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, concessions=[
        concession("two-independent", citations=cite("san") + cite("ind", "again")),
        concession("gaze-only", citations=cite("gaze")),
        concession("gaze-and-wsj", citations=cite("gaze") + cite("wsj", "original")),
        concession("echo-and-gaze", citations=cite("echo") + cite("gaze", "relayed")),
        concession("san-only", citations=cite("san")),
        concession("gaze-and-san", citations=cite("gaze") + cite("san", "own")),
    ])  # fmt: skip
    rows = by_record(findings(run, "single-origin"))
    assert set(rows) == {"gaze-only", "gaze-and-wsj", "echo-and-gaze", "san-only"}
    assert rows["gaze-only"]["severity"] == "warning"
    assert "The Gaze, which relays The Wall Street Journal" in rows["gaze-only"]["message"]
    assert rows["echo-and-gaze"]["details"]["origin"] == "wsj"
    assert "2 sources, but all trace back to The Wall Street Journal" in rows["gaze-and-wsj"]["message"]
    assert rows["san-only"]["severity"] == "info"


def test_single_origin_with_many_citations(run: Run, ledger_db: Path) -> None:
    """Three or more different sources are looked up one by one; one source cited twice is one source."""
    load(run, ledger_db, concessions=[
        concession("three-relays", citations=cite("gaze") + cite("echo", "e") + cite("wsj", "w")),
        concession("three-mixed", citations=cite("gaze") + cite("echo", "e") + cite("san", "s")),
        concession("san-twice", citations=cite("san") + cite("san", "again")),
        concession("two-origins", citations=cite("echo") + cite("ind", "i")),
    ])  # fmt: skip
    rows = by_record(findings(run, "single-origin"))
    assert set(rows) == {"three-relays", "san-twice"}, rows
    assert "cites 3 sources, but all trace back to The Wall Street Journal" in rows["three-relays"]["message"]
    assert rows["three-relays"]["details"] == {"origin": "wsj", "sources": 3}
    assert rows["san-twice"]["severity"] == "info" and rows["san-twice"]["details"] == {"origin": "san", "sources": 1}


def test_single_origin_survives_relay_cycles(db_url: str, run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, sources=[{"id": "loop-a", "title": "A"}, {"id": "loop-b", "title": "B", "relays": "loop-a"}],
         concessions=[concession("in-loop", citations=cite("loop-a") + cite("loop-b", "b")),
                      concession("loop-and-san", citations=cite("loop-a") + cite("san", "s"))])  # fmt: skip
    with session_on(db_url) as session:
        ids = dict(session.execute(select(Source.slug, Source.id).where(Source.slug.in_(["loop-a", "loop-b"]))).all())
        sources = Source.__table__
        session.execute(update(sources).where(sources.c.id == ids["loop-a"]).values(relays_id=ids["loop-b"]))
    rows = by_record(findings(run, "single-origin"))
    assert "in-loop" in rows and "loop-and-san" not in rows, rows


def test_conflict_is_quiet_once_ranked_with_a_reason(run: Run, ledger_db: Path) -> None:
    def claim(slug: str, record: str, value: str, source: str, **rank: str) -> dict[str, str]:
        return {"id": slug, "record": record, "attribute": "name", "value": value, "source": source, **rank}

    load(run, ledger_db, claims=[
        claim("c1", "by", "Belarus", "san"), claim("c2", "by", "Belorussia", "gaze"),
        claim("c3", "us", "USA", "san", rank="preferred", rank_reason="official"), claim("c4", "us", "US", "gaze"),
        claim("c5", "lukashenko", "A. Lukashenko", "san", rank="deprecated", rank_reason="abbreviated"),
        claim("c6", "lukashenko", "Alexander Lukashenko", "gaze"),
        claim("c7", "wsj", "WSJ", "san", rank="preferred"), claim("c8", "wsj", "Journal", "gaze"),
        claim("c9", "san", "SAN", "san"), claim("c10", "san", "san", "gaze"),
    ])  # fmt: skip
    rows = by_record(findings(run, "conflict"))
    assert set(rows) == {"by", "wsj"}, rows
    assert '"Belarus" (Straight Arrow News, san)' in rows["by"]["message"]
    assert '"Belorussia" (The Gaze, gaze)' in rows["by"]["message"]
    assert "ranked without a reason: c7" in rows["wsj"]["message"]


def test_totals_respect_precision_and_unknowns(run: Run, ledger_db: Path) -> None:
    def total(slug: str, value: int, start: str | None = None, end: str | None = None) -> dict[str, object]:
        return {"id": slug, "source": "san", "giver": "by", "kind": "prisoner_release", "unit": "person",
                "value": value, "period_start": start, "period_end": end, "citations": cite()}  # fmt: skip

    load(run, ledger_db, concessions=[
        concession("nov", quantity=100, unit="person", date="2025-11-20"),
        concession("dec", quantity=20, unit="person", date="2025-12"),
        concession("by-luka", "lukashenko", quantity=3, unit="person", date="2025-12-02"),
        concession("promised", quantity=50, unit="person", status="promised", date="2025-12-01"),
        concession("oct", quantity=7, unit="person", date="2025-10-15"),
    ], totals=[total("exact", 123, "2025-11", "2025-12"), total("short", 156, "2025-11", "2025-12"),
               total("over", 100, "2025-11", "2025-12"), total("mid-dec", 103, "2025-11", "2025-12-10")])  # fmt: skip
    rows = by_record(findings(run, "totals"))
    assert "exact" not in rows
    assert rows["short"]["severity"] == "warning"
    assert "156 reported, 123 recorded: 33 unaccounted for" in rows["short"]["message"]
    assert rows["short"]["details"]["difference"] == 33
    assert "records 23 more" in rows["over"]["message"]
    # "2025-12" may or may not fall before 10 December: possible, so said, not summed
    assert rows["mid-dec"]["severity"] == "info" and rows["mid-dec"]["details"]["possible"] == 20
    assert "may or may not fall in the period" in rows["mid-dec"]["message"]


def test_totals_report_unknown_quantities_and_dates(run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, concessions=[
        concession("counted", quantity=10, unit="person", date="2025-11-02"),
        concession("uncounted", date="2025-11-03"),
        concession("undated", quantity=5, unit="person"),
    ], totals=[{"id": "t", "source": "san", "giver": "by", "unit": "person", "value": 20,
                "period_start": "2025-11", "citations": cite()}])  # fmt: skip
    row = by_record(findings(run, "totals"))["t"]
    assert row["severity"] == "info"
    assert "1 matching concession(s) have no known quantity" in row["message"]
    assert "1 concession(s) (5) have no known date" in row["message"]
    assert row["details"]["recorded"] == 10 and row["details"]["unknown_quantity"] == 1


def test_overdue_uses_as_of_window_and_precision(run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, concessions=[
        concession("due-past", status="promised", due="2025-10-01"),
        concession("due-month", status="promised", due="2025-12"),
        concession("due-later", status="promised", due="2026-06-01"),
        concession("old-promise", status="promised", date="2025-08-01"),
        concession("fresh-promise", status="promised", date="2025-11-20"),
        concession("vague-promise", status="promised", date="2025-09"),
        concession("undated", status="promised", date={"text": "Later"}),
        concession("done", status="delivered", due="2025-01-01"),
    ])  # fmt: skip
    rows = by_record(findings(run, "overdue", "--as-of", "2025-12-15"))
    assert set(rows) == {"due-past", "due-month", "old-promise", "vague-promise", "undated"}
    assert rows["due-past"]["severity"] == "warning" and "75 days overdue" in rows["due-past"]["message"]
    assert rows["due-month"]["severity"] == "info"
    assert rows["old-promise"]["severity"] == "warning"
    assert rows["vague-promise"]["severity"] == "info"  # September + 90 days: 1 Dec to 29 Dec
    assert rows["undated"]["severity"] == "info" and '"Later"' in rows["undated"]["message"]
    narrow = by_record(findings(run, "overdue", "--as-of", "2025-12-15", "--promise-window", "10"))
    assert narrow["fresh-promise"]["severity"] == "warning"


def test_chronology_of_status_history(db_url: str, run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, concessions=[concession(s) for s in ("backwards", "fuzzy", "orderly")])
    history = {"backwards": ("2025-11-20", Precision.DAY, "2025-11-10", Precision.DAY),
               "fuzzy": ("2025-11-01", Precision.MONTH, "2025-11-10", Precision.DAY),
               "orderly": ("2025-11-01", Precision.DAY, "2025-11-10", Precision.DAY)}  # fmt: skip
    with session_on(db_url) as session:
        for slug, (promised_on, p1, delivered_on, p2) in history.items():
            key = session.execute(select(Concession.id).where(Concession.slug == slug)).scalar_one()
            session.execute(update(StatusChange).where(StatusChange.concession_id == key).values(
                date_on=dt.date.fromisoformat(delivered_on), date_precision=p2))  # fmt: skip
            session.add(StatusChange(concession_id=key, status=Status.PROMISED,
                                     date_on=dt.date.fromisoformat(promised_on), date_precision=p1))  # fmt: skip
    rows = by_record(findings(run, "chronology"))
    assert set(rows) == {"backwards", "fuzzy"}
    assert rows["backwards"]["severity"] == "error" and "before it was promised" in rows["backwards"]["message"]
    assert rows["fuzzy"]["severity"] == "info"


def test_chronology_of_a_status_history_written_by_the_status_command(run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, concessions=[concession("late-promise", status="promised", date="2025-12-01"),
                                      concession("kept", status="promised", date="2025-11-01")])  # fmt: skip
    assert run("status", "late-promise", "delivered", "--date", "2025-11-20", "--source", "san").exit_code == 0
    assert run("status", "kept", "delivered", "--date", "2025-11-20", "--source", "san").exit_code == 0
    rows = by_record(findings(run, "chronology"))
    assert set(rows) == {"late-promise"} and rows["late-promise"]["severity"] == "error"


def test_chronology_of_citations_and_links(run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, sources=[{"id": "early", "title": "Early", "published": "2025-10-01"},
                                  {"id": "monthly", "title": "Monthly", "published": "2025-11"},
                                  {"id": "late", "title": "Late", "published": "2025-12-01"}],
         concessions=[concession("foretold", date="2025-11-15",  # the same source twice: one finding
                                 citations=cite("early") + cite("early", "another quote")),
                      concession("same-month", date="2025-11-15", citations=cite("monthly")),
                      concession("reported", date="2025-11-15", citations=cite("late")),
                      concession("answer", "us", "by", kind="sanctions_relief", date="2025-11-01"),
                      concession("fair-answer", "us", "by", kind="sanctions_relief", date="2025-12-01")],
         exchanges=[exchange("x", ("reported", "answer")), exchange("y", ("same-month", "fair-answer"))])  # fmt: skip
    rows = findings(run, "chronology")
    cited = {r["record"]: r for r in rows if r["record_type"] == "concession"}
    assert sorted(r["record"] for r in rows if r["record_type"] == "concession") == ["foretold", "same-month"]
    assert cited["foretold"]["severity"] == "error" and cited["same-month"]["severity"] == "info"
    links = [r for r in rows if r["record_type"] == "link"]
    assert len(links) == 1 and links[0]["severity"] == "error"
    assert "answer was given in return for reported" in links[0]["message"]


def test_chronology_of_renewals(run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, concessions=[
        concession("licence", "us", "by", kind="sanctions_relief", date="2025-06-10"),
        concession("renewal", "us", "by", kind="sanctions_relief", date="2025-05-20", renews="licence"),
        concession("fair-renewal", "us", "by", kind="sanctions_relief", date="2025-12-01", renews="licence"),
        concession("vague-renewal", "us", "by", kind="sanctions_relief", date="2025-06", renews="licence"),
    ])  # fmt: skip
    rows = by_record(findings(run, "chronology"))
    assert set(rows) == {"renewal", "vague-renewal"}
    assert rows["renewal"]["severity"] == "error" and "renews licence" in rows["renewal"]["message"]
    assert rows["vague-renewal"]["severity"] == "info"


def test_aliases_finds_variants_and_judgements_silence_them(db_url: str, run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, parties=[
        {"id": "coale", "name": "John Coale", "kind": "person",
         "aliases": [{"name": "John Cole", "citations": cite()}]},
        {"id": "tikhanovsky", "name": "Sergei Tikhanovsky", "kind": "person"},
        {"id": "tsikhanouski", "name": "Siarhei Tsikhanouski", "kind": "person"},
        {"id": "belavia", "name": "Belavia", "kind": "company"},
        {"id": "maria", "name": "Maria Kolesnikova", "kind": "person"},
        {"id": "anna", "name": "Anna Kolesnikova", "kind": "person"},
        {"id": "maduro", "name": "Nicolás Maduro", "kind": "person",
         "aliases": [{"name": "Nicolas Maduro", "citations": cite()}]},
    ])  # fmt: skip
    rows = findings(run, "aliases")
    pairs = {frozenset((r["details"]["name_a"], r["details"]["name_b"])): r for r in rows}
    assert set(pairs) == {frozenset(("John Coale", "John Cole")),
                          frozenset(("Sergei Tikhanovsky", "Siarhei Tsikhanouski"))}  # fmt: skip
    assert pairs[frozenset(("John Coale", "John Cole"))]["severity"] == "info"
    assert pairs[frozenset(("Sergei Tikhanovsky", "Siarhei Tsikhanouski"))]["severity"] == "warning"
    confirmed = run("alias", "confirm", "John Cole", "coale", "--reason", "The Gaze misspells the envoy")
    assert confirmed.exit_code == 0, confirmed.stderr
    rejected = run("alias", "reject", "tsikhanouski", "Sergei Tikhanovsky", "--reason", "testing a rejection")
    assert rejected.exit_code == 0, rejected.stderr
    assert findings(run, "aliases") == []
    with session_on(db_url) as session:
        ops = session.execute(select(JournalEntry.op).where(JournalEntry.op == "judge_alias")).scalars().all()
        verdicts = session.execute(select(AliasJudgement.name_a, AliasJudgement.name_b, AliasJudgement.same)).all()
    assert len(ops) == 2
    assert run("rebuild", "--check").exit_code == 0, "the journal replays the judgements to the same table"
    assert sorted(verdicts) == [
        ("John Coale", "John Cole", True),
        ("Sergei Tikhanovsky", "Siarhei Tsikhanouski", False),
    ]


@pytest.mark.sqlite_only
def test_alias_judgement_refuses_unknown_names_and_changes_nothing(
    fingerprint: Fingerprint, run: Run, ledger_db: Path
) -> None:

    load(run, ledger_db, parties=[{"id": "coale", "name": "John Coale", "kind": "person"}])
    before = fingerprint()
    result = run("alias", "confirm", "John Cole", "coale", "--reason", "x")
    assert result.exit_code == 3 and "NAME_A" in result.stderr and "John Coale" in result.stderr
    assert run("alias", "confirm", "coale", "john coale", "--reason", "x").exit_code == 3
    assert fingerprint() == before


def test_a_sound_ledger_passes_every_check(run: Run, ledger_db: Path) -> None:
    both = cite("san", "Belarus released 10") + cite("ind", "ten were freed")
    late = {"id": "late", "title": "Later report", "publisher": "Late", "published": "2025-12-20"}
    load(run, ledger_db, sources=[late],
         concessions=[
             concession("freed", quantity=10, unit="person", date="2025-12-13", citations=both + cite("late", "10")),
             concession("lifted", "us", "by", kind="sanctions_relief", date="2025-12-14", citations=both),
         ],
         exchanges=[{"id": "deal", "title": "ten for relief", "links": [
             {"concessions": ["freed", "lifted"], "basis": "stated", "citations": both}]}],
         totals=[{"id": "ten", "source": "san", "giver": "by", "kind": "prisoner_release", "unit": "person",
                  "value": 10, "period_start": "2025-12", "period_end": "2025-12", "citations": both}])  # fmt: skip
    ours = [arg for name in BUILT_IN for arg in ("--check", name)]
    result = run("audit", *ours, "--format", "json", "--as-of", "2026-01-01", "--fail-on", "info")
    assert result.exit_code == 0 and result.json() == [], result.stdout
    assert "0 findings from 9 checks" in result.stderr


#: The checks of this module (other modules add more: integrity, quotes...).
BUILT_IN = ("aliases", "chronology", "conflict", "one-sided", "overdue", "single-origin", "totals", "unpaired",
            "unsourced")  # fmt: skip
