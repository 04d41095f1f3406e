"""What the streaming import writes for one record: its ID, references, journal payload and table rows.

Each function here mirrors, for one record type, the ``plan_*`` function of ``ledger.ops.add`` (the
journal payload, built with the same ``_payload``) and its projector (the rows), so a streamed record
is journalled and projected exactly as the record-by-record import writes it; ``ledger rebuild``
replays either journal into the same tables. Links are planned in ``ledger.ops.bulk_links``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter
from sqlalchemy.orm import Session

from ledger.domain import LinkBasis, RecordType
from ledger.models import (
    Alias,
    Base,
    Beneficiary,
    Citation,
    Claim,
    Concession,
    Exchange,
    ExchangeMember,
    ExchangeSide,
    Link,
    Party,
    ReportedTotal,
    Source,
    StatusChange,
)
from ledger.ops.add import (
    _payload,
    alias_slug,
    citation_slug,
    plan_alias,
    plan_claim,
    plan_concession,
    plan_exchange,
    plan_party,
    plan_source,
    plan_total,
)
from ledger.ops.base import Planned
from ledger.ops.load import claim_slug, concession_slug
from ledger.schemas import (
    AliasIn,
    CiteIn,
    ClaimIn,
    ConcessionIn,
    ExchangeIn,
    LinkIn,
    PartyIn,
    ReportedTotalIn,
    SourceIn,
    date_columns,
)

#: The JSONL ``type`` of every record the streaming import takes, and the model that validates it.
MODELS: dict[str, type[BaseModel]] = {
    "source": SourceIn, "party": PartyIn, "alias": AliasIn, "concession": ConcessionIn, "exchange": ExchangeIn,
    "link": LinkIn, "total": ReportedTotalIn, "claim": ClaimIn, "citation": CiteIn,
}  # fmt: skip
ADAPTERS: dict[str, TypeAdapter[Any]] = {kind: TypeAdapter(model) for kind, model in MODELS.items()}
OP = {
    "source": "add_source", "party": "add_party", "alias": "add_alias", "concession": "add_concession",
    "exchange": "add_exchange", "link": "link", "total": "add_total", "claim": "add_claim", "citation": "add_citation",
}  # fmt: skip
#: The record type of the record each JSONL type creates (a link line journals against its exchange).
RECORD_TYPE = {
    "source": RecordType.SOURCE, "party": RecordType.PARTY, "alias": RecordType.ALIAS,
    "concession": RecordType.CONCESSION, "exchange": RecordType.EXCHANGE, "link": RecordType.EXCHANGE,
    "total": RecordType.REPORTED_TOTAL, "claim": RecordType.CLAIM, "citation": RecordType.CITATION,
}  # fmt: skip
#: How an existing record of each type is compared (and amended) by the record-by-record importer.
PLAN: dict[str, Callable[[Session, Any], Planned]] = {
    "source": plan_source, "party": plan_party, "alias": plan_alias, "concession": plan_concession,
    "exchange": plan_exchange, "total": plan_total, "claim": plan_claim,
}  # fmt: skip
#: Types whose explicit IDs must be unique within one file (as the record-by-record importer checks).
UNIQUE_IDS = frozenset({"source", "party", "concession", "exchange", "total"})
#: Tables in the order their rows are inserted (every foreign key points to an earlier table or row).
TABLE_ORDER: tuple[type[Base], ...] = (
    Source, Party, Alias, Concession, Beneficiary, StatusChange, Exchange, ExchangeSide, ExchangeMember, Link,
    ReportedTotal, Claim, Citation,
)  # fmt: skip
_CONCESSION_PLAIN = (
    "kind_detail", "summary", "quantity", "unit", "conditions", "authority", "programme", "instrument_ref",
    "destination", "note", "instrument", "release_form",
)  # fmt: skip
_CONCESSION_DATES = ("date", "due", "announced", "effective", "expires")


@dataclass
class Item:
    """One queued record: where it stands in the file, its ID and its validated data."""

    line: int
    kind: str
    slug: str
    data: Any
    prefix: str = ""  # where in the line, for messages (an exchange's inline link: ``links[0].``)
    payload: dict[str, Any] | None = None  # built when the record is new (a link's when it is planned)
    refs: list[tuple[str, str, str]] = field(default_factory=list)  # references(kind, data), once
    made: list[tuple[str, RecordType]] = field(default_factory=list)  # created(item), once planned

    @property
    def unique(self) -> bool:
        """Whether the file gave this ID explicitly on a type whose IDs must not repeat in one file."""
        return self.kind in UNIQUE_IDS and self.data.id is not None


def slug_of(kind: str, data: Any) -> str:
    """The ID the record gets (given, or derived as the record-by-record importer derives it)."""
    if kind == "concession":
        return concession_slug(data)
    if kind == "claim":
        return claim_slug(data)
    if kind == "alias":
        return str(data.id or alias_slug(data.party or "", data.name))
    if kind == "citation":
        return str(data.id or citation_slug(data.record, data.model_dump(exclude={"record"})))
    if kind == "link":
        return ""
    return str(data.id)


def problems_of(kind: str, slug: str, data: Any) -> list[str]:
    """Problems the plan_* function finds that are not references: ``field: message``."""
    found = []
    if kind == "source" and data.relays == slug:
        found.append("relays: a source cannot relay itself")
    if kind == "alias" and data.party is None:
        found.append("party: an alias needs the party it names (party)")
    if kind == "party":
        taken: set[str] = set()
        for i, alias in enumerate(data.aliases):
            if alias.party not in (None, slug):
                found.append(f"aliases[{i}].party: an inline alias belongs to {slug}")
            name = alias.id or alias_slug(slug, alias.name)
            if name in taken:
                found.append(f"aliases[{i}]: alias {alias.name!r} is given twice")
            taken.add(name)
    if kind not in ("citation", "claim", "source") and len(data.citations) > 1:
        cited = [c.id or citation_slug(slug, c) for c in data.citations]
        if len(set(cited)) != len(cited):
            found.append("citations: the same citation (source, quote, locator) is given twice")
    return found


#: Each type's fields that name one record, and the record type it must be.
_SINGLE_REFERENCES = {
    "source": (("relays", "source"),), "party": (("acts_for", "party"),),
    "alias": (("party", "party"), ("source", "source")),
    "concession": (("giver", "party"), ("receiver", "party"), ("renews", "concession")),
    "total": (("source", "source"), ("giver", "party"), ("receiver", "party")),
    "claim": (("record", "record"), ("source", "source")), "citation": (("record", "record"), ("source", "source")),
}  # fmt: skip
#: Each type's fields that list records, and the record type each must be.
_LIST_REFERENCES = {"concession": (("beneficiaries", "party"),), "link": (("concessions", "concession"),)}


def references(kind: str, data: Any) -> Iterator[tuple[str, str, str]]:
    """(field, ID, record type it must be) for every reference of a record; ``record`` means any type."""
    for name, expected in _SINGLE_REFERENCES.get(kind, ()):
        value = getattr(data, name)
        if value is not None and not (kind == "source" and value == data.id):
            yield name, value, expected
    for list_name, expected in _LIST_REFERENCES.get(kind, ()):
        for i, value in enumerate(getattr(data, list_name)):
            yield f"{list_name}[{i}]", value, expected
    yield from _cited(kind, data, "")
    for i, alias in enumerate(data.aliases if kind == "party" else ()):
        if alias.source is not None:
            yield f"aliases[{i}].source", alias.source, "source"
        yield from _cited("alias", alias, f"aliases[{i}].")


def _cited(kind: str, data: Any, prefix: str) -> Iterator[tuple[str, str, str]]:
    if kind in ("citation", "claim", "source"):
        return
    for i, citation in enumerate(data.citations):
        yield f"{prefix}citations[{i}].source", citation.source, "source"


def cited(record: str, citations: list[Any]) -> list[dict[str, Any]]:
    """Citation entries of a payload, as ``_check_citations`` builds them."""
    out = []
    for citation in citations:
        entry = citation.model_dump(mode="json", exclude_none=True)
        entry["id"] = citation.id or citation_slug(record, entry)  # the same fields, without a second dump
        out.append(entry)
    return out


def payload_of(kind: str, slug: str, data: Any) -> dict[str, Any]:
    """The journal payload plan_* builds for this new record."""
    if kind == "citation":
        entry = data.model_dump(mode="json", exclude_none=True, exclude={"record"})
        entry["id"] = slug
        return {"record": data.record, **entry}
    if kind == "claim":
        return _payload(data, slug, [])
    if kind == "source":
        return _payload(data, slug, [])
    payload = _payload(data, slug, cited(slug, data.citations))
    if kind == "exchange":
        payload.pop("links", None)
    if kind == "party" and data.aliases:
        payload["aliases"] = [_inline_alias(slug, alias) for alias in data.aliases]
    return payload


def _inline_alias(party: str, alias: AliasIn) -> dict[str, Any]:
    alias = alias.model_copy(update={"party": party})
    slug = alias.id or alias_slug(party, alias.name)
    entry = _payload(alias, slug, cited(slug, alias.citations))
    entry.pop("party")
    return entry


def created(item: Item) -> Iterator[tuple[str, RecordType]]:
    """(ID, record type) of every ``records`` row a new record makes, in the projector's order."""
    payload = item.payload
    assert payload is not None
    if item.kind == "link":
        if "new_exchange" in payload:
            yield payload["exchange"], RecordType.EXCHANGE
        for link in payload["links"]:
            yield link["id"], RecordType.LINK
            yield from ((c["id"], RecordType.CITATION) for c in link.get("citations", []))
        return
    yield item.slug, RecordType(RECORD_TYPE[item.kind])
    yield from ((c["id"], RecordType.CITATION) for c in payload.get("citations", []))
    for alias in payload.get("aliases", []):
        yield alias["id"], RecordType.ALIAS
        yield from ((c["id"], RecordType.CITATION) for c in alias.get("citations", []))


