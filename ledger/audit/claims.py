"""Checks on claims: sources that state different values for the same attribute of the same record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session, aliased

from ledger.audit.labels import label_of, named
from ledger.audit.registry import AuditOptions, Finding, Severity, check
from ledger.domain import ClaimRank
from ledger.models import Claim, Record, Source


@dataclass(frozen=True)
class _Claim:
    slug: str
    value: str
    source: str
    source_name: str
    rank: ClaimRank
    reason: str | None


def same_value(value: str) -> str:
    """A claim's value as compared: case and spacing do not make two values differ."""
    return " ".join(value.split()).casefold()


def settled(claims: list[_Claim]) -> bool:
    """Whether a rank with a reason says which value the ledger uses: one ``preferred`` value, or every
    other value ``deprecated``."""
    preferred = {same_value(c.value) for c in claims if c.rank is ClaimRank.PREFERRED}
    live = {same_value(c.value) for c in claims if c.rank is not ClaimRank.DEPRECATED}
    ranked = [c for c in claims if c.rank is not ClaimRank.NORMAL]
    reasons = all((c.reason or "").strip() for c in ranked)
    return bool(ranked) and reasons and (len(preferred) == 1 or (not preferred and len(live) == 1))


def _conflicting(session: Session) -> dict[tuple[str, str, str | None, str], list[_Claim]]:
    groups = (
        select(Claim.record_id, Claim.attribute)
        .where(Claim.retracted.is_(False))
        .group_by(Claim.record_id, Claim.attribute)
        .having(func.count(distinct(Claim.value)) > 1)
        .subquery()
    )
    target, source = aliased(Record), aliased(Source, flat=True)
    rows = session.execute(
        select(
            target.type,
            target.slug,
            label_of(target.id),
            Claim.attribute,
            Claim.slug,
            Claim.value,
            source.slug,
            func.coalesce(source.publisher, source.title),
            Claim.rank,
            Claim.rank_reason,
        )  # fmt: skip
        .join(groups, (groups.c.record_id == Claim.record_id) & (groups.c.attribute == Claim.attribute))
        .join(target, target.id == Claim.record_id)
        .join(source, source.id == Claim.source_id)
        .where(Claim.retracted.is_(False), target.retracted.is_(False))
        .order_by(target.slug, Claim.attribute, Claim.slug)
    ).all()
    result: dict[tuple[str, str, str | None, str], list[_Claim]] = defaultdict(list)
    for record_type, record, label, attribute, slug, value, source_id, name, rank, reason in rows:
        key = (record_type.value, record, label, attribute)
        result[key].append(_Claim(slug, value, source_id, name, rank, reason))
    return result


@check("conflict", severity=Severity.WARNING, family="claims")
def conflict(session: Session, _options: AuditOptions) -> Iterator[Finding]:
    """Two or more sources state different values for the same attribute of the same record; lists
    each value with its source. Quiet once a rank settles it (one claim `preferred`, or the others
    `deprecated`) with a reason; a rank without a reason does not settle it."""
    for (record_type, record, label, attribute), claims in _conflicting(session).items():
        if len({same_value(c.value) for c in claims}) < 2 or settled(claims):
            continue
        said = "; ".join(f'"{c.value}" ({c.source_name}, {c.source})' for c in claims)
        unreasoned = [c.slug for c in claims if c.rank is not ClaimRank.NORMAL and not (c.reason or "").strip()]
        hint = f" (ranked without a reason: {', '.join(unreasoned)})" if unreasoned else ""
        what = named(record_type.replace("_", " "), record, label)
        yield Finding(
            "conflict", Severity.WARNING, record_type, record,
            f"sources disagree on the {attribute} of {what}: {said}; rank one claim preferred, with a reason" + hint,
            {"attribute": attribute,
             "claims": [{"claim": c.slug, "value": c.value, "source": c.source, "rank": c.rank.value} for c in claims]},
        )  # fmt: skip
