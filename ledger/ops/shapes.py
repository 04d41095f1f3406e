"""How each amendable record type's input fields map to its columns, and reading a record back as input.

An amendment names fields as the record's input model does (``ledger add`` options, import files);
the shape of each type says which column (or fuzzy-date triple, or reference) holds each field.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.domain import RecordType
from ledger.errors import InvalidInput
from ledger.models import Alias, Beneficiary, Claim, Concession, Exchange, Party, Record, ReportedTotal, Source
from ledger.schemas import AliasIn, ClaimIn, ConcessionIn, ExchangeIn, PartyIn, ReportedTotalIn, SourceIn, fuzzy_from


@dataclass(frozen=True)
class Field:
    """One amendable input field: its column (or date prefix) and how its value is stored."""

    name: str
    column: str
    shape: str = "plain"  # plain | date | ref | beneficiaries
    target: type[Record] | None = None  # the record type a reference must name


def _plain(*names: str) -> list[Field]:
    return [Field(n, n) for n in names]


def _dates(*names: str) -> list[Field]:
    return [Field(n, n, "date") for n in names]


def _ref(name: str, target: type[Record]) -> Field:
    return Field(name, f"{name}_id", "ref", target)


@dataclass(frozen=True)
class Shape:
    """An amendable record type: its model class, input model and fields."""

    model: type[Record]
    schema: type[BaseModel]
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        """The field called ``name``, if amendable."""
        return next((f for f in self.fields if f.name == name), None)


SHAPES: dict[RecordType, Shape] = {
    RecordType.PARTY: Shape(Party, PartyIn, (*_plain("name", "kind", "note"), _ref("acts_for", Party))),
    RecordType.ALIAS: Shape(
        Alias, AliasIn, (_ref("party", Party), *_plain("name", "script", "note"), _ref("source", Source))
    ),
    RecordType.SOURCE: Shape(
        Source,
        SourceIn,
        (
            *_plain("title", "publisher", "url", "note"),
            *_dates("published"),
            _ref("relays", Source),
            Field("sha256", "snapshot_sha256"),
            Field("length", "snapshot_length"),
        ),
    ),
    RecordType.CONCESSION: Shape(
        Concession,
        ConcessionIn,
        (
            _ref("giver", Party),
            _ref("receiver", Party),
            *_plain("kind", "kind_detail", "summary", "quantity", "unit", "status", "conditions"),
            *_dates("date", "due", "announced", "effective", "expires"),
            _ref("renews", Concession),
            *_plain("instrument", "authority", "programme", "instrument_ref", "release_form", "destination", "note"),
            Field("beneficiaries", "beneficiaries", "beneficiaries", Party),
        ),
    ),
    RecordType.EXCHANGE: Shape(Exchange, ExchangeIn, tuple(_plain("title", "summary"))),
    RecordType.REPORTED_TOTAL: Shape(
        ReportedTotal,
        ReportedTotalIn,
        (
            _ref("source", Source),
            _ref("giver", Party),
            _ref("receiver", Party),
            *_plain("kind", "unit", "value", "statement"),
            *_dates("period_start", "period_end"),
        ),
    ),
    RecordType.CLAIM: Shape(
        Claim,
        ClaimIn,
        (
            _ref("record", Record),
            *_plain("attribute", "value", "quote", "rank", "rank_reason"),
            _ref("source", Source),
        ),
    ),
}

#: Input fields that are not values of the record itself.
NOT_AMENDABLE = {"id": "an ID never changes", "citations": "add a citation with `ledger cite`"}


def _json_value(value: Any) -> Any:
    if hasattr(value, "value") and not isinstance(value, dt.date):
        return value.value
    return value


def current_input(session: Session, record: Record) -> dict[str, Any]:
    """The record as its input model would describe it now (JSON values, unset fields left out)."""
    shape = shape_of(record)
    values: dict[str, Any] = {"id": record.slug}
    refs = {f.name: getattr(record, f.column) for f in shape.fields if f.shape == "ref"}
    slugs = dict(session.execute(select(Record.id, Record.slug).where(Record.id.in_(set(refs.values())))).all())
    for f in shape.fields:
        if f.shape == "date":
            fuzzy = fuzzy_from(
                getattr(record, f"{f.column}_text"), getattr(record, f"{f.column}_on"),
                getattr(record, f"{f.column}_precision"),
            )  # fmt: skip
            value: Any = {k: v for k, v in {"text": fuzzy.text, "value": fuzzy.iso()}.items() if v is not None}
            value = value or None
        elif f.shape == "ref":
            value = slugs.get(refs[f.name])
        elif f.shape == "beneficiaries":
            value = list(
                session.execute(
                    select(Record.slug)
                    .join(Beneficiary, Beneficiary.party_id == Record.id)
                    .where(Beneficiary.concession_id == record.id)
                    .order_by(Record.slug)
                ).scalars()
            )
        else:
            value = _json_value(getattr(record, f.column))
        if value is not None:
            values[f.name] = value
    return values


def shape_of(record: Record) -> Shape:
    """The shape of an amendable record; InvalidInput for a type that cannot be amended."""
    shape = SHAPES.get(record.type)
    if shape is None:
        raise InvalidInput(
            f"a {record.type.value} cannot be amended",
            hint=f"retract it (ledger retract {record.slug}) and add another",
        )
    return shape
