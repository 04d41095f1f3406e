"""Alias judgements: an analyst confirms that two names are one party, or that they are not.

A judgement silences the ``aliases`` audit check for that pair for good. It is journalled like any
other change, so ``ledger history`` and a replay of the journal keep it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.domain import closest
from ledger.errors import InvalidInput, NotFound
from ledger.models import Alias, AliasJudgement, Party
from ledger.ops.base import Planned, projector, write
from ledger.schemas import AliasJudgementIn


def name_pair(a: str, b: str) -> tuple[str, str]:
    """The order-free, case-free key of a pair of names: how judgements are matched."""
    x, y = sorted((" ".join(a.split()).casefold(), " ".join(b.split()).casefold()))
    return (x, y)


def _known_names(session: Session) -> dict[str, str]:
    """Every live party name, alias name and party ID, keyed case-free, to the name it stands for."""
    party = aliased(Party, flat=True)
    names: dict[str, str] = {}
    for slug, name in session.execute(select(Party.slug, Party.name).where(Party.retracted.is_(False))):
        names.setdefault(" ".join(name.split()).casefold(), name)
        names.setdefault(slug, name)
    alias_rows = session.execute(
        select(Alias.name).join(party, party.id == Alias.party_id).where(Alias.retracted.is_(False))
    )
    for (name,) in alias_rows:
        names.setdefault(" ".join(name.split()).casefold(), name)
    return names


def plan_judgement(session: Session, data: AliasJudgementIn) -> Planned:
    """Validate a judgement: both names (or party IDs) must be in the ledger, and differ."""
    known = _known_names(session)
    resolved = []
    for option, given in (("NAME_A", data.name_a), ("NAME_B", data.name_b)):
        name = known.get(" ".join(given.split()).casefold())
        if name is None:
            suggestions = closest(given, sorted(set(known.values())))
            hint = f"did you mean: {', '.join(suggestions)}?" if suggestions else "list them with: ledger list aliases"
            raise NotFound(f"{option}: no party or alias is named {given!r}", hint=hint)
        resolved.append(name)
    a, b = sorted(resolved, key=lambda n: " ".join(n.split()).casefold())
    if name_pair(a, b)[0] == name_pair(a, b)[1]:
        raise InvalidInput(f"NAME_A and NAME_B are the same name ({a!r}); give two different names")
    payload = {"name_a": a, "name_b": b, "same": data.same, "reason": data.reason}
    return Planned("judge_alias", None, None, payload)


@projector("judge_alias")
def _apply_judgement(session: Session, p: dict[str, Any]) -> None:
    existing = session.execute(
        select(AliasJudgement).where(AliasJudgement.name_a == p["name_a"], AliasJudgement.name_b == p["name_b"])
    ).scalar_one_or_none()
    judgement = existing or AliasJudgement(name_a=p["name_a"], name_b=p["name_b"])
    judgement.same, judgement.reason = p["same"], p["reason"]
    judgement.journal_seq = session.info.get("applying_seq")
    session.add(judgement)


def judge(session: Session, data: AliasJudgementIn) -> dict[str, Any]:
    """Record the judgement and return it."""
    change = plan_judgement(session, data)
    write(session, change)
    return change.payload
