"""`ledger report`: the whole record as one self-contained HTML page (with pictures) or Markdown."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import note, open_ledger, progress


class ReportFormat(StrEnum):
    """Report formats."""

    HTML = "html"
    MARKDOWN = "markdown"


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("report")(report)


def report(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.html or .md).")],
    fmt: Annotated[
        ReportFormat | None, typer.Option("--format", "-f", help="html or markdown [default: from -o's extension].")
    ] = None,
    title: Annotated[str, typer.Option("--title", help="The report's title.")] = "Ledger report",
    check: Annotated[list[str] | None, typer.Option("--check", help="Audit only with this check (repeat).")] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="Leave this audit check out (repeat).")] = None,
) -> None:
    """Write a report: summary, timeline, exchange graph, balance, audit findings beside their records, sources."""
    from ledger.audit.registry import AuditOptions, run_audit, select_checks
    from ledger.io.report import format_of, render, write_atomic
    from ledger.ops.views import report_data

    kind = format_of(output, fmt.value if fmt else None)
    with open_ledger(ctx, write=False) as session:
        data = report_data(session)
        findings = [
            f
            for info in progress(select_checks(check or (), skip or ()), "auditing")
            for f in run_audit(session, AuditOptions(as_of=dt.date.today()), [info])
        ]
    rows = [
        {"severity": f.severity.value, "check": f.check, "record_type": f.record_type, "record": f.record_id,
         "message": f.message}
        for f in sorted(findings, key=lambda f: f.sort_key())
    ]  # fmt: skip
    write_atomic(output, render(data, rows, kind, title=title))
    note(f"wrote {output} ({kind}: {len(data['concessions'])} concessions, {len(rows)} findings)")
