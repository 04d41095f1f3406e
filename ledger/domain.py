"""The domain's vocabulary and rules, in pure Python: no database, no CLI, no I/O."""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from ledger.errors import InvalidInput


class PartyKind(StrEnum):
    """What sort of actor a party is."""

    STATE = "state"
    GOVERNMENT_BODY = "government_body"
    PERSON = "person"
    COMPANY = "company"
    ORGANISATION = "organisation"


class ConcessionKind(StrEnum):
    """The closed vocabulary of concession kinds (extended only by migration)."""

    PRISONER_RELEASE = "prisoner_release"
    SANCTIONS_RELIEF = "sanctions_relief"
    TRADE_ACCESS = "trade_access"
    TECHNICAL_SERVICE = "technical_service"
    AID = "aid"
    DIPLOMATIC_ACCESS = "diplomatic_access"
    MEDIATION = "mediation"
    OTHER = "other"


#: The CAMEO event code each kind maps to, so exports line up with GDELT/ICEWS data.
CAMEO_CODES: dict[ConcessionKind, str] = {
    ConcessionKind.PRISONER_RELEASE: "0841",
    ConcessionKind.SANCTIONS_RELIEF: "085",
    ConcessionKind.TRADE_ACCESS: "061",
    ConcessionKind.TECHNICAL_SERVICE: "061",
    ConcessionKind.AID: "07",
    ConcessionKind.DIPLOMATIC_ACCESS: "036",
    ConcessionKind.MEDIATION: "045",
    ConcessionKind.OTHER: "",
}


class Status(StrEnum):
    """Where a concession stands."""

    CONSIDERED = "considered"
    OFFERED = "offered"
    REQUESTED = "requested"
    PROMISED = "promised"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    RENEGED = "reneged"


_S = Status
#: Allowed next states. A source may report a later stage directly, so forward jumps are allowed;
#: going back (delivered -> considered) or leaving a terminal state is not.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    _S.CONSIDERED: frozenset(
        {_S.OFFERED, _S.REQUESTED, _S.PROMISED, _S.IN_PROGRESS, _S.DELIVERED, _S.DECLINED, _S.WITHDRAWN}
    ),
    _S.OFFERED: frozenset({_S.PROMISED, _S.IN_PROGRESS, _S.DELIVERED, _S.DECLINED, _S.WITHDRAWN}),
    _S.REQUESTED: frozenset({_S.OFFERED, _S.PROMISED, _S.IN_PROGRESS, _S.DELIVERED, _S.DECLINED, _S.WITHDRAWN}),
    _S.PROMISED: frozenset({_S.IN_PROGRESS, _S.DELIVERED, _S.RENEGED, _S.WITHDRAWN}),
    _S.IN_PROGRESS: frozenset({_S.DELIVERED, _S.RENEGED, _S.WITHDRAWN}),
    _S.DELIVERED: frozenset(),
    _S.DECLINED: frozenset(),
    _S.WITHDRAWN: frozenset(),
    _S.RENEGED: frozenset(),
}

#: Statuses that are a commitment not yet fulfilled.
OPEN_PROMISES = frozenset({_S.OFFERED, _S.PROMISED, _S.IN_PROGRESS})


def check_transition(old: Status, new: Status) -> None:
    """Raise InvalidInput unless a concession may move from ``old`` to ``new``."""
    if new == old or new in TRANSITIONS[old]:
        return
    allowed = ", ".join(sorted(TRANSITIONS[old])) or "none (it is final)"
    raise InvalidInput(f"a concession cannot go from {old} to {new}; allowed next states: {allowed}")


