"""Pairing concessions into exchanges (link) and undoing a pairing (unlink), both journalled."""

from __future__ import annotations

import hashlib
from itertools import combinations
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, aliased

from ledger.domain import LinkBasis, RecordType
from ledger.errors import InvalidInput
from ledger.models import Concession, Exchange, ExchangeMember, ExchangeSide, Link, Party, Record
from ledger.ops import state
from ledger.ops.add import Problems, _apply_citations, _check_citations
from ledger.ops.base import Planned, add_record, ensure_new, find, get, new_record, projector, slug_ids, unique_slug
from ledger.schemas import LinkIn


def principal(party: Party) -> Party:
    """The party a giver ultimately acts for (Lukashenko -> Belarus); a side of an exchange."""
    seen = {party.id}
    while party.acts_for is not None and party.acts_for.id not in seen:
        party = party.acts_for
        seen.add(party.id)
    return party


def link_slug(quid: str, quo: str, basis: LinkBasis) -> str:
    """A link's stable, readable ID (hashed when the readable form would be too long)."""
    readable = f"link-{quid}--{quo}" + ("" if basis is LinkBasis.STATED else f"--{basis.value}")
    if len(readable) <= 128:
        return readable
    return "link-" + hashlib.sha256(f"{quid}\x1f{quo}\x1f{basis.value}".encode()).hexdigest()[:16]


def _exchanges_of(session: Session, concession_ids: list[int], exchange: str | None = None) -> dict[int, str]:
    """Concession key -> the exchange it belongs to (only ``exchange`` when given)."""
    stmt = (
        select(ExchangeMember.concession_id, Record.slug)
        .join(Record, Record.id == ExchangeMember.exchange_id)
        .where(ExchangeMember.concession_id.in_(concession_ids))
        .order_by(Record.slug)
    )
    if exchange is not None:
        stmt = stmt.where(Record.slug == exchange)
    return dict(session.execute(stmt).all())


def _unlinked(session: Session, quid: int, quo: int, basis: LinkBasis) -> str | None:
    """The ID of a retracted link from ``quid`` to ``quo`` on ``basis`` (the table holds one per triple)."""
    found: str | None = session.execute(
        select(Link.slug).where(Link.quid_id == quid, Link.quo_id == quo, Link.basis == basis, Link.retracted.is_(True))
    ).scalar_one_or_none()
    return found


def _existing_link(session: Session, a: int, b: int, basis: LinkBasis) -> bool:
    found = session.execute(
        select(Link.id).where(
            Link.basis == basis,
            Link.retracted.is_(False),
            or_((Link.quid_id == a) & (Link.quo_id == b), (Link.quid_id == b) & (Link.quo_id == a)),
        )
    ).first()
    return found is not None


def _target_exchange(session: Session, data: LinkIn, concessions: list[Concession]) -> tuple[str, bool]:
    current = _exchanges_of(session, [c.id for c in concessions])
    in_use = sorted(set(current.values()))
    if data.exchange is not None:
        record = find(session, data.exchange)
        if record is not None and not isinstance(record, Exchange):
            raise InvalidInput(f"exchange: {data.exchange!r} is a {record.type.value}, not an exchange")
        # Named explicitly, an exchange may take a concession that is also part of another deal.
        return data.exchange, record is None
    if len(in_use) > 1:
        raise InvalidInput(
            f"these concessions belong to different exchanges ({', '.join(in_use)})",
            hint="name the exchange with --exchange",
        )
    if in_use:
        return in_use[0], False
    return unique_slug(session, f"exchange-{concessions[0].slug}"), True


def plan_link(session: Session, data: LinkIn) -> Planned | None:
    """Validate a pairing; None when every link it asks for already exists."""
    problems = Problems()
    found = [
        problems.check(get, session, Concession, s, field=f"concessions[{i}]") for i, s in enumerate(data.concessions)
    ]
    problems.raise_if_any("link")
    concessions: list[Concession] = found
    sides = {c.slug: principal(_party(session, c.giver_id)).slug for c in concessions}
    if len(set(sides.values())) < 2:
        raise InvalidInput(
            f"all these concessions were given by the side of {next(iter(sides.values()))}; "
            "a link pairs what different sides gave"
        )
    exchange, new = _target_exchange(session, data, concessions)
    members = _exchanges_of(session, [c.id for c in concessions], exchange)
    links: list[dict[str, Any]] = []
    for quid, quo in combinations(concessions, 2):
        if sides[quid.slug] == sides[quo.slug] or _existing_link(session, quid.id, quo.id, data.basis):
            continue
        unlinked = _unlinked(session, quid.id, quo.id, data.basis)
        if unlinked is not None:  # linked before, then unlinked: the same link record is restored
            slug = unlinked
            if data.id is not None and data.id != unlinked:
                problems.items.append(
                    f"{quid.slug} and {quo.slug} were linked before as {unlinked}: link them again without --id"
                )
        elif data.id is not None:
            slug = data.id if not links else f"{data.id}-{len(links) + 1}"
            problems.check(ensure_new, session, slug)
        else:
            slug = link_slug(quid.slug, quo.slug, data.basis)
        link: dict[str, Any] = {"id": slug, "quid": quid.slug, "quo": quo.slug, "basis": data.basis.value}
        if unlinked is not None:
            link["restore"] = True
        if data.reason:
            link["reason"] = data.reason
        # A restored link keeps the citations it had; only new ones are added.
        citations = [
            c for c in _check_citations(session, problems, slug, data.citations) if find(session, c["id"]) is None
        ]
        if citations:
            link["citations"] = citations
        links.append(link)
    problems.raise_if_any("link")
    if not links:
        return None
    payload: dict[str, Any] = {
        "exchange": exchange,
        "members": [{"concession": c.slug, "side": sides[c.slug]} for c in concessions if c.id not in members],
        "links": links,
    }
    if new:
        payload["new_exchange"] = {"title": " for ".join(c.summary for c in concessions[:2])[:300]}
    return Planned("link", RecordType.EXCHANGE, exchange, payload)


