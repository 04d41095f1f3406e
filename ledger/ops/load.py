"""Loading a whole ledger file (the seeds format) in one transaction, idempotently.

Records are matched by ID: a record that already exists with the same content is left as it is; one
that exists with different content is reported (change it with an amendment instead). Every problem in
the file is reported with its file, line and field, and nothing is written unless all of it is valid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from graphlib import CycleError, TopologicalSorter
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from ledger import journal
from ledger.domain import slugify
from ledger.errors import InvalidInput
from ledger.io.readers import Document, Location
from ledger.ops.add import (
    alias_slug,
    citation_slug,
    plan_alias,
    plan_citation,
    plan_claim,
    plan_concession,
    plan_exchange,
    plan_party,
    plan_source,
    plan_total,
)
from ledger.ops.base import Planned, find, write
from ledger.ops.link import plan_link
from ledger.schemas import CiteIn, LedgerFile, LinkIn

MAX_ERRORS = 50


@dataclass
class LoadResult:
    """What an import did: IDs added, IDs already present and unchanged."""

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    links_added: int = 0


def validate(document: Document, *, max_errors: int = MAX_ERRORS) -> LedgerFile:
    """Validate the parsed file against the import schema; report every error with its line."""
    try:
        return LedgerFile.model_validate(document.data)
    except ValidationError as exc:
        problems = [
            f"{document.where(tuple(error['loc']))}: {error['msg']} (got {_shown(error.get('input'))})"
            for error in exc.errors()[:max_errors]
        ]
        more = exc.error_count() - len(problems)
        if more > 0:
            problems.append(f"... and {more} more")
        raise InvalidInput(f"{document.name}: {exc.error_count()} invalid value(s):", problems=problems) from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _comparable(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload without the IDs the ledger derives (citation and alias IDs)."""

    def strip(value: Any) -> Any:
        if isinstance(value, list):
            return [strip(v) for v in value]
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "id"}
        return value

    return {k: strip(v) if isinstance(v, list) else v for k, v in payload.items()}


def _ordered(items: Sequence[Any], parent: Callable[[Any], str | None]) -> list[tuple[int, Any]]:
    """Items in an order where each one's parent (relayed source, acts_for party) comes first."""
    index = {item.id: i for i, item in enumerate(items)}
    graph = {i: {index[p]} if (p := parent(item)) in index else set() for i, item in enumerate(items)}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        ids = ", ".join(str(items[i].id) for i in exc.args[1][:-1])
        raise InvalidInput(f"a cycle in the file: {ids}") from None
    return [(i, items[i]) for i in order]


