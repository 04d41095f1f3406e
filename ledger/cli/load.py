"""`ledger import`: load files in the seeds format (YAML/TOML), JSON or JSONL, atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import echo, open_ledger


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("import")(import_files)


def import_files(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Files to import (format from the extension).")],
    fmt: Annotated[str | None, typer.Option("--format", help="yaml, toml, json, jsonl or csv.")] = None,
    record_type: Annotated[
        str | None, typer.Option("--type", help="Record type of a CSV file whose name does not say it.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and report; write nothing.")] = False,
    max_errors: Annotated[int, typer.Option("--max-errors", min=1, help="Report at most this many errors.")] = 50,
) -> None:
    """Import records; all files in one transaction: every record valid, or nothing written."""
    from ledger.io.readers import read
    from ledger.io.tables import in_load_order
    from ledger.ops.load import load

    documents = in_load_order([read(path, fmt, record_type=record_type) for path in files])
    with open_ledger(ctx, write=True, dry_run=dry_run) as session:
        results = [(doc.name, load(session, doc, max_errors=max_errors)) for doc in documents]
    for name, result in results:
        added, changed = ("would add", "would change") if dry_run else ("added", "changed")
        echo(
            f"{name}: {added} {len(result.added)} records and {result.links_added} links; "
            f"{changed} {len(result.changed)}; {len(result.unchanged)} unchanged"
        )
        if dry_run:
            for slug in result.added:
                echo(f"  add     {slug}")
            for slug in result.changed:
                echo(f"  change  {slug}")
