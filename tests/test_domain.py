"""Domain rules: status transitions, fuzzy dates, quantities, IDs."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain import TRANSITIONS, FuzzyDate, Precision, Quantity, Status, check_transition, closest, slugify
from ledger.errors import InvalidInput


def test_forward_transitions_are_allowed() -> None:
    check_transition(Status.CONSIDERED, Status.OFFERED)
    check_transition(Status.PROMISED, Status.DELIVERED)
    check_transition(Status.PROMISED, Status.RENEGED)


def test_going_back_names_the_allowed_states() -> None:
    with pytest.raises(InvalidInput, match="cannot go from delivered to considered.*none"):
        check_transition(Status.DELIVERED, Status.CONSIDERED)
    with pytest.raises(InvalidInput, match="allowed next states: delivered, in_progress, reneged, withdrawn"):
        check_transition(Status.PROMISED, Status.OFFERED)


def test_terminal_states_have_no_way_out() -> None:
    for status in (Status.DELIVERED, Status.DECLINED, Status.WITHDRAWN, Status.RENEGED):
        assert TRANSITIONS[status] == frozenset()


@pytest.mark.parametrize(
    ("text", "precision", "start", "end"),
    [
        ("2025-12-13", Precision.DAY, dt.date(2025, 12, 13), dt.date(2025, 12, 13)),
        ("2025-12", Precision.MONTH, dt.date(2025, 12, 1), dt.date(2025, 12, 31)),
        ("2024-02", Precision.MONTH, dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2025", Precision.YEAR, dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
    ],
)
def test_precision_makes_a_range(text: str, precision: Precision, start: dt.date, end: dt.date) -> None:
    date = FuzzyDate.parse(text)
    assert (date.precision, date.start, date.end, date.iso()) == (precision, start, end, text)


@pytest.mark.parametrize("bad", ["2023-02-29", "2025-13", "2025-00-10", "13/12/2025", "last month"])
def test_invalid_dates_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        FuzzyDate.parse(bad)


def test_unknown_date_keeps_the_words() -> None:
    date = FuzzyDate.parse(None, text="early Saturday")
    assert not date.known
    assert date.describe() == 'unknown, reported "early Saturday"'
    assert FuzzyDate.parse("2025-12", text="last month").describe() == '2025-12 (month), reported "last month"'


def test_month_precision_is_only_possibly_before_a_day_inside_it() -> None:
    december, mid = FuzzyDate.parse("2025-12"), FuzzyDate.parse("2025-12-13")
    assert not december.certainly_before(mid)
    assert december.possibly_before(mid)
    assert FuzzyDate.parse("2025-11").certainly_before(mid)


dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


@given(dates, st.sampled_from(["day", "month", "year"]))
def test_parse_of_iso_round_trips(day: dt.date, precision: str) -> None:
    text = {"day": day.isoformat(), "month": day.isoformat()[:7], "year": day.isoformat()[:4]}[precision]
    parsed = FuzzyDate.parse(text)
    assert parsed.iso() == text
    assert parsed.start is not None and parsed.end is not None
    assert parsed.start <= day <= parsed.end


@given(dates, dates)
def test_certainly_before_implies_possibly_before_and_never_both_ways(a: dt.date, b: dt.date) -> None:
    x, y = FuzzyDate.parse(a.isoformat()[:7]), FuzzyDate.parse(b.isoformat())
    if x.certainly_before(y):
        assert x.possibly_before(y)
        assert not y.certainly_before(x)


@given(st.lists(dates, min_size=2, max_size=8))
def test_sort_key_orders_by_range_and_puts_unknown_last(days: list[dt.date]) -> None:
    items = [FuzzyDate.parse(d.isoformat()) for d in days] + [FuzzyDate(text="someday")]
    ordered = sorted(items, key=FuzzyDate.sort_key)
    assert ordered[-1].text == "someday"
    starts = [d.start for d in ordered[:-1]]
    assert starts == sorted(starts)  # type: ignore[type-var]


def test_quantity_rules() -> None:
    assert Quantity(123, "person").describe() == "123 person"
    assert Quantity(None, None).describe() == "unknown"
    with pytest.raises(InvalidInput, match="negative"):
        Quantity(-1, "person")
    with pytest.raises(InvalidInput, match="unit"):
        Quantity(5, None)


def test_slugs_and_suggestions() -> None:
    assert slugify("Belarus releases 123 prisoners!") == "belarus-releases-123-prisoners"
    assert slugify("Łukaszenka — Minsk") == "ukaszenka-minsk"
    assert slugify("???") == "record"
    assert closest("belrus", ["by", "belarus", "belavia", "us"])[0] == "belarus"
