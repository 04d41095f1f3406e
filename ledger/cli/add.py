"""`ledger add` (a concession) and the commands that add parties, aliases, sources, citations,
claims, reported totals and exchanges."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from ledger.cli.common import citation, count_text, date_value, echo, open_ledger, validated
from ledger.domain import ClaimRank, ConcessionKind, Instrument, PartyKind, ReleaseForm, Status

Opt = typer.Option


def _choices(enum: type[StrEnum]) -> str:
    return "one of: " + ", ".join(m.value for m in enum)


Source = Annotated[str | None, Opt("--source", help="ID of the source that reports it.")]
Quote = Annotated[str | None, Opt("--quote", help="The exact words of the source.")]
Locator = Annotated[str | None, Opt("--locator", help="Where the quote stands (paragraph, page, line).")]
Note = Annotated[str | None, Opt("--note", help="Free-text note.")]
DateHelp = "ISO date at the precision the source gives (2025, 2025-12, 2025-12-13), or the source's words."

party_app = typer.Typer(help="Parties: states, bodies, people, companies, organisations.", no_args_is_help=True)
alias_app = typer.Typer(help="Aliases: other names of a party, as sources spell them.", no_args_is_help=True)
source_app = typer.Typer(help="Sources: documents that report facts.", no_args_is_help=True)
claim_app = typer.Typer(help="Claims: one source's value for one attribute of a record.", no_args_is_help=True)
total_app = typer.Typer(help="Reported totals: aggregates a source states.", no_args_is_help=True)
exchange_app = typer.Typer(help="Exchanges: what one side gave for what the other gave.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("add")(add_concession)
    app.command("cite")(cite)
    app.add_typer(party_app, name="party")
    app.add_typer(alias_app, name="alias")
    app.add_typer(source_app, name="source")
    app.add_typer(claim_app, name="claim")
    app.add_typer(total_app, name="total")
    app.add_typer(exchange_app, name="exchange")


def _write(ctx: typer.Context, plan_name: str, data: object) -> None:
    from ledger.ops import add as ops

    with open_ledger(ctx, write=True) as session:
        slug = ops.add(session, getattr(ops, plan_name)(session, data))
    echo(slug)


def add_concession(
    ctx: typer.Context,
    giver: Annotated[str, Opt("--giver", help="ID of the party that gives.")],
    receiver: Annotated[str, Opt("--receiver", help="ID of the party that receives.")],
    kind: Annotated[str, Opt("--kind", help=_choices(ConcessionKind))],
    summary: Annotated[str, Opt("--summary", help="What is given, in a line.")],
    status: Annotated[str, Opt("--status", help=_choices(Status))],
    id: Annotated[str | None, Opt("--id", help="Stable ID [default: from giver and summary].")] = None,
    kind_detail: Annotated[str | None, Opt("--kind-detail", help="Subtype, for kind 'other'.")] = None,
    quantity: Annotated[str | None, Opt("--quantity", help="Whole number, e.g. 123.")] = None,
    unit: Annotated[str | None, Opt("--unit", help="Unit of the quantity: person, aircraft, USD...")] = None,
    date: Annotated[str | None, Opt("--date", help=DateHelp)] = None,
    date_text: Annotated[str | None, Opt("--date-text", help="The source's words for the date.")] = None,
    due: Annotated[str | None, Opt("--due", help="When a promise is due. " + DateHelp)] = None,
    announced: Annotated[str | None, Opt("--announced", help="When it was announced.")] = None,
    effective: Annotated[str | None, Opt("--effective", help="When it took legal effect.")] = None,
    expires: Annotated[str | None, Opt("--expires", help="When it expires.")] = None,
    conditions: Annotated[str | None, Opt("--conditions", help="Conditions or trigger.")] = None,
    renews: Annotated[str | None, Opt("--renews", help="ID of the concession this renews.")] = None,
    instrument: Annotated[str | None, Opt("--instrument", help=_choices(Instrument))] = None,
    authority: Annotated[str | None, Opt("--authority", help="Issuing authority (e.g. OFAC).")] = None,
    programme: Annotated[str | None, Opt("--programme", help="Sanctions programme.")] = None,
    instrument_ref: Annotated[str | None, Opt("--instrument-ref", help="Licence or order number.")] = None,
    release_form: Annotated[str | None, Opt("--release-form", help=_choices(ReleaseForm))] = None,
    destination: Annotated[str | None, Opt("--destination", help="Where released people went.")] = None,
    beneficiary: Annotated[list[str] | None, Opt("--beneficiary", help="ID of a named beneficiary (repeat).")] = None,
    source: Source = None,
    quote: Quote = None,
    locator: Locator = None,
    note: Note = None,
) -> None:
    """Record a concession: who gave what to whom, how much, when, in what state."""
    from ledger.schemas import ConcessionIn

    data = validated(
        ConcessionIn,
        {
            "id": id, "giver": giver, "receiver": receiver, "kind": kind, "kind_detail": kind_detail,
            "summary": summary, "quantity": count_text(quantity), "unit": unit, "status": status,
            "date": date_value(date, date_text), "due": due, "announced": announced, "effective": effective,
            "expires": expires, "conditions": conditions, "renews": renews, "instrument": instrument,
            "authority": authority, "programme": programme, "instrument_ref": instrument_ref,
            "release_form": release_form, "destination": destination, "beneficiaries": beneficiary,
            "note": note, "citations": citation(source, quote, locator),
        },
        what="concession",
    )  # fmt: skip
    _write(ctx, "plan_concession", data)


@party_app.command("add")
def add_party(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(help="Stable ID, e.g. 'by' or 'lukashenko'.")],
    name: Annotated[str, Opt("--name", help="Name as the ledger uses it.")],
    kind: Annotated[str, Opt("--kind", help=_choices(PartyKind))],
    acts_for: Annotated[str | None, Opt("--acts-for", help="ID of the party this one acts for.")] = None,
    source: Source = None,
    quote: Quote = None,
    note: Note = None,
) -> None:
    """Add a party."""
    from ledger.schemas import PartyIn

    data = {
        "id": id,
        "name": name,
        "kind": kind,
        "acts_for": acts_for,
        "note": note,
        "citations": citation(source, quote),
    }
    _write(ctx, "plan_party", validated(PartyIn, data, what="party"))


@alias_app.command("add")
def add_alias(
    ctx: typer.Context,
    party: Annotated[str, typer.Argument(help="ID of the party the alias names.")],
    name: Annotated[str, typer.Argument(help="The other name, exactly as spelled.")],
    source: Source = None,
    quote: Quote = None,
    script: Annotated[str | None, Opt("--script", help="Script or transliteration it comes from.")] = None,
    note: Note = None,
) -> None:
    """Add another name of a party."""
    from ledger.schemas import AliasIn

    data: dict[str, Any] = {"party": party, "name": name, "source": source, "script": script, "note": note}
    data["citations"] = citation(source, quote)
    _write(ctx, "plan_alias", validated(AliasIn, data, what="alias"))


@source_app.command("add")
def add_source(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(help="Stable ID, e.g. 'san-belarus-frees-123'.")],
    title: Annotated[str, Opt("--title", help="Title of the document.")],
    publisher: Annotated[str | None, Opt("--publisher", help="Outlet or body that published it.")] = None,
    url: Annotated[str | None, Opt("--url", help="http(s) address.")] = None,
    published: Annotated[str | None, Opt("--published", help="Publication date. " + DateHelp)] = None,
    relays: Annotated[str | None, Opt("--relays", help="ID of the source this one relays.")] = None,
    sha256: Annotated[str | None, Opt("--sha256", help="SHA-256 of the document's text.")] = None,
    note: Note = None,
) -> None:
    """Add a source document."""
    from ledger.schemas import SourceIn

    data = {"id": id, "title": title, "publisher": publisher, "url": url, "published": published}
    data.update(relays=relays, sha256=sha256, note=note)
    _write(ctx, "plan_source", validated(SourceIn, data, what="source"))


def cite(
    ctx: typer.Context,
    record: Annotated[str, typer.Argument(help="ID of the record the source backs.")],
    source: Annotated[str, Opt("--source", help="ID of the source.")],
    quote: Quote = None,
    locator: Locator = None,
    prefix: Annotated[str | None, Opt("--prefix", help="Words just before the quote (picks the occurrence).")] = None,
    suffix: Annotated[str | None, Opt("--suffix", help="Words just after the quote (picks the occurrence).")] = None,
) -> None:
    """Add a citation (source, exact quote, locator, prefix and suffix context) to any record."""
    from ledger.schemas import CiteIn

    data = {"record": record, "source": source, "quote": quote, "locator": locator, "prefix": prefix}
    data["suffix"] = suffix
    _write(ctx, "plan_citation", validated(CiteIn, data, what="citation"))


@claim_app.command("add")
def add_claim(
    ctx: typer.Context,
    record: Annotated[str, typer.Argument(help="ID of the record the claim is about.")],
    attribute: Annotated[str, typer.Argument(help="Attribute, e.g. name, date, quantity.")],
    value: Annotated[str, typer.Argument(help="The value as the source states it.")],
    source: Annotated[str, Opt("--source", help="ID of the source that states it.")],
    quote: Quote = None,
    rank: Annotated[str, Opt("--rank", help=_choices(ClaimRank))] = ClaimRank.NORMAL.value,
    reason: Annotated[str | None, Opt("--reason", help="Why it is preferred or deprecated.")] = None,
) -> None:
    """Record what one source says about one attribute of a record."""
    from ledger.schemas import ClaimIn

    data = {"record": record, "attribute": attribute, "value": value, "source": source, "quote": quote}
    data.update(rank=rank, rank_reason=reason)
    _write(ctx, "plan_claim", validated(ClaimIn, data, what="claim"))


@total_app.command("add")
def add_total(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(help="Stable ID.")],
    source: Annotated[str, Opt("--source", help="ID of the source that states the total.")],
    giver: Annotated[str, Opt("--giver", help="ID of the party whose concessions it totals.")],
    value: Annotated[str, Opt("--value", help="The stated total, a whole number.")],
    unit: Annotated[str, Opt("--unit", help="Unit, e.g. person.")],
    kind: Annotated[str | None, Opt("--kind", help=_choices(ConcessionKind))] = None,
    receiver: Annotated[str | None, Opt("--receiver", help="ID of the receiving party.")] = None,
    since: Annotated[str | None, Opt("--since", help="Start of the period. " + DateHelp)] = None,
    until: Annotated[str | None, Opt("--until", help="End of the period. " + DateHelp)] = None,
    quote: Quote = None,
) -> None:
    """Record a total a source states, such as '156 since November'."""
    from ledger.schemas import ReportedTotalIn

    data: dict[str, Any] = {"id": id, "source": source, "giver": giver, "value": count_text(value), "unit": unit}
    data["kind"] = kind
    data.update(receiver=receiver, period_start=since, period_end=until, statement=quote)
    data["citations"] = citation(source, quote)
    _write(ctx, "plan_total", validated(ReportedTotalIn, data, what="reported total"))


@exchange_app.command("add")
def add_exchange(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(help="Stable ID.")],
    title: Annotated[str, Opt("--title", help="What was exchanged, in a line.")],
    summary: Annotated[str | None, Opt("--summary", help="Longer description.")] = None,
    source: Source = None,
    quote: Quote = None,
) -> None:
    """Create an (empty) exchange; `ledger link --exchange ID` fills it."""
    from ledger.schemas import ExchangeIn

    data = {"id": id, "title": title, "summary": summary, "citations": citation(source, quote)}
    _write(ctx, "plan_exchange", validated(ExchangeIn, data, what="exchange"))
