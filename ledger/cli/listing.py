"""`ledger list` and `ledger show`: read the record."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import echo, fast_read, open_ledger
from ledger.cli.lists import COLUMNS, What
from ledger.cli.render import OutputFormat, render_record, render_rows
from ledger.domain import ConcessionKind, Status

FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("list")(list_records)
    app.command("show")(show)


def list_records(
    ctx: typer.Context,
    what: Annotated[What, typer.Argument(help="What to list.")] = What.CONCESSIONS,
    kind: Annotated[ConcessionKind | None, typer.Option("--kind", help="Only this kind.")] = None,
    giver: Annotated[str | None, typer.Option("--giver", help="Only given by this party.")] = None,
    receiver: Annotated[str | None, typer.Option("--receiver", help="Only received by this party.")] = None,
    status: Annotated[Status | None, typer.Option("--status", help="Only in this status.")] = None,
    unpaired: Annotated[bool, typer.Option("--unpaired", help="Only concessions in no exchange.")] = False,
    since: Annotated[str | None, typer.Option("--since", help="Dated on or after (YYYY[-MM[-DD]]).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Dated on or before (YYYY[-MM[-DD]]).")] = None,
    all_records: Annotated[bool, typer.Option("--all", help="Include retracted records.")] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many rows.")] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """List concessions (filtered), or exchanges, parties, sources, aliases, totals or claims."""
    from functools import partial

    from ledger.domain import FuzzyDate
    from ledger.ops.concession_list import ConcessionFilter, list_concessions

    filters, rows = None, None
    if what is What.CONCESSIONS:
        filters = ConcessionFilter(
            kind=kind, giver=giver, receiver=receiver, status=status, unpaired=unpaired,
            since=FuzzyDate.parse(since) if since else None, until=FuzzyDate.parse(until) if until else None,
            include_retracted=all_records, limit=limit,
        )  # fmt: skip
        # Listed through the driver alone, sqlite3 or psycopg (SQLAlchemy takes ~0.35 s to start), else None.
        rows = fast_read(ctx, partial(list_concessions, f=filters))
    if rows is None:
        from ledger.ops import queries

        with open_ledger(ctx, write=False) as session:
            if filters is not None:
                rows = queries.list_concessions(session, filters)
            else:
                rows = queries.LISTS[what.value](session, all_records)[:limit]
    echo(render_rows(rows, COLUMNS[what], fmt, title=what.value))


def show(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(help="ID of any record.")],
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Show one record with its citations, claims, exchange and counterparts."""
    from ledger.ops.queries import show as show_record

    with open_ledger(ctx, write=False) as session:
        record = show_record(session, id)
    echo(render_record(record, fmt))
