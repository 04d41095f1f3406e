"""The console script: `ledger list` and `ledger sql` (SQLite or PostgreSQL), and `--help`, start without Typer.

``ledger [COMMAND [SUBCOMMAND]] --help`` prints the text Typer prints, stored in ``help.txt`` beside this
module by ``python -m ledger.cli.docs`` (``tests/test_cli_help.py`` compares them byte for byte, at every
terminal width: on a terminal narrower than 80 columns, where click wraps help narrower, Typer prints it).

``import typer`` and building the command cost about 70 ms of CPU, more than ``ledger sql``'s whole
allowance over raw ``sqlite3`` (issue 8: 1.2x) and a quarter of ``ledger list``'s 300 ms. For the plain
forms of those two commands (the options below, each at most once, values that need no conversion
library), this module parses the command line itself and runs the same code the commands run
(``ledger.ops.concession_list``, ``ledger.db.query_without_sqlalchemy``, ``ledger.cli.render``). Anything
else (``--help``, ``--debug``, an unknown or repeated option, a value Typer would convert or refuse, a
ledger the fast path cannot read exactly) goes to the Typer app untouched, so its parsing, messages and
exit codes stay Typer's. ``tests/test_cli_quick.py`` checks that every command line this module accepts
parses to the values Typer gives, and prints the same bytes and exit code; ``tests/test_list_postgresql.py``
and ``tests/test_sql_postgresql.py`` compare the output on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ledger.errors import InvalidInput, LedgerError

#: Root options that take a value, and root flags this module handles (``--debug`` goes to Typer).
_ROOT_VALUES = {"--db": "db", "--author": "author"}
_ROOT_FLAGS = {"--quiet": "quiet", "-q": "quiet"}
_INT = re.compile(r"0|[1-9][0-9]*")
_FLOAT = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
#: A command line this module cannot run exactly as Typer does.
Declined = None


def run() -> None:
    """Console-script entry point: the quick path when it applies, else the Typer app."""
    code = main(sys.argv[1:])
    if code is Declined:
        from ledger.cli.app import run as run_app

        run_app()
        return
    sys.exit(code)


def main(argv: Sequence[str]) -> int | None:
    """Run ``ledger ARGV`` without Typer and return its exit code; None (nothing printed) when Typer must."""
    if os.environ.get("_LEDGER_COMPLETE"):
        return Declined
    if "--help" in argv or not argv:
        return _help(argv)
    split = _root(argv)
    if split is None:
        return Declined
    root, command, rest = split
    runner = _COMMANDS.get(command)
    params = None if runner is None else runner[0](rest)
    if runner is None or params is None:
        return Declined
    try:
        text, notes = runner[1](root, params)
    except LedgerError as exc:
        message = f"error: {exc}"
        if "\x1b" in message or _ascii_only(sys.stderr):
            return Declined
        sys.stderr.write(message + "\n")
        return exc.exit_code
    except Exception:  # a bug or a surprise: the Typer app runs the command and reports it
        return Declined
    if text is None or "\x1b" in text or _ascii_only(sys.stdout):
        return Declined  # Typer's echo strips escape codes when piped, and re-encodes an ASCII stdout
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        sys.stdout = _Quiet(sys.stdout)  # as click does: stop quietly when the reader has gone
        return 1
    if not root.get("quiet"):
        for line in notes:
            sys.stderr.write(line + "\n")
    return 0


def _ascii_only(stream: Any) -> bool:
    """Whether ``stream`` encodes ASCII only (click then writes through a UTF-8 wrapper of its own)."""
    import codecs

    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name == "ascii"
    except LookupError:
        return True


class _Quiet:
    """stdout after a broken pipe: flushing does nothing (the interpreter flushes at exit)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def flush(self) -> None:
        """Nothing to flush to."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _root(argv: Sequence[str]) -> tuple[dict[str, Any], str, list[str]] | None:
    """(root options, command word, the words after it), or None for anything but plain root options."""
    split = _root_words(argv)
    if split is None or not split[1]:
        return None
    return split[0], split[1][0], split[1][1:]


def _root_words(argv: Sequence[str]) -> tuple[dict[str, Any], list[str]] | None:
    """(root options, the words from the first word that is not one), or None for an unknown or repeated
    root option, or one missing its value."""
    root: dict[str, Any] = {}
    words = list(argv)
    while words:
        word = words.pop(0)
        name, eq, value = word.partition("=")
        if name in _ROOT_VALUES and _ROOT_VALUES[name] not in root:
            if not eq:
                if not words or words[0].startswith("-"):
                    return None
                value = words.pop(0)
            root[_ROOT_VALUES[name]] = value
        elif word in _ROOT_FLAGS and not eq:
            root[_ROOT_FLAGS[word]] = True
        elif word.startswith("-"):
            return None
        else:
            return root, [word, *words]
    return root, []


def _options(
    words: Sequence[str], values: dict[str, str], flags: dict[str, str], *, multiple: tuple[str, ...] = ()
) -> tuple[dict[str, Any], list[str]] | None:
    """Options (each at most once, except ``multiple``) and the other words, in order; None if unsure."""
    found: dict[str, Any] = {}
    others: list[str] = []
    rest = list(words)
    while rest:
        word = rest.pop(0)
        name, eq, value = word.partition("=")
        if name in values and not (name.startswith("-") and not name.startswith("--") and eq):
            key = values[name]
            if not eq:
                if not rest or rest[0].startswith("-"):
                    return None
                value = rest.pop(0)
            if key in multiple:
                found.setdefault(key, []).append(value)
            elif key in found:
                return None
            else:
                found[key] = value
        elif word in flags and flags[word] not in found:
            found[flags[word]] = True
        elif word.startswith("-"):
            return None
        else:
            others.append(word)
    return found, others


def _choice(value: str | None, enum: Any) -> Any:
    """The enum member whose value is exactly ``value``; ``...`` (unsure) when it is not one."""
    if value is None:
        return None
    return enum(value) if value in {m.value for m in enum} else ...


def _whole(value: str | None, minimum: int) -> Any:
    """A whole number of at least ``minimum`` written plainly (``20``, not ``020`` or ``2e1``), else ``...``."""
    if value is None:
        return None
    return int(value) if _INT.fullmatch(value) and int(value) >= minimum else ...


# --- ledger --help, ledger COMMAND [SUBCOMMAND] --help, and ledger alone -------------------------

#: The help texts as the Typer app prints them on a terminal of 80 columns or more (click wraps help to
#: ``max(min(columns, 80) - 2, 50)`` characters), generated by ``python -m ledger.cli.docs``; a test keeps
#: them equal to what Typer prints now. Narrower terminals get Typer itself.
HELP_FILE = os.path.join(os.path.dirname(__file__), "help.txt")
HELP_MARK = "#> "
HELP_COLUMNS = 80


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns`` without importing shutil (about 10 ms with its compressors)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns or HELP_COLUMNS  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = HELP_COLUMNS
    return columns


def stored_help(words: Sequence[str]) -> str | None:
    """The stored text of ``ledger WORDS --help`` (WORDS: a command, or a group and its subcommand), if any."""
    key = f"{HELP_MARK}{' '.join(['ledger', *words, '--help'])}\n"
    try:
        with open(HELP_FILE, encoding="utf-8") as file:
            stored = file.read()
    except OSError:
        return None
    start = stored.find(key)
    if start < 0 or (start and stored[start - 1] != "\n"):
        return None
    start += len(key)
    end = stored.find(f"\n{HELP_MARK}", start)
    return stored[start:] if end < 0 else stored[start : end + 1]


def _help(argv: Sequence[str]) -> int | None:
    """Print the stored help of ``ledger [ROOT OPTIONS] [COMMAND [SUBCOMMAND]] --help`` (exit 0), or of a bare
    ``ledger`` (the root help on stderr, exit 2, as Typer does); None for any other use of ``--help``."""
    if argv:
        split = _root_words(argv[:-1]) if argv[-1] == "--help" else None
        if split is None or len(split[1]) > 2 or any(w.startswith("-") for w in split[1]):
            return Declined
        path, stream, code = split[1], sys.stdout, 0
    else:
        path, stream, code = [], sys.stderr, 2
    text = stored_help(path) if terminal_columns() >= HELP_COLUMNS else None
    if text is None or (not text.isascii() and _ascii_only(stream)):
        return Declined
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        sys.stdout = _Quiet(sys.stdout)
        return 1
    return code


# --- ledger list ---------------------------------------------------------------------------------

_LIST_VALUES = {
    "--kind": "kind", "--giver": "giver", "--receiver": "receiver", "--status": "status", "--since": "since",
    "--until": "until", "--limit": "limit", "--format": "fmt", "-f": "fmt",
}  # fmt: skip
_LIST_FLAGS = {"--unpaired": "unpaired", "--all": "all_records"}


def parse_list(words: Sequence[str]) -> dict[str, Any] | None:
    """The parameters of ``list_records`` for ``ledger list WORDS``, when they are plain; else None."""
    from ledger.cli.lists import What
    from ledger.cli.render import OutputFormat
    from ledger.domain import ConcessionKind, Status

    parsed = _options(words, _LIST_VALUES, _LIST_FLAGS)
    if parsed is None or parsed[1] not in ([], [What.CONCESSIONS.value]):
        return None
    found = parsed[0]
    params: dict[str, Any] = {
        "what": What.CONCESSIONS, "kind": _choice(found.get("kind"), ConcessionKind), "giver": found.get("giver"),
        "receiver": found.get("receiver"), "status": _choice(found.get("status"), Status),
        "unpaired": found.get("unpaired", False), "since": found.get("since"), "until": found.get("until"),
        "all_records": found.get("all_records", False),
        "limit": _whole(found.get("limit"), 1),
        "fmt": _choice(found.get("fmt", OutputFormat.TABLE.value), OutputFormat),
    }  # fmt: skip
    return None if ... in params.values() else params


def _list(root: dict[str, Any], p: dict[str, Any]) -> tuple[str | None, list[str]]:
    from ledger.cli.lists import COLUMNS
    from ledger.cli.render import render_rows
    from ledger.db import read_connection
    from ledger.domain import FuzzyDate
    from ledger.ops.concession_list import ConcessionFilter, list_concessions

    filters = ConcessionFilter(
        kind=p["kind"], giver=p["giver"], receiver=p["receiver"], status=p["status"], unpaired=p["unpaired"],
        since=FuzzyDate.parse(p["since"]) if p["since"] else None,
        until=FuzzyDate.parse(p["until"]) if p["until"] else None,
        include_retracted=p["all_records"], limit=p["limit"],
    )  # fmt: skip
    opened = read_connection(root.get("db"))  # sqlite3 or psycopg, without SQLAlchemy
    if opened is None:
        return None, []
    connection, errors = opened
    try:
        rows = list_concessions(connection, filters)
    except errors:  # the Typer app opens the ledger its own way and reports the problem
        return None, []
    finally:
        connection.close()
    if rows is None:
        return None, []
    return render_rows(rows, COLUMNS[p["what"]], p["fmt"], title=p["what"].value), []


# --- ledger sql ----------------------------------------------------------------------------------

_SQL_VALUES = {"--param": "param", "-p": "param", "--format": "fmt", "-f": "fmt", "--max-rows": "max_rows",
               "--timeout": "timeout"}  # fmt: skip


def sql_value(value: str) -> int | str:
    """A ``-p`` value: whole numbers become integers, anything else stays text."""
    digits = value.removeprefix("-")
    return int(value) if digits.isascii() and digits.isdigit() else value


def sql_params(names: list[str], values: list[str]) -> dict[str, int | str]:
    """``-p a=1`` pairs, and ``-p a 1``: the value after the name lands among the arguments, in order."""
    out: dict[str, int | str] = {}
    for name in names:
        if "=" in name:
            key, value = name.split("=", 1)
        elif values:
            key, value = name, values.pop(0)
        else:
            raise InvalidInput(f"-p {name}: give a value (-p {name} VALUE)")
        out[key] = sql_value(value)
    if values:
        raise InvalidInput(f"give the query as one quoted argument; unexpected: {' '.join(values)}")
    return out


def parse_sql(words: Sequence[str]) -> dict[str, Any] | None:
    """The parameters of the ``sql`` command for ``ledger sql WORDS``, when they are plain; else None."""
    from ledger.cli.render import OutputFormat

    parsed = _options(words, _SQL_VALUES, {}, multiple=("param",))
    if parsed is None or not parsed[1]:
        return None
    found, query = parsed
    timeout = found.get("timeout", "10.0")
    params: dict[str, Any] = {
        "query": query, "param": found.get("param", ()),
        "fmt": _choice(found.get("fmt", OutputFormat.TABLE.value), OutputFormat),
        "max_rows": _whole(found.get("max_rows", "10000"), 1),
        "timeout": float(timeout) if _FLOAT.fullmatch(timeout) and float(timeout) >= 0.1 else ...,
    }  # fmt: skip
    return None if ... in params.values() else params


def _sql(root: dict[str, Any], p: dict[str, Any]) -> tuple[str | None, list[str]]:
    from ledger.cli.render import render_rows
    from ledger.db import query_without_sqlalchemy

    params = sql_params(list(p["param"] or []), p["query"][1:])
    result = query_without_sqlalchemy(
        root.get("db"), p["query"][0], params, max_rows=p["max_rows"], seconds=p["timeout"]
    )  # sqlite3 or psycopg; None when SQLAlchemy must run it
    if result is None:
        return None, []
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    notes = [f"only the first {p['max_rows']} rows are shown (--max-rows)"] if result.truncated else []
    return render_rows(rows, result.columns, p["fmt"]), notes


_Parse = Callable[[Sequence[str]], dict[str, Any] | None]
_Run = Callable[[dict[str, Any], dict[str, Any]], tuple[str | None, list[str]]]
_COMMANDS: dict[str, tuple[_Parse, _Run]] = {"list": (parse_list, _list), "sql": (parse_sql, _sql)}
