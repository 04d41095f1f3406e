"""`ledger audit`: run the named checks and report where the record is weak."""

from __future__ import annotations

import datetime as dt
import itertools
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.cli.common import echo, note, open_ledger
from ledger.cli.render import OutputFormat, render_rows
from ledger.errors import AuditFailed, InvalidInput


class FailOn(StrEnum):
    """The severity at or above which the audit exits 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NEVER = "never"


class AuditFormat(StrEnum):
    """How the audit is written: rows for tools, or a report for people."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("audit")(audit)


def _day(as_of: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        raise InvalidInput(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD)") from None


def _list(fmt: AuditFormat) -> str:
    from ledger.audit.registry import load_checks

    rows = [{"check": c.name, "family": c.family, "severity": c.severity.value, "finds": c.doc}
            for c in sorted(load_checks().values(), key=lambda c: c.name)]  # fmt: skip
    shape = OutputFormat(fmt.value) if fmt is not AuditFormat.HTML else OutputFormat.MARKDOWN
    return render_rows(rows, ["check", "family", "severity", "finds"], shape)


def audit(
    ctx: typer.Context,
    check: Annotated[list[str] | None, typer.Option("--check", help="Run only this check (repeat).")] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="Skip this check (repeat).")] = None,
    fail_on: Annotated[
        FailOn, typer.Option("--fail-on", "--severity", help="Exit 1 on a finding this severe or worse.")
    ] = FailOn.ERROR,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Audit as of this date (YYYY-MM-DD) [default: today].")
    ] = None,
    window: Annotated[
        int, typer.Option("--promise-window", min=0, help="Days after its date a promise without due date is late.")
    ] = 90,
    fmt: Annotated[AuditFormat, typer.Option("--format", "-f", help="Output format.")] = AuditFormat.TABLE,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (atomically).")] = None,
    list_checks: Annotated[bool, typer.Option("--list", help="List the checks and exit.")] = False,
) -> None:
    """Audit the ledger: every named check (see --list), findings sorted by severity, check and record."""
    from ledger.audit import report
    from ledger.audit.registry import AuditOptions, Severity, run_audit, select_checks
    from ledger.io.atomic import write_atomic

    if list_checks:
        echo(_list(fmt))
        return
    options = AuditOptions(as_of=_day(as_of), promise_window_days=window)
    checks = select_checks(check or (), skip or ())
    threshold = Severity(fail_on.value).rank if fail_on is not FailOn.NEVER else -1
    if fmt in (AuditFormat.CSV, AuditFormat.JSONL):
        _stream(ctx, fmt, output, (options, checks), fail_on)
        return
    with open_ledger(ctx, write=False) as session:
        findings = run_audit(session, options, checks)
        document = (
            report.build_report(session, findings, options, checks) if fmt.value in ("markdown", "html") else None
        )
    rows = [report.finding_row(f) for f in findings]
    if document is not None:
        text = report.to_markdown(document) if fmt is AuditFormat.MARKDOWN else report.to_html(document)
    else:
        text = render_rows(rows, ["severity", "check", "record", "message"], OutputFormat(fmt.value), title="audit")
    if output is not None:
        write_atomic(output, text + "\n")
    else:
        echo(text)
    note(report.summary_line(findings, checks))
    if any(f.severity.rank <= threshold for f in findings):
        raise AuditFailed(f"the audit found problems at or above {fail_on.value}")


def _stream(ctx: typer.Context, fmt: AuditFormat, output: Path | None, run: tuple[Any, Any], fail_on: FailOn) -> None:
    """CSV and JSON Lines: each check's findings become lines in a temporary file as soon as it is done, then the
    file is written out in the audit's order (see cli.audit_lines; on a large ledger, cli.audit_parallel)."""
    from ledger.audit import report
    from ledger.audit.registry import Severity
    from ledger.cli import audit_lines, audit_parallel
    from ledger.io.atomic import atomic_text

    options, checks = run
    with open_ledger(ctx, write=False) as session:  # a large ledger: two processes (see cli.audit_parallel)
        done = audit_parallel.render(session, options, checks, csv=fmt is AuditFormat.CSV)
    head = [audit_lines.CSV_HEADER] if fmt is AuditFormat.CSV else []
    try:
        if output is not None:
            with atomic_text(output) as handle:
                handle.write("".join(head) if head or done.runs else "\n")
                handle.flush()  # then the spilled lines as bytes, copied rather than decoded and encoded again
                for data in done.byte_chunks():
                    handle.buffer.write(data)
        else:
            chunks = itertools.chain(head, done.chunks()) if head or done.runs else iter(["\n"])
            for chunk in chunks:
                typer.echo(chunk, nl=False)
    finally:
        done.close()
    note(report.summary_of(done.by_severity, done.by_check, len(checks)))
    if fail_on is not FailOn.NEVER and done.fails_at(Severity(fail_on.value).rank):
        raise AuditFailed(f"the audit found problems at or above {fail_on.value}")
