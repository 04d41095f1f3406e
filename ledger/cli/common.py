"""What every command shares: global settings, opening the ledger, turning pydantic errors into messages."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from ledger.errors import InvalidInput

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.orm import Session

M = TypeVar("M", bound="BaseModel")
T = TypeVar("T")


@dataclass
class Settings:
    """Global options given before the command."""

    db: str | None = None
    author: str | None = None
    debug: bool = False
    quiet: bool = False


def settings(ctx: typer.Context) -> Settings:
    """The global options of this invocation."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings()
    return root.obj


@contextmanager
def open_ledger(ctx: typer.Context, *, write: bool, dry_run: bool = False) -> Iterator[Session]:
    """A session on the ledger in one transaction; refuses a missing or un-migrated database."""
    from ledger.db import make_engine, resolve_url, session_scope
    from ledger.journal import default_author

    options = settings(ctx)
    url = resolve_url(options.db)
    engine = make_engine(url)
    try:
        with session_scope(engine, write=write, url=url, dry_run=dry_run) as session:
            session.info["author"] = options.author or default_author()
            yield session
    finally:
        engine.dispose()


def fast_read(ctx: typer.Context, query: Callable[[Any], T | None]) -> T | None:
    """``query`` on a read-only connection of the database driver alone (``sqlite3``, or psycopg on
    PostgreSQL), without loading SQLAlchemy; or None.

    None when the ledger cannot be opened that way at the current schema (see ``ledger.db.read_connection``),
    when the query cannot answer, or when the driver reports a problem: the caller then opens the ledger
    with ``open_ledger``, which reports any problem as every command does.
    """
    from ledger.db import read_connection

    opened = read_connection(settings(ctx).db)
    if opened is None:
        return None
    connection, errors = opened
    try:
        return query(connection)
    except errors:
        return None
    finally:
        connection.close()


def drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """Options the user actually gave."""
    return {k: v for k, v in values.items() if v is not None and v != [] and v != ()}


def validated(model: type[M], data: Mapping[str, Any], *, what: str) -> M:
    """Validate CLI input with the same model import files use; errors name the option and the value."""
    from pydantic import ValidationError

    try:
        return model.model_validate(drop_none(data))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = [str(p) for p in error["loc"] if not isinstance(p, int)]
            option = "--" + loc[0].replace("_", "-") if loc else what
            shown = error.get("input")
            got = f" (got {shown!r})" if not isinstance(shown, dict) else ""
            problems.append(f"{option}: {error['msg']}{got}")
        raise InvalidInput(f"invalid {what}:", problems=problems) from None


def count_text(value: str | None) -> int | str | None:
    """A count from the command line: digits only, so ``5_000`` and ``1e3`` stay text and are refused."""
    if value is None:
        return None
    text = value.strip()
    digits = text.removeprefix("-")
    return int(text) if digits.isascii() and digits.isdigit() else value


def date_value(value: str | None, text: str | None = None) -> dict[str, Any] | str | None:
    """A date option: ``--date 2025-12`` with ``--date-text 'last month'``, or either alone."""
    if value is None and text is None:
        return None
    if text is None:
        return value
    return {"text": text, "value": value}


def citation(source: str | None, quote: str | None, locator: str | None = None) -> list[dict[str, Any]]:
    """The citation given by ``--source/--quote/--locator``, if any."""
    if source is None:
        if quote is not None or locator is not None:
            raise InvalidInput("--quote and --locator need --source (the source they come from)")
        return []
    return [drop_none({"source": source, "quote": quote, "locator": locator})]


def echo(text: str) -> None:
    """Print a result to standard output."""
    typer.echo(text)


#: Set by the root callback from ``--quiet``: status lines and progress bars stay silent.
QUIET = {"on": False}


def set_quiet(value: bool) -> None:
    """Silence (or restore) status lines and progress bars for this invocation."""
    QUIET["on"] = value


def note(text: str) -> None:
    """Print a status line to standard error (keeps stdout clean for pipes); silent with --quiet."""
    if not QUIET["on"]:
        typer.echo(text, err=True)


def progress(items: Iterable[Any], description: str, *, total: int | None = None) -> Iterator[Any]:
    """Yield ``items``, drawing a progress bar on standard error when it is a terminal and not --quiet."""
    if QUIET["on"] or not sys.stderr.isatty():
        yield from items
        return
    from rich.console import Console
    from rich.progress import track

    console = Console(stderr=True, no_color="NO_COLOR" in os.environ)
    yield from track(items, description=description, total=total, console=console, transient=True)
