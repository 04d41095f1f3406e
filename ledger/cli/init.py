"""`ledger init`: create or upgrade the database schema."""

from __future__ import annotations

import typer

from ledger.cli.common import echo, settings


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("init")(init)


def init(ctx: typer.Context) -> None:
    """Create the ledger database, or upgrade its schema to this version."""
    from ledger.db import describe, resolve_url, upgrade

    url = resolve_url(settings(ctx).db)
    before, after = upgrade(url)
    where = describe(url)
    if before is None:
        echo(f"created ledger at {where} (schema {after})")
    elif before == after:
        echo(f"ledger at {where} is up to date (schema {after})")
    else:
        echo(f"upgraded ledger at {where} from schema {before} to {after}")
