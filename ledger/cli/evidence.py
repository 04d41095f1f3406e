"""`ledger claim rank` and `ledger source snapshot`: rank a claim, keep a source's text to check quotes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.add import claim_app, source_app
from ledger.cli.common import echo, open_ledger, settings, validated
from ledger.domain import ClaimRank


def register(_app: typer.Typer) -> None:
    """Add the commands to the `claim` and `source` groups."""
    claim_app.command("rank")(rank_claim)
    source_app.command("snapshot")(snapshot_source)


def rank_claim(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(help="ID of the claim.")],
    rank: Annotated[ClaimRank, typer.Argument(help="preferred (the value in use), normal or deprecated.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why; required for preferred and deprecated.")] = None,
) -> None:
    """Rank a claim: the preferred value is the one the ledger uses; a deprecated one is kept but not used."""
    from ledger.journal import default_author
    from ledger.ops.base import write
    from ledger.ops.evidence import plan_rank
    from ledger.schemas import RankIn

    data = validated(RankIn, {"claim": id, "rank": rank.value, "reason": reason}, what="rank")
    with open_ledger(ctx, write=True) as session:
        write(session, plan_rank(session, data, author=settings(ctx).author or default_author()))
    echo(f"{id}: {rank.value}")


def snapshot_source(
    ctx: typer.Context,
    id: Annotated[str, typer.Argument(help="ID of the source.")],
    file: Annotated[Path, typer.Argument(help="The source's text as retrieved (UTF-8).")],
    hash_only: Annotated[
        bool, typer.Option("--hash-only", help="Keep only its SHA-256 and length (text that may not be shared).")
    ] = False,
    retrieved_at: Annotated[
        str | None, typer.Option("--retrieved-at", help="When it was retrieved (ISO date-time) [default: now].")
    ] = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Accept a text whose SHA-256 differs from the one recorded.")
    ] = False,
) -> None:
    """Keep a snapshot of a source, so the `quotes` check can find every quote in it verbatim."""
    import datetime as dt

    from ledger.io.snapshots import read_snapshot
    from ledger.ops.base import write
    from ledger.ops.evidence import plan_snapshot
    from ledger.schemas import SnapshotIn

    snapshot = read_snapshot(file, hash_only=hash_only)
    when = retrieved_at or dt.datetime.now(dt.UTC).isoformat()
    data = {"source": id, "text": snapshot.text, "sha256": snapshot.sha256, "length": snapshot.length}
    data.update(retrieved_at=when, replace=replace)
    with open_ledger(ctx, write=True) as session:
        write(session, plan_snapshot(session, validated(SnapshotIn, data, what="snapshot")))
    kept = "hash only" if hash_only else "text"
    echo(f"{id}: {kept}, sha256 {snapshot.sha256}, {snapshot.length} bytes")
