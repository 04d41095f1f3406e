"""`ledger backup FILE`: a consistent copy of a live SQLite ledger, checked before it is kept."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import echo, settings


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("backup")(backup)


def backup(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="File to write the copy to.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Copy the ledger (SQLite online backup: safe while others write), then verify the copy's journal."""
    from ledger.db import backup as copy
    from ledger.db import make_engine, resolve_url, session_scope
    from ledger.ops.verify import verify

    size = copy(resolve_url(settings(ctx).db), target, force=force)
    copy_url = resolve_url(str(target))
    engine = make_engine(copy_url)
    try:
        with session_scope(engine, write=False, url=copy_url) as session:
            report = verify(session, replay=False)
    finally:
        engine.dispose()
    if not report.ok:
        from ledger.errors import DatabaseProblem

        raise DatabaseProblem(f"the copy {target} does not verify: {report.problems[0].message}")
    echo(f"backed up to {target} ({size:,} bytes; {report.head.seq} journal entries, hash chain verified)")
