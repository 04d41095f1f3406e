"""`ledger audit`: run the named checks and report where the record is weak."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

import typer

from ledger.cli.common import echo, open_ledger
from ledger.cli.render import OutputFormat, render_rows
from ledger.errors import AuditFailed, InvalidInput


class FailOn(StrEnum):
    """The severity at or above which the audit exits 1."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    NEVER = "never"


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("audit")(audit)


def audit(
    ctx: typer.Context,
    check: Annotated[list[str] | None, typer.Option("--check", help="Run only this check (repeat).")] = None,
    skip: Annotated[list[str] | None, typer.Option("--skip", help="Skip this check (repeat).")] = None,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 on a finding this severe.")] = FailOn.ERROR,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Audit as of this date (YYYY-MM-DD) [default: today].")
    ] = None,
    list_checks: Annotated[bool, typer.Option("--list", help="List the checks and exit.")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.TABLE,
) -> None:
    """Audit the ledger: unpaired concessions, unsourced records and the other named checks."""
    from ledger.audit.registry import AuditOptions, Severity, load_checks, run_audit, select_checks

    if list_checks:
        listing = [
            {"check": c.name, "family": c.family, "severity": c.severity.value, "finds": c.doc}
            for c in load_checks().values()
        ]
        echo(render_rows(sorted(listing, key=lambda r: r["check"]), ["check", "family", "severity", "finds"], fmt))
        return
    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
    except ValueError:
        raise InvalidInput(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD)") from None
    checks = select_checks(check or (), skip or ())
    with open_ledger(ctx, write=False) as session:
        findings = run_audit(session, AuditOptions(as_of=day), checks)
    rows: list[dict[str, Any]] = [
        {"severity": f.severity.value, "check": f.check, "record_type": f.record_type, "record": f.record_id,
         "message": f.message, "details": f.details}
        for f in findings
    ]  # fmt: skip
    echo(render_rows(rows, ["severity", "check", "record", "message"], fmt, title="audit"))
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    typer.echo(", ".join(f"{n} {s.value}" for s, n in counts.items()) + f" from {len(checks)} checks", err=True)
    if fail_on is not FailOn.NEVER:
        threshold = Severity(fail_on.value).rank
        if any(f.severity.rank <= threshold for f in findings):
            raise AuditFailed(f"the audit found problems at or above {fail_on.value}")
