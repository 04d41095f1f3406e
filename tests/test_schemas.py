"""Input validation: strict where a coercion would hide a mistake."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ledger.schemas import MAX_COUNT, ConcessionIn, LedgerFile, LinkIn, SourceIn

BASE: dict[str, Any] = {
    "giver": "by",
    "receiver": "us",
    "kind": "prisoner_release",
    "summary": "x",
    "status": "delivered",
}


def errors(**changes: Any) -> list[str]:
    try:
        ConcessionIn.model_validate({**BASE, **changes})
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    return []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"quantity": True, "unit": "person"}, "quantity: Input should be a valid integer"),
        ({"quantity": "5_000", "unit": "person"}, "quantity: Input should be a valid integer"),
        ({"quantity": 1.5, "unit": "person"}, "quantity: Input should be a valid integer"),
        ({"quantity": -3, "unit": "person"}, "quantity: Input should be greater than or equal to 0"),
        ({"quantity": MAX_COUNT + 1, "unit": "person"}, "quantity: Input should be less than or equal to"),
        ({"quantity": 5}, "a quantity needs a unit"),
        ({"date": "2023-02-29"}, "date: Value error, '2023-02-29' is not a real date"),
        ({"date": "12/13/2025"}, "date: Value error, '12/13/2025' is not a date"),
        ({"kind": "bribe"}, "kind: Input should be 'prisoner_release', 'sanctions_relief'"),
        ({"status": "done"}, "status: Input should be 'considered'"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"receiver": "by"}, "giver and receiver must be different"),
        ({"instrument": "waiver"}, "an instrument belongs to a sanctions_relief"),
        ({"id": "Not A Slug"}, "id: String should match pattern"),
        ({"summary": "   "}, "summary: String should have at least 1 character"),
    ],
)
def test_refused(changes: dict[str, Any], expected: str) -> None:
    found = errors(**changes)
    assert any(expected in e for e in found), found


def test_dates_keep_words_and_values() -> None:
    concession = ConcessionIn.model_validate({**BASE, "date": "early Saturday", "due": "2026-01"})
    assert concession.date is not None and concession.date.text == "early Saturday"
    assert concession.due is not None and concession.due.fuzzy().precision == "month"
    year = ConcessionIn.model_validate({**BASE, "date": 2025})
    assert year.date is not None and year.date.value == "2025"


def test_inferred_link_needs_a_reason() -> None:
    with pytest.raises(ValidationError, match="needs a reason"):
        LinkIn.model_validate({"concessions": ["a", "b"], "basis": "inferred"})
    with pytest.raises(ValidationError, match="at least 2"):
        LinkIn.model_validate({"concessions": ["a"], "basis": "stated"})


def test_source_url_and_hash_are_checked() -> None:
    with pytest.raises(ValidationError, match="url"):
        SourceIn.model_validate({"id": "s", "title": "t", "url": "javascript:alert(1)"})
    with pytest.raises(ValidationError, match="sha256"):
        SourceIn.model_validate({"id": "s", "title": "t", "sha256": "abc"})


def test_file_format_version_is_checked() -> None:
    with pytest.raises(ValidationError, match="ledger"):
        LedgerFile.model_validate({"ledger": 2})
