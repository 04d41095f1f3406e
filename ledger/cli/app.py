"""The root `ledger` command: global options, command registration and the one error handler."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ledger import __version__
from ledger.cli import (
    add,
    audit,
    backup,
    correct,
    evidence,
    export,
    init,
    judgements,
    listing,
    load,
    pairing,
    report,
    sql,
    views,
)
from ledger.cli.common import Settings, set_quiet, settings
from ledger.errors import LedgerError

INTERNAL_ERROR = 70


class LedgerGroup(TyperGroup):
    """Turns expected errors into a one-line message and an exit code; tracebacks only with --debug."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; map LedgerError to its exit code."""
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except LedgerError as exc:
            if settings(ctx).debug:
                raise
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except Exception as exc:
            if settings(ctx).debug:
                raise
            detail = f"{type(exc).__name__}: {_safe_text(exc)}"
            typer.echo(f"internal error: {detail}\nthis is a bug; rerun with --debug for details", err=True)
            raise typer.Exit(INTERNAL_ERROR) from None


def _safe_text(exc: BaseException) -> str:
    """The error's first line; for a database driver error, the driver's message without SQL or values."""
    cause = getattr(exc, "orig", None) if hasattr(exc, "statement") else None
    text = str(cause if cause is not None else exc).strip()
    if hasattr(exc, "statement") and cause is None:
        return "a database statement failed"
    return text.splitlines()[0] if text else ""


app = typer.Typer(
    name="ledger",
    cls=LedgerGroup,
    help="A sourced, audited, append-only ledger of quid-pro-quo exchanges between governments.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ledger {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None, typer.Option("--db", envvar="LEDGER_DB", help="Ledger file or database URL [default: ./ledger.db].")
    ] = None,
    author: Annotated[
        str | None,
        typer.Option("--author", envvar="LEDGER_AUTHOR", help="Who is making the change [default: OS user]."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No status lines or progress bars on stderr (errors still show).")
    ] = False,
    _show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Record concessions, pair them into exchanges, keep their sources, and audit the record."""
    ctx.obj = Settings(db=db, author=author, debug=debug, quiet=quiet)
    set_quiet(quiet)


init.register(app)
add.register(app)
pairing.register(app)
listing.register(app)
load.register(app)
audit.register(app)
backup.register(app)
correct.register(app)
judgements.register(app)
views.register(app)
report.register(app)
export.register(app)
sql.register(app)
evidence.register(app)


def run() -> None:
    """Console-script entry point."""
    app(prog_name="ledger")