class _Loader:
    def __init__(self, session: Session, document: Document, max_errors: int) -> None:
        self.session, self.document, self.max_errors = session, document, max_errors
        self.problems: list[str] = []
        self.result = LoadResult()

    def run(self, data: LedgerFile) -> LoadResult:
        self.duplicates(data)
        self.section("sources", _ordered(data.sources, lambda s: s.relays), plan_source)
        self.section("parties", _ordered(data.parties, lambda p: p.acts_for), plan_party)
        self.section("aliases", list(enumerate(data.aliases)), plan_alias, slug_of=_alias_slug)
        self.section(
            "concessions", _ordered(data.concessions, lambda c: c.renews), plan_concession, slug_of=_concession_slug
        )
        self.section("exchanges", list(enumerate(data.exchanges)), plan_exchange)
        self.links(data)
        self.flat_links(data)
        self.section("totals", list(enumerate(data.totals)), plan_total)
        self.section("claims", list(enumerate(data.claims)), plan_claim, slug_of=_claim_slug)
        self.citations(data)
        if self.problems:
            shown = self.problems[: self.max_errors]
            if len(self.problems) > len(shown):
                shown.append(f"... and {len(self.problems) - len(shown)} more")
            raise InvalidInput(f"{self.document.name}: nothing was imported:", problems=shown)
        return self.result

    def section(
        self,
        name: str,
        items: Iterable[tuple[int, Any]],
        plan: Callable[[Session, Any], Planned],
        slug_of: Callable[[Any], str] = lambda item: str(item.id),
    ) -> None:
        for i, item in items:
            slug = slug_of(item)
            item = item.model_copy(update={"id": slug})
            if find(self.session, slug) is not None:
                self.compare(slug, (name, i), plan, item)
                continue
            if self.attempt((name, i), partial(self.add, plan, item)):
                self.result.added.append(slug)

    def compare(self, slug: str, location: Location, plan: Callable[[Session, Any], Planned], item: Any) -> None:
        stored = journal.latest_payload(self.session, slug, _ops_of(plan))
        fresh = _fresh_payload(item, slug)
        # Citations are additive: new ones are added below, and a file that leaves some out changes nothing.
        new_citations = [c for c in fresh.pop("citations", []) if find(self.session, c["id"]) is None]
        if stored is None and plan is plan_alias:
            stored = _inline_alias(self.session, item.party, slug)
        if stored is not None:
            # Aliases inline in a party are additive too: they are compared as their own records.
            stored = {k: v for k, v in stored.items() if k not in ("citations", "aliases")}
            fresh.pop("aliases", None)
        if stored is not None and _comparable(stored) == _comparable(fresh):
            self.result.unchanged.append(slug)
            for j, citation in enumerate(new_citations):
                self.cite((*location, "citations", j), CiteIn.model_validate({**citation, "record": slug}))
            return
        changed = sorted(
            k for k in set(fresh) | set(stored or {}) if _comparable(fresh).get(k) != _comparable(stored or {}).get(k)
        )
        detail = f" (differs in: {', '.join(changed)})" if stored is not None else " as another kind of record"
        self.problems.append(
            f"{self.document.where(location)}: {slug} already exists{detail}; correct a record with `ledger amend`"
        )

    def links(self, data: LedgerFile) -> None:
        for i, exchange in enumerate(data.exchanges):
            for j, link in enumerate(exchange.links):
                item = link if link.exchange else link.model_copy(update={"exchange": exchange.id})
                if item.exchange != exchange.id:
                    self.problems.append(
                        f"{self.document.where(('exchanges', i, 'links', j))}: link names another exchange"
                    )
                    continue
                self.attempt(("exchanges", i, "links", j), partial(self.link, item))

    def flat_links(self, data: LedgerFile) -> None:
        for i, link in enumerate(data.links):
            self.attempt(("links", i), partial(self.link, link))

    def citations(self, data: LedgerFile) -> None:
        for i, citation in enumerate(data.citations):
            self.cite(("citations", i), citation)

    def cite(self, location: Location, citation: CiteIn) -> None:
        slug = citation.id or citation_slug(citation.record, citation.model_dump(exclude={"record"}))
        if find(self.session, slug) is not None:
            self.result.unchanged.append(slug)
        elif self.attempt(location, partial(self.add, plan_citation, citation)):
            self.result.added.append(slug)

    def add(self, plan: Callable[[Session, Any], Planned], item: Any) -> None:
        write(self.session, plan(self.session, item))

    def link(self, item: LinkIn) -> None:
        planned = plan_link(self.session, item)
        if planned is not None:
            write(self.session, planned)
            self.result.links_added += len(planned.payload["links"])
        elif item.id is not None:
            self.result.unchanged.append(item.id)

    def attempt(self, location: Location, action: Callable[[], None]) -> bool:
        # Planning validates before anything is written, so a failed record leaves no trace; the
        # caller rolls the whole transaction back when any problem was found.
        try:
            action()
        except InvalidInput as exc:
            self.problems.append(f"{self.document.where(location)}: {_one_line(exc)}")
            return False
        return True

    def duplicates(self, data: LedgerFile) -> None:
        seen: dict[str, Location] = {}
        sections: dict[str, Sequence[Any]] = {
            "sources": data.sources, "parties": data.parties, "concessions": data.concessions,
            "exchanges": data.exchanges, "totals": data.totals,
        }  # fmt: skip
        for name, items in sections.items():
            for i, item in enumerate(items):
                if item.id is None:
                    continue
                if item.id in seen:
                    first = self.document.where(seen[item.id])
                    self.problems.append(
                        f"{self.document.where((name, i))}: ID {item.id!r} is used twice (first at {first})"
                    )
                else:
                    seen[item.id] = (name, i)


def _inline_alias(session: Session, party: str | None, slug: str) -> dict[str, Any] | None:
    """The payload of an alias added inline with its party (``add_party``), as an ``add_alias`` payload."""
    if party is None:
        return None
    payload = journal.latest_payload(session, party, ("add_party",))
    for alias in (payload or {}).get("aliases", []):
        if alias.get("id") == slug:
            return {**alias, "party": party}
    return None


def _one_line(exc: InvalidInput) -> str:
    return " ".join([exc.message, *exc.problems, *([exc.hint] if exc.hint else [])])


def _ops_of(plan: Callable[..., Planned]) -> tuple[str, ...]:
    return (f"add_{plan.__name__.removeprefix('plan_')}",)


def _fresh_payload(item: Any, slug: str) -> dict[str, Any]:
    payload: dict[str, Any] = item.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    payload["id"] = slug
    payload.pop("links", None)
    for citation in payload.get("citations", []):
        citation["id"] = citation.get("id") or citation_slug(slug, citation)
    return payload


def _alias_slug(alias: Any) -> str:
    return str(alias.id or alias_slug(alias.party, alias.name))


def _concession_slug(concession: Any) -> str:
    return str(concession.id or slugify(f"{concession.giver}-{concession.summary}", max_length=100))


def _claim_slug(claim: Any) -> str:
    return str(claim.id or slugify(f"claim-{claim.record}-{claim.attribute}-{claim.source}", max_length=100))


def load(session: Session, document: Document, *, max_errors: int = MAX_ERRORS) -> LoadResult:
    """Validate and load one parsed file in the caller's transaction; InvalidInput lists every problem."""
    data = validate(document, max_errors=max_errors)
    return _Loader(session, document, max_errors).run(data)
