"""amend, retract, status and history through the real app; rejected corrections change nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Run, checksum


@pytest.fixture
def linked(run: Run, small: Path) -> Path:
    """The small ledger with release and potash linked in one exchange, and a promise."""
    assert run("link", "release", "potash", "--basis", "stated").exit_code == 0
    assert run("add", "--id", "promise", "--giver", "by", "--receiver", "us", "--kind", "prisoner_release",
               "--summary", "Belarus promises 14 more", "--quantity", "14", "--unit", "person",
               "--status", "promised").exit_code == 0  # fmt: skip
    return small


def test_amend_changes_fields_and_history_keeps_old_and_new(run: Run, linked: Path) -> None:
    result = run("amend", "release", "--set", "quantity=150", "--set", "date.value=2025-12-13",
                 "--set", "date.text=early Saturday", "--source", "san", "--quote", "150 were freed",
                 "--reason", "the later report counts 150")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    shown = run("show", "release", "--format", "json").json()
    assert shown["quantity"] == 150
    assert shown["date"]["value"] == "2025-12-13" and shown["date"]["text"] == "early Saturday"
    assert any(c["quote"] == "150 were freed" for c in shown["citations"])
    history = run("history", "release", "--format", "json").json()
    assert [h["op"] for h in history] == ["add_concession", "link", "amend"]
    amend = history[-1]
    assert amend["author"] == "tester" and amend["source"] == "san" and amend["reason"] == "the later report counts 150"
    assert amend["payload"]["changes"]["quantity"] == {"old": 123, "new": 150}
    assert "quantity: 123 -> 150" in amend["changes"]
    table = run("history", "release")
    assert "quantity: 123 -> 150" in table.stdout and "tester" in table.stdout
    for fmt in ("csv", "markdown", "jsonl"):
        assert run("history", "release", "--format", fmt).exit_code == 0
    assert run("rebuild", "--check").exit_code == 0


def test_amend_other_record_types(run: Run, linked: Path) -> None:
    assert run("party", "add", "bialiatski", "--name", "Ales Bialiatski", "--kind", "person").exit_code == 0
    assert run("amend", "by", "--set", "name=Republic of Belarus").exit_code == 0
    assert run("amend", "san", "--set", "published=2025-12", "--set", "publisher=").exit_code == 0
    assert run("amend", "promise", "--set", "beneficiaries=bialiatski", "--set", "note=named later").exit_code == 0
    assert run("amend", "exchange-release", "--set", "title=Prisoners for potash").exit_code == 0
    assert run("show", "by", "--format", "json").json()["name"] == "Republic of Belarus"
    source = run("show", "san", "--format", "json").json()
    assert source["published"]["value"] == "2025-12" and source["publisher"] is None
    promise = run("show", "promise", "--format", "json").json()
    assert [b["id"] for b in promise["beneficiaries"]] == ["bialiatski"] and promise["note"] == "named later"
    assert run("amend", "promise", "--set", "beneficiaries=").exit_code == 0
    assert run("show", "promise", "--format", "json").json()["beneficiaries"] == []
    assert run("rebuild", "--check").exit_code == 0


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--set", "quantity=many"), "quantity: Input should be a valid integer (got 'many')"),
        (("--set", "quantity=-5"), "quantity"),
        (("--set", "unit="), "a quantity needs a unit"),
        (("--set", "receiver=by"), "giver and receiver must be different parties"),
        (("--set", "giver=nobody"), "giver: no party with ID 'nobody'"),
        (("--set", "giver=san"), "'san' is a source, not a party"),
        (("--set", "colour=red"), "colour: a concession has no such field; amendable fields:"),
        (("--set", "id=other"), "id: an ID never changes"),
        (("--set", "status=considered"), "cannot go from delivered to considered"),
        (("--set", "quantity=123"), "nothing to amend"),
        (("--set", "quantity"), "is not field=value"),
        (("--set", "quantity=150", "--source", "nowhere"), "citations[0].source: no source with ID 'nowhere'"),
        (("--set", "date=2025-13"), "date"),
    ],
)
def test_rejected_amendments_leave_the_file_unchanged(
    run: Run, linked: Path, args: tuple[str, ...], message: str
) -> None:
    before = checksum(linked)
    result = run("amend", "release", *args)
    assert result.exit_code == 3, result.stdout
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert checksum(linked) == before


@pytest.mark.sqlite_only
def test_links_and_citations_are_not_amended(run: Run, linked: Path) -> None:
    before = checksum(linked)
    result = run("amend", "link-release--potash", "--set", "reason=x")
    assert result.exit_code == 3 and "a link cannot be amended" in result.stderr
    missing = run("amend", "relase", "--set", "quantity=1")
    assert missing.exit_code == 3 and "did you mean: release" in missing.stderr
    assert checksum(linked) == before


def test_status_moves_along_allowed_transitions_with_date_and_source(run: Run, linked: Path) -> None:
    result = run("status", "promise", "in_progress", "--date", "2025-12", "--date-text", "this month")
    assert result.exit_code == 0, result.stderr
    assert run("status", "promise", "delivered", "--date", "2025-12-20", "--source", "san",
               "--quote", "the 14 were freed").exit_code == 0  # fmt: skip
    shown = run("show", "promise", "--format", "json").json()
    assert shown["status"] == "delivered"
    steps = [(h["status"], h["date"]["value"], h["source"]) for h in shown["status_history"]]
    assert steps == [("promised", None, None), ("in_progress", "2025-12", None), ("delivered", "2025-12-20", "san")]
    history = run("history", "promise", "--format", "json").json()
    assert [h["changes"] for h in history[1:]] == [
        "status: promised -> in_progress on 2025-12 'this month'",
        "status: in_progress -> delivered on 2025-12-20",
    ]
    assert run("rebuild", "--check").exit_code == 0


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("id", "status", "allowed"),
    [
        ("release", "considered", "none (it is final)"),
        ("promise", "considered", "delivered, in_progress, reneged, withdrawn"),
        ("promise", "offered", "delivered, in_progress, reneged, withdrawn"),
        ("promise", "declined", "delivered, in_progress, reneged, withdrawn"),
    ],
)
def test_illegal_status_transitions_name_the_allowed_next_states(
    run: Run, linked: Path, id: str, status: str, allowed: str
) -> None:
    before = checksum(linked)
    result = run("status", id, status)
    assert result.exit_code == 3
    assert f"allowed next states: {allowed}" in result.stderr
    assert checksum(linked) == before


@pytest.mark.sqlite_only
def test_status_refuses_a_non_concession_a_bad_status_and_the_same_status(run: Run, linked: Path) -> None:
    before = checksum(linked)
    assert "'by' is a party, not a concession" in run("status", "by", "delivered").stderr
    assert run("status", "promise", "kept").exit_code == 2
    assert "already promised" in run("status", "promise", "promised").stderr
    assert "--quote needs --source" in run("status", "promise", "delivered", "--quote", "x").stderr
    assert checksum(linked) == before


def test_retracting_a_concession_keeps_it_on_file_and_unpairs_it(run: Run, linked: Path) -> None:
    result = run("retract", "release", "--reason", "the report was withdrawn")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.split() == ["release", "link-release--potash"]
    assert "release" not in [r["id"] for r in run("list", "--format", "json").json()]
    everything = {r["id"]: r for r in run("list", "--all", "--format", "json").json()}
    assert everything["release"]["retracted"] is True and everything["release"]["exchanges"] == []
    assert everything["potash"]["counterparts"] == []
    shown = run("show", "release", "--format", "json").json()
    assert shown["retracted"] is True and shown["links"][0]["retracted"] is True
    history = run("history", "link-release--potash", "--format", "json").json()
    assert history[-1]["op"] == "retract" and history[-1]["reason"] == "the report was withdrawn"
    again = run("retract", "release", "--reason", "again")
    assert again.exit_code == 3 and "already retracted" in again.stderr
    assert run("status", "release", "delivered").exit_code == 3
    assert run("rebuild", "--check").exit_code == 0


@pytest.mark.sqlite_only
def test_retracted_records_leave_the_views(run: Run, linked: Path) -> None:
    assert run("retract", "release", "--reason", "withdrawn").exit_code == 0
    with sqlite3.connect(linked) as connection:
        ids = {row[0] for row in connection.execute("SELECT id FROM v_concessions")}
        links = connection.execute("SELECT count(*) FROM v_links").fetchone()[0]
    assert ids == {"potash", "promise"} and links == 0


@pytest.mark.sqlite_only
def test_a_party_still_in_use_cannot_be_retracted(run: Run, linked: Path) -> None:
    before = checksum(linked)
    result = run("retract", "by", "--reason", "duplicate")
    assert result.exit_code == 3 and "still used by 3 live record(s): potash, promise, release" in result.stderr
    assert run("retract", "promise", "--reason", "x", "--reason", "").exit_code == 3
    assert checksum(linked) == before
    assert run("retract", "lukashenko", "--reason", "not needed").exit_code == 0
    assert "lukashenko" not in [p["id"] for p in run("list", "parties", "--format", "json").json()]
    assert "lukashenko" in [p["id"] for p in run("list", "parties", "--all", "--format", "json").json()]


def test_history_of_an_unknown_id_suggests_the_closest(run: Run, linked: Path) -> None:
    result = run("history", "promis")
    assert result.exit_code == 3 and "did you mean: promise" in result.stderr


def test_rebuild_needs_check(run: Run, linked: Path) -> None:
    assert run("rebuild").exit_code == 2


def test_amending_part_of_a_date_keeps_the_other_part(run: Run, linked: Path) -> None:
    assert run("amend", "release", "--set", "date.value=2025-12-13").exit_code == 0
    date = run("show", "release", "--format", "json").json()["date"]
    assert (date["value"], date["text"]) == ("2025-12-13", "early Saturday")
    assert run("amend", "release", "--set", "date.text=").exit_code == 0
    date = run("show", "release", "--format", "json").json()["date"]
    assert (date["value"], date["text"]) == ("2025-12-13", None)


def test_a_citation_already_on_the_record_is_not_added_twice(run: Run, linked: Path) -> None:
    quote = "Belarus released 123 prisoners early Saturday."
    assert run("amend", "release", "--set", "quantity=124", "--source", "san", "--quote", quote).exit_code == 0
    amend = run("history", "release", "--format", "json").json()[-1]
    assert "citations" not in amend["payload"] and amend["source"] == "san"
    assert len(run("show", "release", "--format", "json").json()["citations"]) == 1
