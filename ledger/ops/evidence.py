"""Evidence operations: ranking a claim, and keeping a snapshot of a source to check quotes against."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from ledger.domain import ClaimRank, FuzzyDate, Precision, RecordType
from ledger.errors import InvalidInput
from ledger.models import Beneficiary, Claim, Concession, Record, Source
from ledger.ops.base import Planned, get, projector, slug_ids

if TYPE_CHECKING:  # only for annotations: `ledger list` must not import the input schemas
    from ledger.schemas import RankIn, SnapshotIn


def plan_rank(session: Session, data: RankIn, *, author: str) -> Planned:
    """Validate a new rank for a live claim; ``author`` (who ranks it) is kept with the reason."""
    claim = get(session, Claim, data.claim, field="ID")
    if claim.retracted:
        raise InvalidInput(f"claim {data.claim} is retracted; rank a live claim")
    if claim.rank is data.rank and claim.rank_reason == data.reason:
        raise InvalidInput(f"claim {data.claim} is already {data.rank.value} for that reason; nothing to do")
    payload: dict[str, Any] = {"claim": data.claim, "rank": data.rank.value, "author": author}
    if data.reason:
        payload["reason"] = data.reason
    return Planned("rank_claim", RecordType.CLAIM, data.claim, payload)


@projector("rank_claim")
def _apply_rank(session: Session, p: dict[str, Any]) -> None:
    claim = session.get(Claim, slug_ids(session, [p["claim"]])[p["claim"]])
    assert claim is not None
    claim.rank, claim.rank_reason, claim.rank_author = ClaimRank(p["rank"]), p.get("reason"), p["author"]


def plan_snapshot(session: Session, data: SnapshotIn) -> Planned:
    """Validate a snapshot of a live source; a file whose hash differs from the recorded one needs ``replace``."""
    source = get(session, Source, data.source, field="ID")
    if source.retracted:
        raise InvalidInput(f"source {data.source} is retracted")
    recorded = source.snapshot_sha256
    if recorded is not None and recorded != data.sha256 and not data.replace:
        raise InvalidInput(
            f"FILE is not the text recorded for source {data.source}: its SHA-256 is {data.sha256} "
            f"({data.length} bytes), the ledger records {recorded} ({source.snapshot_length} bytes)",
            hint="check that it is the same article; to record this version instead, pass --replace",
        )
    payload: dict[str, Any] = data.model_dump(mode="json", exclude_none=True, exclude={"replace"})
    return Planned("snapshot_source", RecordType.SOURCE, data.source, payload)


@projector("snapshot_source")
def _apply_snapshot(session: Session, p: dict[str, Any]) -> None:
    source = session.get(Source, slug_ids(session, [p["source"]])[p["source"]])
    assert source is not None
    source.snapshot_text, source.snapshot_sha256 = p.get("text"), p["sha256"]
    source.snapshot_length, source.retrieved_at = p["length"], p["retrieved_at"]


# --- reading: claims in use, and the evidence fields of concessions --------------------------------


def mark_in_use(claims: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set ``in_use`` on each claim row: per record and attribute, the live claims of the best rank present
    (preferred if any, else normal; never deprecated), as Wikidata's "best rank" does."""
    best: dict[tuple[str, str], str] = {}
    for c in claims:
        if not c["retracted"] and c["rank"] != ClaimRank.DEPRECATED.value:
            key = (c["record"], c["attribute"])
            if best.get(key) != ClaimRank.PREFERRED.value:
                best[key] = c["rank"]
    for c in claims:
        c["in_use"] = not c["retracted"] and best.get((c["record"], c["attribute"])) == c["rank"]
    return claims


def values_in_use(claims: list[dict[str, Any]]) -> dict[str, str]:
    """Attribute -> the value the ledger uses; several different values in use are shown as unsettled."""
    values: dict[str, list[str]] = {}
    for c in claims:
        if c.get("in_use"):
            values.setdefault(c["attribute"], [])
            if c["value"] not in values[c["attribute"]]:
                values[c["attribute"]].append(c["value"])
    return {a: v[0] if len(v) == 1 else " | ".join(v) + " (unsettled: rank one preferred)" for a, v in values.items()}


def _fuzzy_row(text: str | None, value: Any, precision: Any) -> dict[str, Any] | None:
    if text is None and value is None:
        return None
    fuzzy = FuzzyDate(text=text, value=value, precision=Precision(precision))
    return {"text": fuzzy.text, "value": fuzzy.iso(), "precision": fuzzy.precision.value, "shown": fuzzy.describe()}


def concession_evidence(session: Session, concessions: list[Concession]) -> dict[int, dict[str, Any]]:
    """Per concession: conditions, expiry and renewals, the legal instrument and its dates, the release form,
    and the roster (named beneficiaries against the stated count)."""
    ids = [c.id for c in concessions]
    named = dict(
        session.execute(
            select(Beneficiary.concession_id, func.count())
            .where(Beneficiary.concession_id.in_(ids))
            .group_by(Beneficiary.concession_id)
        ).all()
    )
    renewal = aliased(Concession, flat=True)
    renewed_by: dict[int, list[str]] = {}
    for renews_id, slug in session.execute(
        select(renewal.renews_id, renewal.slug)
        .where(renewal.renews_id.in_(ids), renewal.retracted.is_(False))
        .order_by(renewal.slug)
    ):
        renewed_by.setdefault(renews_id or 0, []).append(slug)
    renews_ids = {c.renews_id for c in concessions if c.renews_id is not None}
    slugs = dict(session.execute(select(Record.id, Record.slug).where(Record.id.in_(renews_ids))).all())
    out = {}
    for c in concessions:
        count = named.get(c.id, 0)
        out[c.id] = {
            "conditions": c.conditions, "expires": _fuzzy_row(c.expires_text, c.expires_on, c.expires_precision),
            "renews": slugs.get(c.renews_id) if c.renews_id else None, "renewed_by": renewed_by.get(c.id, []),
            "instrument": c.instrument.value if c.instrument else None, "authority": c.authority,
            "programme": c.programme, "instrument_ref": c.instrument_ref,
            "announced": _fuzzy_row(c.announced_text, c.announced_on, c.announced_precision),
            "effective": _fuzzy_row(c.effective_text, c.effective_on, c.effective_precision),
            "release_form": c.release_form.value if c.release_form else None, "destination": c.destination,
            "named": count, "roster": f"{count} named of {c.quantity}" if c.quantity is not None else f"{count} named",
        }  # fmt: skip
    return out
