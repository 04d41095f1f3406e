"""Pydantic v2 models for everything that enters the ledger: CLI input and import files.

The same models validate ``ledger add`` options and records in files, so both paths accept exactly
the same values. Unknown fields are errors; counts are strict integers (``True`` and ``"5_000"`` are
not counts); dates are ISO dates of any precision or the words a source used.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)

from ledger.domain import (
    SLUG_PATTERN,
    ClaimRank,
    ConcessionKind,
    FuzzyDate,
    Instrument,
    LinkBasis,
    PartyKind,
    Precision,
    ReleaseForm,
    Status,
)
from ledger.errors import InvalidInput

#: Largest count the ledger stores: JSON numbers stay exact (RFC 8785) up to 2**53 - 1.
MAX_COUNT = 2**53 - 1

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def plain_text(value: str) -> str:
    """Refuse control characters (NUL, escape codes...) and lone surrogates: no database stores them
    alike (PostgreSQL rejects NUL) and no reader wants them. Tabs and newlines are allowed."""
    found = _CONTROL.search(value)
    if found:
        raise ValueError(f"text may not contain the control character U+{ord(found.group()):04X}")
    return value


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), AfterValidator(plain_text)
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000), AfterValidator(plain_text)
]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]
Unit = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), AfterValidator(plain_text)]


class Model(BaseModel):
    """Base for input models: unknown fields are errors, strings are stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_DATE_SHAPE = re.compile(r"^\d{4}(-\d{1,2}(-\d{1,2})?)?$|^\d{4}-\d|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$")


def _date_input(value: Any) -> Any:
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, bool):
        raise ValueError("a date cannot be true or false")
    if isinstance(value, int):
        return {"value": str(value)}
    if isinstance(value, dt.datetime | dt.date):
        raise ValueError("write dates as quoted text, for example '2025-12-13'")
    if isinstance(value, str):
        # Anything shaped like a date must be a real one; other words are kept as reported text.
        return {"value": value} if _DATE_SHAPE.match(value.strip()) else {"text": value}
    return value


class DateIn(Model):
    """A date as reported: ``value`` is ISO at the precision the source allows, ``text`` its words."""

    text: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(plain_text)
        ]
        | None
    ) = None
    value: str | None = None

    @model_validator(mode="after")
    def _parse(self) -> DateIn:
        try:
            _fuzzy(self.value, self.text)
        except InvalidInput as exc:
            raise ValueError(exc.message) from exc
        return self

    def fuzzy(self) -> FuzzyDate:
        """The domain value."""
        return _fuzzy(self.value, self.text)


@functools.lru_cache(maxsize=4096)
def _fuzzy(value: str | None, text: str | None) -> FuzzyDate:
    """``FuzzyDate.parse``, remembered: each date is parsed when validated and again for its columns, and an
    import repeats the same dates (a FuzzyDate is frozen, so one value can serve every record)."""
    return FuzzyDate.parse(value, text=text)


Date = Annotated[DateIn | None, BeforeValidator(_date_input)]


def date_columns(prefix: str, date: DateIn | None) -> dict[str, Any]:
    """The three columns (``_text``, ``_on``, ``_precision``) of a fuzzy date."""
    fuzzy = date.fuzzy() if date is not None else FuzzyDate()
    return {f"{prefix}_text": fuzzy.text, f"{prefix}_on": fuzzy.value, f"{prefix}_precision": fuzzy.precision}


def fuzzy_from(text: str | None, value: dt.date | None, precision: str | Precision) -> FuzzyDate:
    """Rebuild a FuzzyDate from its three stored columns."""
    return FuzzyDate(text=text, value=value, precision=Precision(precision))


class CitationIn(Model):
    """A source backing a record, with the exact quote and where it stands in the source."""

    id: Slug | None = None
    source: Slug
    quote: LongText | None = None
    locator: Text | None = None
    prefix: Text | None = None
    suffix: Text | None = None

    @model_validator(mode="after")
    def _context_needs_quote(self) -> CitationIn:
        if (self.prefix or self.suffix) and not self.quote:
            raise ValueError("a prefix or suffix is context around a quote; give the quote too")
        return self


class AliasIn(Model):
    """Another name of a party, as a source spells it."""

    id: Slug | None = None
    party: Slug | None = None
    name: Text
    source: Slug | None = None
    script: Text | None = None
    note: LongText | None = None
    citations: list[CitationIn] = []


class PartyIn(Model):
    """An actor that gives or receives."""

    id: Slug
    name: Text
    kind: PartyKind
    acts_for: Slug | None = None
    note: LongText | None = None
    aliases: list[AliasIn] = []
    citations: list[CitationIn] = []


class SourceIn(Model):
    """A document that reports facts."""

    id: Slug
    title: Text
    publisher: Text | None = None
    url: Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://\S+$")] | None = None
    published: Date = None
    relays: Slug | None = None
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    length: Count | None = None
    note: LongText | None = None


