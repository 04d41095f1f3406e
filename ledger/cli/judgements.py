"""`ledger alias confirm` and `ledger alias reject`: an analyst's verdict on two names."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.add import alias_app
from ledger.cli.common import echo, open_ledger, validated

NameA = Annotated[str, typer.Argument(help="A party's name, an alias, or a party ID.")]
NameB = Annotated[str, typer.Argument(help="The other name (or party ID).")]
Reason = Annotated[str, typer.Option("--reason", help="Why: the evidence for the verdict.")]


def register(_app: typer.Typer) -> None:
    """Add the commands to the `alias` group."""
    alias_app.command("confirm")(confirm)
    alias_app.command("reject")(reject)


def _judge(ctx: typer.Context, name_a: str, name_b: str, same: bool, reason: str) -> None:
    from ledger.ops.judgements import judge
    from ledger.schemas import AliasJudgementIn

    data = validated(AliasJudgementIn, {"name_a": name_a, "name_b": name_b, "same": same, "reason": reason},
                     what="alias judgement")  # fmt: skip
    with open_ledger(ctx, write=True) as session:
        done = judge(session, data)
    verdict = "the same party" if same else "different parties"
    echo(f"{done['name_a']!r} and {done['name_b']!r}: {verdict}; the aliases check will not raise this pair again")


def confirm(ctx: typer.Context, name_a: NameA, name_b: NameB, reason: Reason) -> None:
    """Confirm that two names are one party spelled two ways (silences the aliases check for the pair)."""
    _judge(ctx, name_a, name_b, True, reason)


def reject(ctx: typer.Context, name_a: NameA, name_b: NameB, reason: Reason) -> None:
    """Record that two similar names are different parties (silences the aliases check for the pair)."""
    _judge(ctx, name_a, name_b, False, reason)