Rows = dict[type[Base], list[dict[str, Any]]]


def add_rows(rows: Rows, item: Item, seq: int, ids: dict[str, int]) -> None:
    """Append the rows the projector of this new record (not a link) writes, by table."""
    data, payload, key = item.data, item.payload, ids.get(item.slug, 0)
    assert payload is not None
    kind = item.kind
    if kind == "source":
        rows[Source].append({
            "id": key, "title": data.title, "publisher": data.publisher, "url": data.url,
            "relays_id": ids[data.relays] if data.relays else None, "snapshot_sha256": data.sha256,
            "snapshot_length": data.length, "note": data.note, "snapshot_text": None, "retrieved_at": None,
            **_dates("published", data.published),
        })  # fmt: skip
    elif kind == "party":
        acts_for = ids[data.acts_for] if data.acts_for else None
        party = {"id": key, "name": data.name, "kind": data.kind, "acts_for_id": acts_for, "note": data.note}
        rows[Party].append(party)
        for alias in payload.get("aliases", []):
            rows[Alias].append(_alias_row(ids, {**alias, "party": item.slug}))
            _citation_rows(rows, ids, ids[alias["id"]], alias.get("citations", []))
    elif kind == "alias":
        rows[Alias].append(_alias_row(ids, payload))
    elif kind == "concession":
        _concession_rows(rows, data, key, seq, ids)
    elif kind == "exchange":
        rows[Exchange].append({"id": key, "title": data.title, "summary": data.summary})
    elif kind == "total":
        rows[ReportedTotal].append({
            "id": key, "source_id": ids[data.source], "giver_id": ids[data.giver],
            "receiver_id": ids[data.receiver] if data.receiver else None,
            "kind": data.kind.value if data.kind else None, "unit": data.unit, "value": data.value,
            "statement": data.statement,
            **_dates("period_start", data.period_start), **_dates("period_end", data.period_end),
        })  # fmt: skip
    elif kind == "claim":
        rows[Claim].append({
            "id": key, "record_id": ids[data.record], "attribute": data.attribute, "value": data.value,
            "source_id": ids[data.source], "quote": data.quote, "rank": data.rank, "rank_reason": data.rank_reason,
            "rank_author": data.rank_author,
        })  # fmt: skip
    if kind == "citation":
        _citation_rows(rows, ids, ids[data.record], [payload])
    else:
        _citation_rows(rows, ids, key, payload.get("citations", []))


