"""`ledger link` and `ledger unlink`: pair concessions into exchanges, and undo a pairing."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import citation, echo, note, open_ledger, validated
from ledger.domain import LinkBasis
from ledger.errors import InvalidInput


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("link")(link)
    app.command("unlink")(unlink)


def link(
    ctx: typer.Context,
    concessions: Annotated[list[str], typer.Argument(help="IDs of the concessions to pair (two or more).")],
    basis: Annotated[str, typer.Option("--basis", help="stated, inferred or denied.")] = LinkBasis.STATED.value,
    reason: Annotated[str | None, typer.Option("--reason", help="Why (required for inferred).")] = None,
    exchange: Annotated[str | None, typer.Option("--exchange", help="Exchange ID [default: found or created].")] = None,
    source: Annotated[str | None, typer.Option("--source", help="ID of the source that states the link.")] = None,
    quote: Annotated[str | None, typer.Option("--quote", help="Its exact words ('In return, ...').")] = None,
    locator: Annotated[str | None, typer.Option("--locator", help="Where the quote stands.")] = None,
) -> None:
    """Pair concessions given by different sides into one exchange (quid and quo). A pair unlinked earlier gets
    its link back (the same ID, no longer retracted), with this reason and any new citation."""
    from ledger.ops.base import write
    from ledger.ops.link import plan_link
    from ledger.schemas import LinkIn

    data = validated(
        LinkIn,
        {"concessions": concessions, "basis": basis, "reason": reason, "exchange": exchange,
         "citations": citation(source, quote, locator)},
        what="link",
    )  # fmt: skip
    with open_ledger(ctx, write=True) as session:
        planned = plan_link(session, data)
        if planned is None:
            raise InvalidInput(f"these concessions are already linked ({data.basis.value}); nothing to do")
        write(session, planned)
    for item in planned.payload["links"]:
        echo(item["id"])
    note(f"in exchange {planned.payload['exchange']}")


def unlink(
    ctx: typer.Context,
    concessions: Annotated[list[str], typer.Argument(help="IDs of the linked concessions.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why the pairing is withdrawn.")] = None,
) -> None:
    """Withdraw the links between concessions (kept on record as retracted, with the reason; `link` restores one)."""
    from ledger.ops.base import write
    from ledger.ops.link import plan_unlink

    with open_ledger(ctx, write=True) as session:
        planned = plan_unlink(session, concessions, reason)
        write(session, planned)
    for slug in planned.payload["links"]:
        echo(f"unlinked {slug}")
