"""`ledger import`: load files in the seeds format (YAML/TOML), JSON, JSONL or CSV, atomically."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import echo, open_ledger

#: A progress bar appears once a file has more records than this (and only on a terminal).
PROGRESS_AFTER = 10_000


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
    stream: Annotated[
        bool | None,
        typer.Option("--stream/--no-stream", help="Stream JSONL/CSV in batches [default: for files over 8 MiB]."),
    ] = None,
) -> None:
    """Import records; all files in one transaction: every record valid, or nothing written."""
    from ledger.ops.bulk import import_files as run_import

    with ExitStack() as bars, open_ledger(ctx, write=True, dry_run=dry_run) as session:
        progress = _progress_bars(bars) if sys.stderr.isatty() else None
        results = run_import(
            session, files, fmt=fmt, record_type=record_type, max_errors=max_errors, stream=stream, progress=progress
        )
    for name, result in results:
        added, changed = ("would add", "would change") if dry_run else ("added", "changed")
        echo(
            f"{name}: {added} {result.added_count} records and {result.links_added} links; "
            f"{changed} {result.changed_count}; {result.unchanged_count} unchanged"
        )
        if dry_run:
            echo("\n".join([*(f"  add     {s}" for s in result.added), *(f"  change  {s}" for s in result.changed)]))


def _progress_bars(stack: ExitStack) -> Callable[[Path], Callable[[int, int], None]]:
    """A progress bar per streamed file, shown once it passes PROGRESS_AFTER records."""
    from rich.progress import Progress

    bar = stack.enter_context(Progress(transient=True, console=None))

    def for_file(path: Path) -> Callable[[int, int], None]:
        task: list[object] = []

        def tell(lines: int, position: int) -> None:
            if lines < PROGRESS_AFTER:
                return
            if not task:
                task.append(bar.add_task(f"importing {path.name}", total=path.stat().st_size))
            bar.update(task[0], completed=position)  # type: ignore[arg-type]

        return tell

    return for_file
