"""`ledger balance` and `ledger timeline`: who gave what, and in what order."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ledger.cli.common import echo, open_ledger
from ledger.cli.render import OutputFormat, render_rows, to_json

FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
BALANCE_COLUMNS = ["exchange", "side", "direction", "kind", "status", "quantity", "unit", "items", "concessions"]
OUTSTANDING_COLUMNS = ["side", "id", "status", "due", "summary"]
TIMELINE_COLUMNS = ["date", "what", "record", "party", "status", "text"]


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("balance")(balance)
    app.command("timeline")(timeline)


def balance(
    ctx: typer.Context,
    exchange: Annotated[str | None, typer.Option("--exchange", help="Only this exchange.")] = None,
    party: Annotated[str | None, typer.Option("--party", help="Only this party's side.")] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """What each side gave and received, per exchange and in total, and the promises still outstanding."""
    from dataclasses import asdict

    from ledger.ops.views import balance as compute

    with open_ledger(ctx, write=False) as session:
        result = compute(session, exchange=exchange, party=party)
    lines = [asdict(line) | {"text": line.text()} for line in result["lines"]]
    if fmt is OutputFormat.JSON:
        echo(to_json({"lines": lines, "outstanding": result["outstanding"]}))
    elif fmt is OutputFormat.TABLE:
        echo(balance_text(lines, result["outstanding"], result["titles"]))
    else:
        echo(render_rows(lines, BALANCE_COLUMNS, fmt))


def balance_text(lines: list[dict[str, Any]], outstanding: list[dict[str, Any]], titles: dict[str, str]) -> str:
    """The balance as sentences: ``Belarus gave: 123 person prisoner release (delivered), ...``."""
    if not lines:
        return "no concessions recorded yet: add one with `ledger add`, or load a file with `ledger import`"
    out: list[str] = []
    scope = None
    for line in lines:
        if line["exchange"] != scope:
            scope = line["exchange"]
            title = titles.get(scope, "every concession, each counted once")
            out.append(("\n" if out else "") + f"{scope}: {title}")
            said: set[tuple[str, str]] = set()
        key = (line["side_name"], line["direction"])
        if key in said:
            out[-1] += f", {line['text']}"
        else:
            said.add(key)
            out.append(f"  {line['side_name']} {line['direction']}: {line['text']}")
    out.append("\noutstanding promises:" if outstanding else "\nno outstanding promises")
    out += [f"  {o['side_name']}: {o['id']} ({o['status']}, due {o['due']}): {o['summary']}" for o in outstanding]
    return "\n".join(out)


def timeline(
    ctx: typer.Context,
    exchange: Annotated[str | None, typer.Option("--exchange", help="Only this exchange.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="On or after (YYYY[-MM[-DD]]).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="On or before (YYYY[-MM[-DD]]).")] = None,
    fmt: FormatOpt = OutputFormat.TABLE,
) -> None:
    """Concessions, status changes and sources in date order; fuzzy dates as ranges, unknown dates last."""
    from ledger.domain import FuzzyDate
    from ledger.errors import InvalidInput
    from ledger.ops.views import timeline as compute

    try:
        start, end = (FuzzyDate.parse(v) if v else None for v in (since, until))
    except InvalidInput as exc:
        raise InvalidInput(f"--since/--until: {exc.message}") from None
    with open_ledger(ctx, write=False) as session:
        events = compute(session, exchange=exchange, since=start, until=end)
    echo(render_rows([e.as_row() for e in events], TIMELINE_COLUMNS, fmt, title="timeline"))