class Precision(StrEnum):
    """How much of a date a source actually gives."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


class LinkBasis(StrEnum):
    """Why two concessions are paired."""

    STATED = "stated"
    INFERRED = "inferred"
    DENIED = "denied"


class ClaimRank(StrEnum):
    """Which of several sourced values the ledger uses."""

    PREFERRED = "preferred"
    NORMAL = "normal"
    DEPRECATED = "deprecated"


class Instrument(StrEnum):
    """The legal instrument of a sanctions relief."""

    DELISTING = "delisting"
    GENERAL_LICENCE = "general_licence"
    SPECIFIC_LICENCE = "specific_licence"
    WAIVER = "waiver"
    SUSPENSION = "suspension"
    EXEMPTION = "exemption"


class ReleaseForm(StrEnum):
    """How detained people were let go."""

    PARDON = "pardon"
    RELEASE = "release"
    TRANSFER = "transfer"
    EXCHANGE = "exchange"
    EXPULSION = "expulsion"


class RecordType(StrEnum):
    """Every kind of record that has a stable ID and can be cited, claimed about or retracted."""

    PARTY = "party"
    ALIAS = "alias"
    SOURCE = "source"
    CONCESSION = "concession"
    EXCHANGE = "exchange"
    LINK = "link"
    CITATION = "citation"
    CLAIM = "claim"
    REPORTED_TOTAL = "reported_total"


_ISO_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, order=False)
class FuzzyDate:
    """A date as a source gives it: the reported text, the normalised start and its precision."""

    text: str | None = None
    value: dt.date | None = None
    precision: Precision = Precision.UNKNOWN

    def __post_init__(self) -> None:
        if (self.value is None) != (self.precision is Precision.UNKNOWN):
            raise InvalidInput("a date needs a value exactly when its precision is day, month or year")
        if self.value is not None:
            start = _start_of(self.value, self.precision)
            if start != self.value:
                raise InvalidInput(f"a {self.precision}-precision date must start its period, not {self.value}")

    @classmethod
    def parse(cls, value: str | None, *, text: str | None = None) -> FuzzyDate:
        """Read an ISO date of any precision (``2025``, ``2025-12``, ``2025-12-13``) or none."""
        if value is None or value.strip() == "":
            return cls(text=text)
        match = _ISO_PARTIAL.match(value.strip())
        if not match:
            raise InvalidInput(
                f"{value!r} is not a date; use YYYY-MM-DD, YYYY-MM or YYYY (put other wording in the date text)"
            )
        year, month, day = (int(g) if g else None for g in match.groups())
        assert year is not None
        try:
            if day is not None and month is not None:
                return cls(text, dt.date(year, month, day), Precision.DAY)
            if month is not None:
                return cls(text, dt.date(year, month, 1), Precision.MONTH)
            return cls(text, dt.date(year, 1, 1), Precision.YEAR)
        except ValueError as exc:
            raise InvalidInput(f"{value!r} is not a real date ({exc})") from exc

    @property
    def known(self) -> bool:
        """Whether the source gives any usable date."""
        return self.value is not None

    @property
    def start(self) -> dt.date | None:
        """First day the date may stand for."""
        return self.value

    @property
    def end(self) -> dt.date | None:
        """Last day the date may stand for."""
        if self.value is None:
            return None
        if self.precision is Precision.DAY:
            return self.value
        if self.precision is Precision.MONTH:
            last = calendar.monthrange(self.value.year, self.value.month)[1]
            return self.value.replace(day=last)
        return self.value.replace(month=12, day=31)

    def iso(self) -> str | None:
        """The value written to its precision: ``2025``, ``2025-12`` or ``2025-12-13``."""
        if self.value is None:
            return None
        if self.precision is Precision.YEAR:
            return f"{self.value.year:04d}"
        if self.precision is Precision.MONTH:
            return f"{self.value.year:04d}-{self.value.month:02d}"
        return self.value.isoformat()

    def certainly_before(self, other: FuzzyDate) -> bool:
        """True when every day this date may stand for is before every day of ``other``."""
        return self.end is not None and other.start is not None and self.end < other.start

    def possibly_before(self, other: FuzzyDate) -> bool:
        """True when some day of this date is before some day of ``other`` (or either is unknown)."""
        if self.start is None or other.end is None:
            return True
        return self.start < other.end

    def sort_key(self) -> tuple[int, dt.date, dt.date]:
        """Order known dates by range (start, then end); unknown dates last."""
        if self.start is None or self.end is None:
            return (1, dt.date.max, dt.date.max)
        return (0, self.start, self.end)

    def describe(self) -> str:
        """Human form: ``2025-12 (month)`` or ``unknown, reported 'last month'``."""
        if self.value is None:
            return f'unknown, reported "{self.text}"' if self.text else "unknown"
        shown = self.iso() or ""
        if self.precision is not Precision.DAY:
            shown += f" ({self.precision})"
        if self.text and self.text != self.iso():
            shown += f', reported "{self.text}"'
        return shown


def _start_of(value: dt.date, precision: Precision) -> dt.date:
    if precision is Precision.MONTH:
        return value.replace(day=1)
    if precision is Precision.YEAR:
        return value.replace(month=1, day=1)
    return value


@dataclass(frozen=True)
class Quantity:
    """A non-negative whole amount with its unit (``123 person``, ``6000000000 USD``)."""

    amount: int | None
    unit: str | None

    def __post_init__(self) -> None:
        if self.amount is not None and self.amount < 0:
            raise InvalidInput(f"a quantity cannot be negative (got {self.amount})")
        if self.amount is not None and not self.unit:
            raise InvalidInput("a quantity needs a unit (for example: person, aircraft, USD)")

    def describe(self) -> str:
        """``123 person`` or ``unknown``."""
        return "unknown" if self.amount is None else f"{self.amount} {self.unit}"


_SLUG_DROP = re.compile(r"[^a-z0-9]+")
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,127}$"


def slugify(text: str, *, max_length: int = 60) -> str:
    """A readable, stable ID from free text: ``Belarus frees 123`` -> ``belarus-frees-123``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = _SLUG_DROP.sub("-", ascii_text).strip("-")
    return slug[:max_length].rstrip("-") or "record"


def closest(name: str, candidates: list[str], *, limit: int = 3) -> list[str]:
    """The existing IDs that look most like ``name``, for 'did you mean' messages."""
    return difflib.get_close_matches(name, candidates, n=limit, cutoff=0.5)