class ConcessionIn(Model):
    """One act, or stated intent to act, by which a giver grants something to a receiver."""

    id: Slug | None = None
    giver: Slug
    receiver: Slug
    kind: ConcessionKind
    kind_detail: Text | None = None
    summary: Text
    quantity: Count | None = None
    unit: Unit | None = None
    status: Status
    date: Date = None
    due: Date = None
    announced: Date = None
    effective: Date = None
    expires: Date = None
    conditions: LongText | None = None
    renews: Slug | None = None
    instrument: Instrument | None = None
    authority: Text | None = None
    programme: Text | None = None
    instrument_ref: Text | None = None
    release_form: ReleaseForm | None = None
    destination: Text | None = None
    beneficiaries: list[Slug] = []
    note: LongText | None = None
    citations: list[CitationIn] = []

    @model_validator(mode="after")
    def _rules(self) -> ConcessionIn:
        if self.quantity is not None and self.unit is None:
            raise ValueError("a quantity needs a unit (for example: person, aircraft, USD)")
        if self.giver == self.receiver:
            raise ValueError("giver and receiver must be different parties")
        if self.instrument is not None and self.kind is not ConcessionKind.SANCTIONS_RELIEF:
            raise ValueError("an instrument belongs to a sanctions_relief concession")
        if self.release_form is not None and self.kind is not ConcessionKind.PRISONER_RELEASE:
            raise ValueError("a release form belongs to a prisoner_release concession")
        if len(set(self.beneficiaries)) != len(self.beneficiaries):
            raise ValueError("a beneficiary is listed twice")
        return self


class LinkIn(Model):
    """Concessions paired in an exchange: every pair given by different sides is linked."""

    id: Slug | None = None
    exchange: Slug | None = None
    concessions: Annotated[list[Slug], Field(min_length=2)]
    basis: LinkBasis
    reason: LongText | None = None
    citations: list[CitationIn] = []

    @model_validator(mode="after")
    def _rules(self) -> LinkIn:
        if len(set(self.concessions)) != len(self.concessions):
            raise ValueError("a concession is named twice")
        if self.basis is LinkBasis.INFERRED and not self.reason:
            raise ValueError("an inferred link needs a reason (--reason)")
        return self


class ExchangeIn(Model):
    """An exchange and the links that pair its concessions."""

    id: Slug
    title: Text
    summary: LongText | None = None
    links: list[LinkIn] = []
    citations: list[CitationIn] = []


class ReportedTotalIn(Model):
    """An aggregate a source states, such as "156 since November"."""

    id: Slug
    source: Slug
    giver: Slug
    receiver: Slug | None = None
    kind: ConcessionKind | None = None
    unit: Unit
    value: Count
    period_start: Date = None
    period_end: Date = None
    statement: LongText | None = None
    citations: list[CitationIn] = []


class ClaimIn(Model):
    """One value of one attribute of one record, as one source states it."""

    id: Slug | None = None
    record: Slug
    attribute: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,100}$")]
    value: LongText
    source: Slug
    quote: LongText | None = None
    rank: ClaimRank = ClaimRank.NORMAL
    rank_reason: LongText | None = None
    rank_author: Text | None = None


class RankIn(Model):
    """A new rank for an existing claim; preferred and deprecated need a reason."""

    claim: Slug
    rank: ClaimRank
    reason: LongText | None = None

    @model_validator(mode="after")
    def _rules(self) -> RankIn:
        if self.rank is not ClaimRank.NORMAL and not self.reason:
            raise ValueError(f"ranking a claim {self.rank.value} needs a reason (--reason)")
        return self


def _utc_timestamp(value: Any) -> Any:
    """An ISO date or date-time, written back as UTC ``YYYY-MM-DDTHH:MM:SSZ`` (a date means midnight UTC)."""
    if not isinstance(value, str):
        return value
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("use an ISO date or date-time, e.g. 2026-11-29 or 2026-11-29T20:51:10Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class SnapshotIn(Model):
    """A source's snapshot: its text (absent when only the hash may be kept), SHA-256, length, retrieval time."""

    source: Slug
    text: str | None = None
    sha256: Sha256
    length: Count
    retrieved_at: Annotated[str, BeforeValidator(_utc_timestamp)]
    replace: bool = False


class CiteIn(CitationIn):
    """A citation added to an existing record."""

    record: Slug


class LedgerFile(Model):
    """An import file in the seeds format: each list is optional; records are matched by ID."""

    ledger: Literal[1] = 1
    title: Text | None = None
    sources: list[SourceIn] = []
    parties: list[PartyIn] = []
    aliases: list[AliasIn] = []
    concessions: list[ConcessionIn] = []
    exchanges: list[ExchangeIn] = []
    links: list[LinkIn] = []
    totals: list[ReportedTotalIn] = []
    claims: list[ClaimIn] = []
    #: Citations of records by ID (the flat form exports use; records may also nest their own).
    citations: list[CiteIn] = []


class AliasJudgementIn(Model):
    """An analyst's verdict on two names: the same party spelled two ways, or two different parties."""

    name_a: Text
    name_b: Text
    same: bool
    reason: LongText
