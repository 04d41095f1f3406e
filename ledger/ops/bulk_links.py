"""Planning the links of a streamed batch as ``plan_link`` plans one, from a few queries per batch.

``plan_link`` loads each concession, walks its giver's ``acts_for`` chain, and asks the database for the
exchanges the concessions belong to and for links that already exist, once per link. Here the batch's
concessions, memberships and existing links are fetched once, kept in dictionaries, and updated as each
link of the batch is planned, so the payloads are the ones ``plan_link`` would build line by line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import combinations
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.models import Concession, ExchangeMember, Link, Party, Record
from ledger.ops.base import unique_slug
from ledger.ops.bulk_plan import cited
from ledger.ops.bulk_sql import in_list
from ledger.ops.link import link_slug
from ledger.schemas import LinkIn

#: The record type of an ID (known in the ledger or made earlier in the batch), or None.
TypeOf = Callable[[str], str | None]


class LinkPlanner:
    """What link planning needs to know, for one streamed file."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.acts_for: dict[str, str | None] | None = None  # party -> the party it acts for (loaded on first use)
        self.concessions: dict[str, tuple[str, str]] = {}  # concession -> (giver, summary), for one batch
        self.members: dict[str, set[str]] = {}  # concession -> the exchanges it belongs to
        self.linked: set[tuple[str, str, str]] = set()  # (quid, quo, basis) of live links
        self.unlinked: dict[tuple[str, str, str], str] = {}  # (quid, quo, basis) of retracted links -> their ID

    def note_party(self, slug: str, acts_for: str | None) -> None:
        """A party added by this file."""
        if self.acts_for is not None:
            self.acts_for[slug] = acts_for

    def note_concession(self, slug: str, giver: str, summary: str) -> None:
        """A concession added by this file (in the batch being planned; forgotten with the batch)."""
        self.concessions[slug] = (giver, summary)

    def prepare(self, links: Iterable[LinkIn]) -> None:
        """Fetch the batch's concessions, their exchanges and the links between them."""
        wanted = {slug for link in links for slug in link.concessions}
        self.concessions, self.members, self.linked, self.unlinked = {}, {}, set(), {}
        if not wanted:
            return
        if self.acts_for is None:
            party, boss = aliased(Record), aliased(Record)
            self.acts_for = dict(
                self.session.execute(
                    select(party.slug, boss.slug)
                    .select_from(Party.__table__)
                    .join(party, party.id == Party.__table__.c.id)
                    .outerjoin(boss, boss.id == Party.__table__.c.acts_for_id)
                ).all()
            )
        record, giver = aliased(Record), aliased(Record)
        c = Concession.__table__.c
        rows = self.session.execute(
            select(record.slug, giver.slug, c.summary)
            .select_from(Concession.__table__)
            .join(record, record.id == c.id)
            .join(giver, giver.id == c.giver_id)
            .where(record.slug.in_(in_list(wanted)))
        )
        self.concessions = {slug: (giver_slug, summary) for slug, giver_slug, summary in rows}
        member, exchange = aliased(Record), aliased(Record)
        m = ExchangeMember.__table__.c
        for concession, exchange_slug in self.session.execute(
            select(member.slug, exchange.slug)
            .select_from(ExchangeMember.__table__)
            .join(member, member.id == m.concession_id)
            .join(exchange, exchange.id == m.exchange_id)
            .where(member.slug.in_(in_list(wanted)))
        ):
            self.members.setdefault(concession, set()).add(exchange_slug)
        self._links_between(wanted)

    def _links_between(self, wanted: set[str]) -> None:
        link, quid, quo = Link.__table__.c, aliased(Record), aliased(Record)
        own = aliased(Record)
        rows = self.session.execute(
            select(quid.slug, quo.slug, link.basis, own.slug, own.retracted)
            .select_from(Link.__table__)
            .join(own, own.id == link.id)
            .join(quid, quid.id == link.quid_id)
            .join(quo, quo.id == link.quo_id)
            .where(quid.slug.in_(in_list(wanted)), quo.slug.in_(in_list(wanted)))
        )
        for a, b, basis, slug, retracted in rows:
            value = getattr(basis, "value", basis)
            if retracted:
                self.unlinked[(a, b, value)] = slug
            else:
                self.linked |= {(a, b, value), (b, a, value)}

    def principal(self, party: str) -> str:
        """The party a giver ultimately acts for (as ``ledger.ops.link.principal``)."""
        assert self.acts_for is not None
        seen = {party}
        above = self.acts_for.get(party)
        while above is not None and above not in seen:
            party = above
            seen.add(party)
            above = self.acts_for.get(party)
        return party

    def plan(self, data: LinkIn, type_of: TypeOf, taken: Iterable[str]) -> tuple[dict[str, Any] | None, list[str]]:
        """The ``link`` payload (None when every link already exists), or the problems (``field: message``)."""
        if self.acts_for is None:
            self.acts_for = {}
        names = list(data.concessions)
        sides = {name: self.principal(self.concessions[name][0]) for name in names}
        if len(set(sides.values())) < 2:
            first = next(iter(sides.values()))
            return None, [
                f"concessions: all these concessions were given by the side of {first}; "
                "a link pairs what different sides gave"
            ]
        exchange, new, problem = self._target(data, names, type_of, taken)
        if problem:
            return None, [problem]
        links: list[dict[str, Any]] = []
        for quid, quo in combinations(names, 2):
            if sides[quid] == sides[quo] or (quid, quo, data.basis.value) in self.linked:
                continue
            unlinked = self.unlinked.get((quid, quo, data.basis.value))
            if unlinked is not None:  # restoring a retracted link updates rows: the streamed path only inserts
                return None, [
                    f"concessions: {quid} and {quo} were linked before ({unlinked}, since unlinked); link them again"
                    " with `ledger link`, or import this file with --no-stream"
                ]
            slug = link_slug(quid, quo, data.basis)
            if data.id is not None:
                slug = data.id if not links else f"{data.id}-{len(links) + 1}"
            link: dict[str, Any] = {"id": slug, "quid": quid, "quo": quo, "basis": data.basis.value}
            if data.reason:
                link["reason"] = data.reason
            citations = cited(slug, data.citations)
            if citations:
                link["citations"] = citations
            links.append(link)
        if not links:
            return None, []
        payload: dict[str, Any] = {
            "exchange": exchange,
            "members": [{"concession": n, "side": sides[n]} for n in names if exchange not in self.members.get(n, ())],
            "links": links,
        }
        if new:
            payload["new_exchange"] = {"title": " for ".join(self.concessions[n][1] for n in names[:2])[:300]}
        for member in payload["members"]:
            self.members.setdefault(member["concession"], set()).add(exchange)
        for link in links:
            self.linked |= {(link["quid"], link["quo"], link["basis"]), (link["quo"], link["quid"], link["basis"])}
        return payload, []

    def _target(self, data: LinkIn, names: list[str], type_of: TypeOf, taken: Iterable[str]) -> tuple[str, bool, str]:
        if data.exchange is not None:
            found = type_of(data.exchange)
            if found is not None and found != "exchange":
                return "", False, f"exchange: {data.exchange!r} is a {found}, not an exchange"
            return data.exchange, found is None, ""
        in_use = sorted({x for n in names for x in self.members.get(n, ())})
        if len(in_use) > 1:
            listed = ", ".join(in_use)
            return "", False, f"these concessions belong to different exchanges ({listed}); name the exchange"
        if in_use:
            return in_use[0], False, ""
        return unique_slug(self.session, f"exchange-{names[0]}", taken), True, ""
