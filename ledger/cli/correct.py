"""Corrections and the journal: amend, retract, status, history, verify, checkpoint, rebuild."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import citation, date_value, echo, note, open_ledger, validated
from ledger.cli.render import OutputFormat, render_rows
from ledger.domain import Status

Opt = typer.Option
Id = Annotated[str, typer.Argument(help="ID of the record.")]
Source = Annotated[str | None, Opt("--source", help="ID of the source that reports the correction.")]
Quote = Annotated[str | None, Opt("--quote", help="The exact words of the source.")]
FormatOpt = Annotated[OutputFormat, Opt("--format", "-f", help="Output format.")]
#: Exit code when `ledger verify` or `ledger rebuild --check` finds a problem.
PROBLEMS_FOUND = 1
HISTORY_COLUMNS = ["seq", "at", "author", "op", "record", "changes", "source", "reason"]
PROBLEM_COLUMNS = ["where", "record", "message"]


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("amend")(amend)
    app.command("retract")(retract)
    app.command("status")(status)
    app.command("history")(history)
    app.command("verify")(verify)
    app.command("checkpoint")(checkpoint)
    app.command("rebuild")(rebuild)


def amend(
    ctx: typer.Context,
    id: Id,
    assignments: Annotated[
        list[str], Opt("--set", help="field=value, repeatable (empty value clears; date.text=... for words).")
    ],
    source: Source = None,
    quote: Quote = None,
    locator: Annotated[str | None, Opt("--locator", help="Where the quote stands.")] = None,
    reason: Annotated[str | None, Opt("--reason", help="Why the record changes.")] = None,
) -> None:
    """Change fields of a record; the journal keeps the old and the new values."""
    from ledger.ops.base import write
    from ledger.ops.correct import parse_assignments, plan_amend
    from ledger.schemas import CitationIn

    citations = [validated(CitationIn, c, what="citation") for c in citation(source, quote, locator)]
    with open_ledger(ctx, write=True) as session:
        changes = parse_assignments(session, id, assignments)
        write(session, plan_amend(session, id, changes, reason=reason, citations=citations))
    echo(id)


def retract(
    ctx: typer.Context, id: Id, reason: Annotated[str, Opt("--reason", help="Why the record is withdrawn.")]
) -> None:
    """Mark a record retracted: it stays on file (see --all, history) but leaves listings, views and totals."""
    from ledger.ops.base import write
    from ledger.ops.correct import plan_retract

    with open_ledger(ctx, write=True) as session:
        plans = plan_retract(session, id, reason)
        for plan in plans:
            write(session, plan)
    echo("\n".join(p.slug or "" for p in plans))


def status(
    ctx: typer.Context,
    id: Id,
    new_status: Annotated[Status, typer.Argument(metavar="STATUS", help="The concession's new status.")],
    date: Annotated[str | None, Opt("--date", help="When it changed (YYYY, YYYY-MM or YYYY-MM-DD).")] = None,
    date_text: Annotated[str | None, Opt("--date-text", help="The source's words for the date.")] = None,
    source: Source = None,
    quote: Quote = None,
) -> None:
    """Move a concession to a new status (considered -> promised -> delivered, or reneged ...)."""
    from ledger.ops.base import write
    from ledger.ops.correct import plan_status
    from ledger.schemas import DateIn

    when = date_value(date, date_text)
    date_in = validated(DateIn, when if isinstance(when, dict) else {"value": when}, what="date") if when else None
    with open_ledger(ctx, write=True) as session:
        write(session, plan_status(session, id, new_status, date_in, source, quote))
    echo(f"{id}: {new_status.value}")


def history(ctx: typer.Context, id: Id, fmt: FormatOpt = OutputFormat.TABLE) -> None:
    """Every journal entry that touched a record, oldest first: who, when, old -> new, on what source."""
    from ledger.ops.history import history as entries

    with open_ledger(ctx, write=False) as session:
        rows = list(entries(session, id))
    if fmt not in (OutputFormat.JSON, OutputFormat.JSONL):
        rows = [{k: v for k, v in row.items() if k != "payload"} for row in rows]
    echo(render_rows(rows, HISTORY_COLUMNS, fmt, title=f"history of {id}"))


def verify(
    ctx: typer.Context,
    checkpoint_line: Annotated[
        str | None, Opt("--checkpoint", help="A line from `ledger checkpoint`: prove the journal still extends it.")
    ] = None,
    chain_only: Annotated[bool, Opt("--chain-only", help="Only the hash chain; skip checking the rows.")] = False,
    replay: Annotated[
        bool, Opt("--replay", help="Also replay the journal into a scratch ledger and compare it column by column.")
    ] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Recompute the hash chain and check every row against the digest the journal recorded for it; exit 1 on
    any problem. `--replay` also replays the journal and compares the tables with it, column by column."""
    from ledger.journal import checkpoint_line as line_of
    from ledger.journal import parse_checkpoint
    from ledger.ops.verify import verify as run_verify

    expected = parse_checkpoint(checkpoint_line) if checkpoint_line is not None else None
    with open_ledger(ctx, write=False) as session:
        report = run_verify(session, checkpoint=expected, rows=not chain_only, replay=replay)
    if report.undigested:
        note(f"{report.undigested} entries predate record digests (schema 0004_5): the rows were checked by a replay")
    if report.ok:
        if fmt is not OutputFormat.TABLE:
            echo(render_rows([], PROBLEM_COLUMNS, fmt))
        what = "the chain" if chain_only else "the chain and every row" + (" and a replay" if report.replayed else "")
        note(f"verified: {report.head.seq} entries ({what}); {line_of(report.head)}")
        return
    echo(render_rows([vars(p) for p in report.problems], PROBLEM_COLUMNS, fmt, title="verification problems"))
    first = f"; first broken entry: {report.first_broken}" if report.first_broken is not None else ""
    note(f"verification failed: {len(report.problems)} problem(s){first}")
    raise typer.Exit(PROBLEMS_FOUND)


def checkpoint(ctx: typer.Context) -> None:
    """Print the journal's head as one line to publish or store elsewhere (for `verify --checkpoint`)."""
    from ledger.journal import checkpoint_line, head

    with open_ledger(ctx, write=False) as session:
        echo(checkpoint_line(head(session)))


def rebuild(
    ctx: typer.Context,
    check: Annotated[bool, Opt("--check", help="Replay the journal into a scratch ledger and compare.")] = False,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Replay the journal from empty and report every difference from the live tables (--check)."""
    from ledger.ops.rebuild import check as run_check

    if not check:
        raise typer.BadParameter("only --check is supported: the live tables are never replaced", param_hint="--check")
    with open_ledger(ctx, write=False) as session:
        differences = run_check(session)
    if not differences:
        note("rebuild check: the journal replays to exactly the live tables")
        return
    rows = [{"where": d.table, "record": d.record_slug, "message": d.message} for d in differences]
    echo(render_rows(rows, PROBLEM_COLUMNS, fmt, title="differences"))
    note(f"rebuild check: {len(differences)} difference(s)")
    raise typer.Exit(PROBLEMS_FOUND)
