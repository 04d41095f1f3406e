"""Interchange exports: FollowTheMoney entities and PLOVER-style events, as JSON Lines.

Both read the same stream of ``(type, fields)`` records as the import-format writers, plus a small
:class:`Context` of lookups the export prepares (party kinds, CAMEO codes, the sides of each exchange),
so they stream in constant memory.

FollowTheMoney (https://followthemoney.tech): parties become Person / PublicBody / Organization /
Company, a party acting for another a Representation, sources Article (a relay also an UnknownLink,
role ``relays``, from the relaying article to the one it relays), concessions and exchanges Event (with
the parties involved), sanctions relief also a Sanction, a reported total an Event keyed ``reported
total`` (period as start and end date, the source as ``proof``), a claim a Note on the entity it is
about (``attribute: value``, the quote as ``summary``, the source as ``proof``), and every citation a
Documentation that ties the source to the entity it backs (the quote in ``summary``). Aliases come as
fragments of their party (same ID, ``alias`` only); FtM tools merge fragments. docs/interchange.md
explains each choice.

PLOVER (https://github.com/openeventdata/PLOVER): one event per concession with the CAMEO code of its
kind, so the record lines up with GDELT, ICEWS and POLECAT data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

ExportRecord = tuple[str, dict[str, Any]]

FTM_SCHEMA_OF_PARTY = {
    "state": "PublicBody",
    "government_body": "PublicBody",
    "person": "Person",
    "company": "Company",
    "organisation": "Organization",
}
#: PLOVER event type and mode of a delivered concession of each kind.
PLOVER_OF_KIND = {
    "prisoner_release": ("CONCEDE", "release"),
    "sanctions_relief": ("CONCEDE", "ease-sanctions"),
    "trade_access": ("COOPERATE", "economic"),
    "technical_service": ("COOPERATE", "economic"),
    "aid": ("AID", "material"),
    "diplomatic_access": ("CONSULT", "visit"),
    "mediation": ("CONSULT", "mediate"),
    "other": ("CONCEDE", "other"),
}
#: A concession not (yet) delivered is, in event-data terms, a statement about it.
PLOVER_OF_STATUS = {"offered": "AGREE", "promised": "AGREE", "requested": "REQUEST", "declined": "REJECT"}


@dataclass
class Context:
    """Lookups the interchange writers need beside the record stream (all small tables)."""

    party_kinds: dict[str, str] = field(default_factory=dict)
    cameo: dict[str, str] = field(default_factory=dict)
    exchange_sides: dict[str, list[str]] = field(default_factory=dict)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Records that are not FtM entities of their own, and the entity that stands for them.
    stands_for: dict[str, str | None] = field(default_factory=dict)


def _line(entity: dict[str, Any]) -> str:
    return json.dumps(entity, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def _props(**values: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in values.items():
        items = value if isinstance(value, list) else [value]
        kept = [str(getattr(v, "value", v)) for v in items if v not in (None, "")]
        if kept:
            out[key] = kept
    return out


def _date(value: dict[str, Any] | None) -> str | None:
    return value.get("value") if value else None


def _ftm_entities(kind: str, f: dict[str, Any], ctx: Context) -> Iterator[dict[str, Any]]:
    if kind == "party":
        yield {
            "id": f["id"],
            "schema": FTM_SCHEMA_OF_PARTY[f["kind"]],
            "properties": _props(name=f["name"], notes=f.get("note")),
        }
        if f.get("acts_for"):
            yield {
                "id": f"{f['id']}--acts-for--{f['acts_for']}", "schema": "Representation",
                "properties": _props(agent=f["id"], client=f["acts_for"], role="acts for"),
            }  # fmt: skip
    elif kind == "alias":
        schema = FTM_SCHEMA_OF_PARTY[ctx.party_kinds[f["party"]]]
        yield {"id": f["party"], "schema": schema, "properties": _props(alias=f["name"])}
    elif kind == "source":
        yield {
            "id": f["id"], "schema": "Article",
            "properties": _props(title=f["title"], publisher=f.get("publisher"), sourceUrl=f.get("url"),
                                 publishedAt=_date(f.get("published")), notes=f.get("note")),
        }  # fmt: skip
        if f.get("relays"):
            yield {
                "id": f"{f['id']}--relays--{f['relays']}", "schema": "UnknownLink",
                "properties": _props(subject=f["id"], object=f["relays"], role="relays"),
            }  # fmt: skip
    elif kind == "total":
        yield _ftm_total(f)
    elif kind == "claim":
        yield {
            "id": f["id"], "schema": "Note",
            "properties": _props(
                entity=ctx.stands_for.get(f["record"], f["record"]), description=f"{f['attribute']}: {f['value']}",
                summary=f.get("quote"), proof=f["source"], keywords=["claim", f["attribute"], f.get("rank", "normal")],
                notes=f.get("rank_reason"),
            ),
        }  # fmt: skip
    elif kind == "concession":
        yield from _ftm_concession(f, ctx)
    elif kind == "exchange":
        yield {
            "id": f["id"], "schema": "Event",
            "properties": _props(name=f["title"], summary=f.get("summary"), keywords="exchange",
                                 involved=ctx.exchange_sides.get(f["id"], [])),
        }  # fmt: skip
    elif kind == "citation":
        entity = ctx.stands_for.get(f["record"], f["record"])
        if entity is not None:
            yield {
                "id": f["id"], "schema": "Documentation",
                "properties": _props(document=f["source"], entity=entity, role="citation", summary=f.get("quote"),
                                     description=f.get("locator")),
            }  # fmt: skip


def _ftm_total(f: dict[str, Any]) -> dict[str, Any]:
    what = f"{f['value']} {f['unit']}" + (f" ({f['kind']})" if f.get("kind") else "")
    return {
        "id": f["id"], "schema": "Event",
        "properties": _props(
            name=f"Reported total: {what}", summary=f.get("statement"), startDate=_date(f.get("period_start")),
            endDate=_date(f.get("period_end")), organizer=f["giver"], involved=[f["giver"], f.get("receiver")],
            keywords=["reported total", f.get("kind"), f["unit"]], proof=f["source"],
        ),
    }  # fmt: skip


def _ftm_concession(f: dict[str, Any], ctx: Context) -> Iterator[dict[str, Any]]:
    cameo = ctx.cameo.get(f["kind"])
    yield {
        "id": f["id"], "schema": "Event",
        "properties": _props(
            name=f["summary"], summary=f.get("note"), date=_date(f.get("date")),
            involved=[f["giver"], f["receiver"], *f.get("beneficiaries", [])], organizer=f["giver"],
            keywords=[f["kind"], f["status"], *([f"CAMEO {cameo}"] if cameo else [])],
            program=f.get("programme"), programId=f.get("instrument_ref"),
        ),
    }  # fmt: skip
    if f["kind"] == "sanctions_relief":
        yield {
            "id": f"{f['id']}--sanction", "schema": "Sanction",
            "properties": _props(
                entity=f["receiver"], authority=f.get("authority"), program=f.get("programme"),
                programId=f.get("instrument_ref"), provisions=f.get("instrument"), status=f"relief {f['status']}",
                summary=f["summary"], endDate=_date(f.get("effective")) or _date(f.get("date")),
            ),
        }  # fmt: skip


def write_ftm(records: Iterable[ExportRecord], out: IO[str], ctx: Context) -> int:
    """FollowTheMoney entities as JSON Lines; returns the number of entities."""
    count = 0
    for kind, fields in records:
        for entity in _ftm_entities(kind, fields, ctx):
            out.write(_line(entity))
            count += 1
    return count


def plover_event(f: dict[str, Any], ctx: Context) -> dict[str, Any]:
    """One concession as a PLOVER-style event."""
    event_type, mode = PLOVER_OF_KIND[f["kind"]]
    event_type = PLOVER_OF_STATUS.get(f["status"], event_type)
    date = f.get("date") or {}
    return {
        "id": f["id"],
        "date": date.get("value"),
        "date_text": date.get("text"),
        "actor": f["giver"],
        "recipient": f["receiver"],
        "event_type": event_type,
        "mode": mode,
        "context": [c for c in (f["kind"], f.get("kind_detail"), f["status"]) if c],
        "cameo_code": ctx.cameo.get(f["kind"]) or None,
        "quantity": f.get("quantity"),
        "unit": f.get("unit"),
        "summary": f["summary"],
        "cite_info": [],
    }


def write_plover(events: Iterable[tuple[dict[str, Any], list[dict[str, Any]]]], out: IO[str], ctx: Context) -> int:
    """PLOVER-style events, one per concession, each with its citations in ``cite_info``."""
    count = 0
    for fields, citations in events:
        event = plover_event(fields, ctx)
        for citation in citations:
            source = ctx.sources.get(citation["source"], {})
            event["cite_info"].append(
                {k: v for k, v in (("source", citation["source"]), ("title", source.get("title")),
                                   ("publisher", source.get("publisher")), ("url", source.get("url")),
                                   ("quote", citation.get("quote")), ("locator", citation.get("locator"))) if v}
            )  # fmt: skip
        out.write(_line(event))
        count += 1
    return count
