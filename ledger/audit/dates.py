"""Fuzzy dates as the checks read them: built once per distinct stored value, not once per row.

An audit reads hundreds of thousands of dates but only thousands of distinct (text, day, precision)
triples. Each is turned once into a :class:`Dated`: the immutable FuzzyDate with its range, ISO form
and description worked out, so a check compares and prints plain values.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import String, type_coerce

from ledger.audit.registry import Severity
from ledger.domain import FuzzyDate, Precision
from ledger.schemas import fuzzy_from


class Dated(NamedTuple):
    """A stored fuzzy date with what the checks read from it, computed once."""

    date: FuzzyDate
    start: dt.date | None
    end: dt.date | None
    iso: str | None
    shown: str
    day: bool  # day precision: start == end

    @property
    def known(self) -> bool:
        """Whether the source gives any usable date."""
        return self.start is not None


@lru_cache(maxsize=1 << 16)
def dated(text: str | None, value: dt.date | str | None, precision: str | Precision) -> Dated:
    """The date stored as (text, value, precision), as ``schemas.fuzzy_from`` reads it, with its range,
    ISO form and description. ``value`` may be the stored ISO text (a column read with ``day_text``): it is
    parsed here, once per distinct value, instead of once per row by the column type."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    date = fuzzy_from(text, value, precision)
    return Dated(date, date.start, date.end, date.iso(), date.describe(), date.precision is Precision.DAY)


def day_text(column: Any) -> Any:
    """A date or enum column read as the driver returns it, without the column type's per-row conversion:
    the stored text on SQLite, a ``date`` on PostgreSQL; ``dated`` accepts both."""
    return type_coerce(column, String).label(None)


def contradiction(earlier: Dated, later: Dated) -> Severity | None:
    """Error when ``later`` is certainly before ``earlier`` (every day it may stand for is), info when it may
    be (some day is, and not both are day-precision), None otherwise or when either date is unknown."""
    if earlier.start is None or later.start is None or earlier.end is None or later.end is None:
        return None
    if later.end < earlier.start:
        return _ERROR
    if later.start < earlier.end and not (earlier.day and later.day):
        return _INFO
    return None


_ERROR, _INFO = Severity.ERROR, Severity.INFO