def _alias_row(ids: dict[str, int], p: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ids[p["id"]], "party_id": ids[p["party"]], "name": p["name"],
        "source_id": ids[p["source"]] if p.get("source") else None, "script": p.get("script"), "note": p.get("note"),
    }  # fmt: skip


_NO_DATE = {name: date_columns(name, None) for name in (*_CONCESSION_DATES, "published", "period_start", "period_end")}


def _dates(name: str, value: Any) -> dict[str, Any]:
    return _NO_DATE[name] if value is None else date_columns(name, value)


def _concession_rows(rows: Rows, data: ConcessionIn, key: int, seq: int, ids: dict[str, int]) -> None:
    values: dict[str, Any] = {name: getattr(data, name) for name in _CONCESSION_PLAIN}
    for name in _CONCESSION_DATES:
        values.update(_dates(name, getattr(data, name)))
    rows[Concession].append({
        "id": key, "giver_id": ids[data.giver], "receiver_id": ids[data.receiver], "kind": data.kind.value,
        "status": data.status, "renews_id": ids[data.renews] if data.renews else None, **values,
    })  # fmt: skip
    first_source = ids[data.citations[0].source] if data.citations else None
    rows[Beneficiary] += [
        {"concession_id": key, "party_id": ids[b], "source_id": first_source} for b in data.beneficiaries
    ]
    rows[StatusChange].append({
        "concession_id": key, "status": data.status, "source_id": first_source, "journal_seq": seq,
        **_dates("date", data.date),
    })  # fmt: skip


def _citation_rows(rows: Rows, ids: dict[str, int], record_id: int, citations: list[dict[str, Any]]) -> None:
    rows[Citation] += [
        {
            "id": ids[c["id"]],
            "record_id": record_id,
            "source_id": ids[c["source"]],
            "quote": c.get("quote"),
            "locator": c.get("locator"),
            "prefix": c.get("prefix"),
            "suffix": c.get("suffix"),
        }  # fmt: skip
        for c in citations
    ]


def link_rows(rows: Rows, payload: dict[str, Any], ids: dict[str, int]) -> None:
    """Append the link and citation rows of a ``link`` entry (sides and members are written by the caller)."""
    exchange = ids[payload["exchange"]]
    if "new_exchange" in payload:
        rows[Exchange].append({"id": exchange, "title": payload["new_exchange"]["title"], "summary": None})
    for link in payload["links"]:
        rows[Link].append({
            "id": ids[link["id"]], "exchange_id": exchange, "quid_id": ids[link["quid"]], "quo_id": ids[link["quo"]],
            "basis": LinkBasis(link["basis"]), "reason": link.get("reason"),
        })  # fmt: skip
        _citation_rows(rows, ids, ids[link["id"]], link.get("citations", []))
