"""The add-family commands (party, source, alias, cite, claim, total, exchange): success and refusal paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Run, checksum


def test_each_add_command_writes_a_record(run: Run, small: Path) -> None:
    steps = [
        ("source", "add", "wsj", "--title", "WSJ report", "--publisher", "The Wall Street Journal"),
        ("source", "add", "gaze", "--title", "The Gaze article", "--relays", "wsj", "--published", "2025-12"),
        ("party", "add", "coale", "--name", "John Coale", "--kind", "person", "--acts-for", "us"),
        ("alias", "add", "coale", "John Cole", "--source", "gaze", "--quote", "Trump appointed John Cole"),
        ("cite", "potash", "--source", "gaze", "--quote", "In return, the US lifted sanctions on potash"),
        ("claim", "add", "coale", "name", "John Cole", "--source", "gaze"),
        ("total", "add", "by-156", "--source", "san", "--giver", "by", "--kind", "prisoner_release",
         "--value", "156", "--unit", "person", "--since", "since November", "--quote", "156 since November"),
        ("exchange", "add", "deal", "--title", "123 for potash"),
    ]  # fmt: skip
    for step in steps:
        result = run(*step)
        assert result.exit_code == 0, (step, result.stderr)
    assert run("show", "gaze", "--format", "json").json()["relays"] == "wsj"
    assert run("show", "gaze", "--format", "json").json()["published"]["shown"] == "2025-12 (month)"
    aliases = run("list", "aliases", "--format", "json").json()
    assert [(a["party"], a["name"], a["source"]) for a in aliases] == [("coale", "John Cole", "gaze")]
    potash = run("show", "potash", "--format", "json").json()
    assert [c["source"] for c in potash["citations"]] == ["gaze"]
    totals = run("list", "totals", "--format", "json").json()
    assert totals[0]["value"] == 156 and totals[0]["since"]["text"] == "since November"
    assert run("link", "release", "potash", "--exchange", "deal").exit_code == 0
    assert run("list", "exchanges", "--format", "json").json()[0]["id"] == "deal"


REFUSALS = [
    (("party", "add", "by", "--name", "Belarus again", "--kind", "state"), "already exists"),
    (("party", "add", "x", "--name", "X", "--kind", "planet"), "--kind"),
    (("party", "add", "x", "--name", "X", "--kind", "person", "--acts-for", "bx"), "did you mean: by"),
    (("source", "add", "s2", "--title", "T", "--url", "javascript:alert(1)"), "--url"),
    (("source", "add", "s2", "--title", "T", "--relays", "s2"), "relays"),
    (("source", "add", "s2", "--title", "T", "--published", "2025-02-30"), "not a real date"),
    (("alias", "add", "nobody", "Someone"), "no party with ID 'nobody'"),
    (("cite", "nothing", "--source", "san"), "no record with ID 'nothing'"),
    (("cite", "release", "--source", "san", "--quote", "Belarus released 123 prisoners early Saturday."), "already"),
    (("claim", "add", "release", "quantity", "114", "--source", "nowhere"), "no source with ID 'nowhere'"),
    (("claim", "add", "release", "Quantity!", "114", "--source", "san"), "attribute"),
    (("total", "add", "t", "--source", "san", "--giver", "by", "--value", "-1", "--unit", "person"), "--value"),
    (("total", "add", "t", "--source", "san", "--giver", "by", "--value", "1e3", "--unit", "person"), "--value"),
    (("exchange", "add", "release", "--title", "x"), "already exists"),
    (("link", "release", "nope"), "no concession with ID 'nope'"),
    (("link", "release", "by"), "is a party, not a concession"),
    (("link", "release", "potash", "--basis", "inferred"), "needs a reason"),
    (("unlink", "release", "potash"), "no link between"),
    (("show", "relase"), "did you mean: release"),
]


@pytest.mark.sqlite_only
@pytest.mark.parametrize(("args", "message"), REFUSALS)
def test_refusals_are_clear_and_change_nothing(run: Run, small: Path, args: tuple[str, ...], message: str) -> None:
    before = checksum(small)
    result = run(*args)
    assert result.exit_code == 3, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert checksum(small) == before