def _party(session: Session, party_id: int) -> Party:
    party = session.get(Party, party_id)
    assert party is not None
    return party


@projector("link")
def _apply_link(session: Session, p: dict[str, Any]) -> None:
    if "new_exchange" in p:
        new_record(session, Exchange, p["exchange"], title=p["new_exchange"]["title"])
    refs = [p["exchange"], *(m["side"] for m in p["members"]), *(m["concession"] for m in p["members"])]
    refs += [x for link in p["links"] for x in (link["quid"], link["quo"])]
    ids = slug_ids(session, refs)
    exchange_id = ids[p["exchange"]]
    side_ids = dict(
        session.execute(
            select(ExchangeSide.party_id, ExchangeSide.id).where(ExchangeSide.exchange_id == exchange_id)
        ).all()
    )
    for member in p["members"]:
        party_id = ids[member["side"]]
        if party_id not in side_ids:
            side = ExchangeSide(exchange_id=exchange_id, party_id=party_id)
            session.add(side)
            session.flush()
            side_ids[party_id] = side.id
        session.add(
            ExchangeMember(exchange_id=exchange_id, side_id=side_ids[party_id], concession_id=ids[member["concession"]])
        )
    for link in p["links"]:
        citations = link.get("citations", [])
        if link.get("restore"):
            restored = session.get(Link, slug_ids(session, [link["id"]])[link["id"]])
            assert restored is not None
            restored.retracted, restored.exchange_id, restored.reason = False, exchange_id, link.get("reason")
            session.flush()
            if citations:
                _apply_citations(session, restored.id, citations)
            continue
        row = (new_record if citations else add_record)(  # a link's own key is needed only by its citations
            session, Link, link["id"], exchange_id=exchange_id, quid_id=ids[link["quid"]], quo_id=ids[link["quo"]],
            basis=LinkBasis(link["basis"]), reason=link.get("reason"),
        )  # fmt: skip
        if citations:
            _apply_citations(session, row.id, citations)


def plan_unlink(session: Session, concession_slugs: list[str], reason: str | None) -> Planned:
    """Validate undoing the links between these concessions (the links stay on record, retracted)."""
    if len(concession_slugs) < 2:
        raise InvalidInput("name at least two concessions to unlink")
    problems = Problems()
    found = [
        problems.check(get, session, Concession, s, field=f"concessions[{i}]") for i, s in enumerate(concession_slugs)
    ]
    problems.raise_if_any("unlink")
    ids = [c.id for c in found]
    quid, quo = aliased(Record), aliased(Record)
    rows = session.execute(
        select(Link.slug, Link.exchange_id, quid.slug, quo.slug)
        .join(quid, quid.id == Link.quid_id)
        .join(quo, quo.id == Link.quo_id)
        .where(Link.retracted.is_(False), Link.quid_id.in_(ids), Link.quo_id.in_(ids))
        .order_by(Link.slug)
    ).all()
    if not rows:
        raise InvalidInput(f"there is no link between {', '.join(concession_slugs)}")
    removed = {r[0] for r in rows}
    remove_members = []
    for exchange_id in sorted({r[1] for r in rows}):
        for concession in found:
            if not _has_other_links(session, exchange_id, concession.id, removed):
                exchange_slug = session.execute(select(Record.slug).where(Record.id == exchange_id)).scalar_one()
                remove_members.append({"exchange": exchange_slug, "concession": concession.slug})
    payload: dict[str, Any] = {"links": sorted(removed), "remove_members": remove_members}
    if reason:
        payload["reason"] = reason
    return Planned("unlink", RecordType.EXCHANGE, remove_members[0]["exchange"] if remove_members else None, payload)


def _has_other_links(session: Session, exchange_id: int, concession_id: int, removed: set[str]) -> bool:
    rows = session.execute(
        select(Link.slug).where(
            Link.exchange_id == exchange_id,
            Link.retracted.is_(False),
            or_(Link.quid_id == concession_id, Link.quo_id == concession_id),
        )
    ).scalars()
    return any(slug not in removed for slug in rows)


@projector("unlink")
def _apply_unlink(session: Session, p: dict[str, Any]) -> None:
    session.execute(update(Record).where(Record.slug.in_(p["links"])).values(retracted=True))
    state.touch_records(session, slug_ids(session, p["links"]).values())
    for member in p["remove_members"]:
        ids = slug_ids(session, [member["exchange"], member["concession"]])
        state.touch_records(session, [ids[member["exchange"]]])
        session.execute(
            delete(ExchangeMember).where(
                ExchangeMember.exchange_id == ids[member["exchange"]],
                ExchangeMember.concession_id == ids[member["concession"]],
            )
        )
