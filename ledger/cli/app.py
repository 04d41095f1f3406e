"""The root `ledger` command: global options, command registration and the one error handler."""

from __future__ import annotations

import copy
import inspect
import os
import sys
from collections.abc import Sequence
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
    """Turns expected errors into a one-line message and an exit code; tracebacks only with --debug.

    Before parsing, every parameter gets the light coercion of ledger.cli.coercion (no pydantic for
    obvious values such as ``--limit 20``).
    """

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Parse and run, with obvious values converted without pydantic."""
        try:
            from ledger.cli.coercion import lighten
        except ImportError:  # a Typer without the internals it builds on: Typer's coercion does everything
            pass
        else:
            lighten(self)
        return super().main(*args, **kwargs)

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


#: Options of the root command that take a value (``--db FILE``): the word after them is not the command.
ROOT_VALUE_OPTIONS = ("--db", "--author")


def command_word(argv: Sequence[str]) -> str | None:
    """The command named on the command line (``list`` in ``ledger --db x.db list --limit 20``), if any."""
    words = iter(argv)
    for word in words:
        if word == "--":
            return next(words, None)
        if word in ROOT_VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def app_for(argv: Sequence[str]) -> typer.Typer:
    """The app narrowed to the one command ``argv`` runs; the whole app for ``--help``, completion or a typo.

    Typer builds every registered command's parameters (their signatures, type hints and defaults)
    before it parses anything: about 40 ms for all our commands, where one command needs 2 ms. A
    narrowed copy parses and runs exactly as the whole app does, so the root help, the docs generator,
    shell completion and "No such command" suggestions keep seeing every command.
    """
    name = command_word(argv)
    if "_LEDGER_COMPLETE" in os.environ:
        return app
    if name is None:
        return _listing() if "--help" in argv or not argv else app
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands, narrowed.registered_groups = commands, groups
    return narrowed


def _listed() -> None:
    """Stands in for a command in the root help, which shows only its name and help text."""


def _listing() -> typer.Typer:
    """The app as ``ledger --help`` shows it: each command's name and help text, none of its parameters.

    The root help lists commands with their one-line help; building their parameters (about 30 ms for
    all of them) would be wasted. Groups keep their own help and callback, without their subcommands.
    """
    listing = copy.copy(app)
    listing.registered_commands = []
    for info in app.registered_commands:
        stub = copy.copy(info)
        stub.help = info.help if info.help is not None else inspect.getdoc(info.callback)
        stub.callback = _listed
        listing.registered_commands.append(stub)
    listing.registered_groups = []
    for group in app.registered_groups:
        stub_group = copy.copy(group)
        if group.typer_instance is not None:
            stub_group.typer_instance = copy.copy(group.typer_instance)
            stub_group.typer_instance.registered_commands, stub_group.typer_instance.registered_groups = [], []
        listing.registered_groups.append(stub_group)
    return listing


def run() -> None:
    """Console-script entry point: builds only the command being run (see ``app_for``)."""
    app_for(sys.argv[1:])(prog_name="ledger")
