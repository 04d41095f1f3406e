"""`ledger sql`: ask the database a question in SQL; the query can read but never change anything."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import echo, note, settings
from ledger.cli.quick import sql_params
from ledger.cli.render import OutputFormat, render_rows


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("sql")(sql)


def sql(
    ctx: typer.Context,
    query: Annotated[
        list[str], typer.Argument(help="One SELECT (or WITH ... SELECT) statement; :name for parameters.")
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", help="A named parameter: -p name value, or -p name=value (whole numbers become integers)."
        ),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.TABLE,
    max_rows: Annotated[int, typer.Option("--max-rows", min=1, help="Return at most this many rows.")] = 10_000,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Stop the query after this many seconds.")
    ] = 10.0,
) -> None:
    """Run a read-only SQL query (see docs/data-model.md for tables and views). Refused queries exit 3."""
    from ledger.db import query_read_only

    params = sql_params(param or [], query[1:])
    result = query_read_only(settings(ctx).db, query[0], params, max_rows=max_rows, seconds=timeout)
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    echo(render_rows(rows, result.columns, fmt))
    if result.truncated:
        note(f"only the first {max_rows} rows are shown (--max-rows)")
