"""`ledger export`: the whole ledger or a part of it, in the import format or an interchange format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import note, open_ledger


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("export")(export)


def export(
    ctx: typer.Context,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="json, jsonl (the import format), csv, markdown, ftm or plover.")
    ] = "jsonl",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="File to write (csv: a folder or a .zip) [default: stdout]."),
    ] = None,
    exchange: Annotated[str | None, typer.Option("--exchange", help="Only this exchange and what it needs.")] = None,
    party: Annotated[
        str | None, typer.Option("--party", help="Only concessions this party gave, got or benefits from.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only concessions dated on or after (YYYY[-MM[-DD]]).")
    ] = None,
) -> None:
    """Export records; files are written atomically, in a stable order, in constant memory."""
    from ledger.domain import FuzzyDate
    from ledger.ops.export import ExportFilter
    from ledger.ops.export import export as run_export

    narrow = ExportFilter(exchange=exchange, party=party, since=FuzzyDate.parse(since) if since else None)
    with open_ledger(ctx, write=False) as session:
        count = run_export(session, fmt, output, narrow)
    if output is not None:
        note(f"wrote {count} records to {output}")
