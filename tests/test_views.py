"""`ledger balance` and `ledger timeline` on the seeds and on small hand-made ledgers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Run


def test_balance_of_the_first_exchange_reads_as_sentences(run: Run, seeded: Path) -> None:
    result = run("balance", "--exchange", "exchange-123-for-potash")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Belarus gave: 123 person prisoner release (delivered)" in out
    assert "United States gave: " in out and "potash" in out and "1 aircraft technical service (in_progress)" in out
    assert "United States received: 123 person prisoner release (delivered)" in out
    assert "outstanding promises:" in out and "us-arranges-boeing-parts-for-belavia (promised" in out
    # Another exchange's promise is not in this one.
    assert "by-promises-release-14-more" not in out


def test_balance_json_totals_count_each_concession_once(run: Run, seeded: Path) -> None:
    data = run("balance", "-f", "json").json()
    total = [x for x in data["lines"] if x["exchange"] == "(total)" and x["direction"] == "gave"]
    repairs = [x for x in total if "lukashenko-plane-repairs" in x["concessions"]]
    # The repair is in two exchanges, but counted once in the total.
    assert len(repairs) == 1 and repairs[0]["quantity"] == 1
    releases = {(x["status"], x["quantity"]) for x in total if x["side"] == "by" and x["kind"] == "prisoner_release"}
    assert {("delivered", 123), ("promised", 14)} <= releases
    outstanding = {o["id"]: o for o in data["outstanding"]}
    assert outstanding["by-promises-release-14-more"]["side"] == "by"
    assert "us-lifts-potash-sanctions" not in outstanding


def test_balance_counts_people_on_the_side_they_act_for(run: Run, seeded: Path) -> None:
    data = run("balance", "--party", "lukashenko", "-f", "json").json()
    assert data["lines"] and {x["side"] for x in data["lines"]} == {"by"}
    assert {o["side"] for o in data["outstanding"]} == {"by"}


def test_balance_sums_quantities_per_unit_and_status(run: Run, ledger_db: Path) -> None:
    for args in (
        ("party", "add", "a", "--name", "Alphaland", "--kind", "state"),
        ("party", "add", "b", "--name", "Betaland", "--kind", "state"),
        ("add", "--id", "r1", "--giver", "a", "--receiver", "b", "--kind", "prisoner_release", "--summary", "ten",
         "--quantity", "10", "--unit", "person", "--status", "delivered"),
        ("add", "--id", "r2", "--giver", "a", "--receiver", "b", "--kind", "prisoner_release", "--summary", "five",
         "--quantity", "5", "--unit", "person", "--status", "delivered"),
        ("add", "--id", "r3", "--giver", "a", "--receiver", "b", "--kind", "prisoner_release", "--summary", "two",
         "--quantity", "2", "--unit", "person", "--status", "promised"),
        ("add", "--id", "s1", "--giver", "b", "--receiver", "a", "--kind", "sanctions_relief",
         "--summary", "oil licence", "--status", "delivered"),
        ("link", "r1", "s1", "--basis", "inferred", "--reason", "same week"),
        ("link", "r2", "s1", "--basis", "inferred", "--reason", "same week"),
    ):  # fmt: skip
        assert run(*args).exit_code == 0, args
    out = run("balance").stdout
    assert "Alphaland gave: 15 person prisoner release (delivered)" in out
    assert "Betaland gave: oil licence (delivered)" in out
    assert "Alphaland: r3 (promised, due unknown): two" in out
    csv = run("balance", "-f", "csv").stdout.splitlines()
    assert csv[0].startswith("exchange,side,direction,kind,status,quantity,unit")


def test_balance_unknown_ids_suggest_the_closest(run: Run, seeded: Path) -> None:
    result = run("balance", "--exchange", "exchange-123-for-potas")
    assert result.exit_code == 3 and "exchange-123-for-potash" in result.stderr
    assert run("balance", "--party", "lukashenk").exit_code == 3


@pytest.fixture
def dated(run: Run, ledger_db: Path) -> Path:
    """Four concessions dated to a day, a month, a year and not at all."""
    base = ("--giver", "a", "--receiver", "b", "--kind", "aid", "--status", "promised")
    for args in (
        ("party", "add", "a", "--name", "Alphaland", "--kind", "state"),
        ("party", "add", "b", "--name", "Betaland", "--kind", "state"),
        ("source", "add", "paper", "--title", "A paper", "--published", "2025-12-20"),
        ("add", "--id", "day", "--summary", "on a day", "--date", "2025-12-13", *base),
        ("add", "--id", "month", "--summary", "in a month", "--date", "2025-12", *base),
        ("add", "--id", "year", "--summary", "in a year", "--date", "2025", *base),
        ("add", "--id", "vague", "--summary", "some time", "--date-text", "last month", *base),
    ):
        result = run(*args)
        assert result.exit_code == 0, (args, result.stderr)
    return ledger_db


def test_timeline_orders_by_range_and_shows_precision(run: Run, dated: Path) -> None:
    rows = run("timeline", "-f", "json").json()
    assert [r["record"] for r in rows] == ["year", "month", "day", "paper", "vague"]
    shown = {r["record"]: r["date"] for r in rows}
    assert shown["month"] == "2025-12 (month)" and shown["year"] == "2025 (year)" and shown["day"] == "2025-12-13"
    assert shown["vague"] == 'unknown, reported "last month"'
    assert rows[3]["what"] == "source"


def test_timeline_since_until_keep_overlapping_ranges(run: Run, dated: Path) -> None:
    rows = run("timeline", "--since", "2025-12-14", "-f", "json").json()
    assert [r["record"] for r in rows] == ["year", "month", "paper"]
    rows = run("timeline", "--until", "2025-11", "-f", "json").json()
    assert [r["record"] for r in rows] == ["year"]
    assert run("timeline", "--since", "2025-13").exit_code == 3


def test_timeline_shows_later_status_changes(run: Run, dated: Path) -> None:
    result = run("status", "day", "delivered", "--date", "2026-01-05")
    assert result.exit_code == 0, result.stderr
    rows = run("timeline", "-f", "json").json()
    first = next(r for r in rows if r["record"] == "day")
    assert first["what"] == "concession" and first["status"] == "promised"  # as first recorded
    assert rows[-2]["what"] == "status" and rows[-2]["record"] == "day" and rows[-2]["status"] == "delivered"
    assert rows[-2]["date"] == "2026-01-05" and rows[-1]["record"] == "vague"


def test_timeline_of_one_exchange(run: Run, seeded: Path) -> None:
    rows = run("timeline", "--exchange", "exchange-14-for-belavia", "-f", "json").json()
    concessions = {r["record"] for r in rows if r["what"] == "concession"}
    assert concessions == {"by-promises-release-14-more", "us-eases-belavia-sanctions"}
    assert {r["record"] for r in rows if r["what"] == "source"} <= {"gaze-belarus-example", "san-belarus-frees-123"}


def test_balance_of_an_empty_ledger_says_what_to_do(run: Run, ledger_db: Path) -> None:
    result = run("balance")
    assert result.exit_code == 0 and "ledger add" in result.stdout
    assert run("timeline", "-f", "json").json() == []
