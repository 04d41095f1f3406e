"""Loading a whole ledger file (the seeds format) in one transaction, idempotently.

Records are matched by ID: a record that already exists with the same content is left as it is; one
that exists with different content is amended (one journal entry with the old and new value of each
field, as `ledger amend` writes). Citations and inline aliases are additive: new ones are added, and a
file that leaves some out removes nothing. Every problem in the file is reported with its file, line
and field, and nothing is written unless all of it is valid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from ledger.domain import FuzzyDate, RecordType, slugify
from ledger.errors import InvalidInput
from ledger.io.readers import Document, Location
from ledger.models import Record
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
from ledger.ops.correct import plan_amend
from ledger.ops.link import plan_link
from ledger.ops.shapes import SHAPES, Field, current_input
from ledger.schemas import CiteIn, ExchangeIn, LedgerFile, LinkIn

MAX_ERRORS = 50


#: How many IDs a result lists per outcome (the counts are always complete).
LISTED = 1_000


@dataclass
class LoadResult:
    """What an import did: IDs added, amended (with the fields that changed) and left unchanged.

    The lists hold at most LISTED IDs each, so a million-record import keeps flat memory; the
    counts are complete.
    """

    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    links_added: int = 0
    added_count: int = 0
    unchanged_count: int = 0
    changed_count: int = 0

    def note_added(self, slug: str) -> None:
        """Count an added record."""
        self.added_count += 1
        if len(self.added) < LISTED:
            self.added.append(slug)

    def note_unchanged(self, slug: str) -> None:
        """Count a record the file leaves as it is."""
        self.unchanged_count += 1
        if len(self.unchanged) < LISTED:
            self.unchanged.append(slug)

    def note_changed(self, described: str) -> None:
        """Count an amended record (``ID (fields)``)."""
        self.changed_count += 1
        if len(self.changed) < LISTED:
            self.changed.append(described)


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


def _ordered(items: Sequence[Any], parent: Callable[[Any], str | None]) -> list[tuple[int, Any]]:
    """Items in file order, except that an item whose parent (relayed source, acts_for party, renewed
    concession) comes later in the file is moved after it. A file already in dependency order keeps its
    order, so the journal follows the file (as the streaming import writes it)."""
    index = {item.id: i for i, item in enumerate(items) if item.id is not None}
    placed: set[int] = set()
    order: list[int] = []
    for start in range(len(items)):
        chain: list[int] = []
        current: int | None = start
        while current is not None and current not in placed:
            if current in chain:
                cycle = chain[chain.index(current) :]
                raise InvalidInput(f"a cycle in the file: {', '.join(str(items[i].id) for i in cycle)}")
            chain.append(current)
            above = parent(items[current])
            current = index.get(above) if above is not None else None
        for i in reversed(chain):
            placed.add(i)
            order.append(i)
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
            "concessions", _ordered(data.concessions, lambda c: c.renews), plan_concession, slug_of=concession_slug
        )
        for i, exchange in enumerate(data.exchanges):
            self.one("exchanges", i, exchange, plan_exchange)
            self.exchange_links(i, exchange)
        self.flat_links(data)
        self.section("totals", list(enumerate(data.totals)), plan_total)
        self.section("claims", list(enumerate(data.claims)), plan_claim, slug_of=claim_slug)
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
            self.one(name, i, item, plan, slug_of)

    def one(
        self,
        name: str,
        i: int,
        item: Any,
        plan: Callable[[Session, Any], Planned],
        slug_of: Callable[[Any], str] = lambda item: str(item.id),
    ) -> None:
        """Add one record, or compare it with the stored one (and amend it)."""
        slug = slug_of(item)
        item = item.model_copy(update={"id": slug})
        record = find(self.session, slug)
        if record is not None:
            self.compare(slug, (name, i), plan, item, record)
        elif self.attempt((name, i), partial(self.add, plan, item)):
            self.result.note_added(slug)

    def compare(
        self, slug: str, location: Location, plan: Callable[[Session, Any], Planned], item: Any,
        record: Record | None = None,
    ) -> None:  # fmt: skip
        """An existing record (``record``, if the caller has it): unchanged, or amended (one journal entry
        with old and new values)."""
        record = record or find(self.session, slug)
        assert record is not None
        expected = _RECORD_TYPE_OF[plan]
        if record.type is not expected:
            self.problems.append(f"{self.document.where(location)}: {slug} already exists as a {record.type.value}")
            return
        changes = _differences(current_input(self.session, record), item, SHAPES[expected].fields)
        if not changes:
            self.result.note_unchanged(slug)
        elif self.attempt(location, partial(self.amend, slug, changes)):
            self.result.note_changed(f"{slug} ({', '.join(sorted(changes))})")
        citations = [CiteIn.model_validate({**c.model_dump(), "record": slug}) for c in getattr(item, "citations", [])]
        for j, citation in enumerate(citations):
            if find(self.session, _cite_slug(citation)) is None:
                self.cite((*location, "citations", j), citation)
        for j, alias in enumerate(getattr(item, "aliases", [])):
            alias = alias.model_copy(update={"party": slug})
            alias = alias.model_copy(update={"id": _alias_slug(alias)})
            existing = find(self.session, alias.id)
            if existing is not None:
                self.compare(alias.id, (*location, "aliases", j), plan_alias, alias, existing)
            elif self.attempt((*location, "aliases", j), partial(self.add, plan_alias, alias)):
                self.result.note_added(alias.id)

    def amend(self, slug: str, changes: dict[str, Any]) -> None:
        write(
            self.session,
            plan_amend(self.session, slug, changes, reason=f"import of {self.document.name}", citations=[]),
        )

    def exchange_links(self, i: int, exchange: ExchangeIn) -> None:
        """The links given inside an exchange, right after it (the streaming import does the same)."""
        for j, link in enumerate(exchange.links):
            item = link if link.exchange else link.model_copy(update={"exchange": exchange.id})
            if item.exchange != exchange.id:
                where = self.document.where(("exchanges", i, "links", j))
                self.problems.append(f"{where}: link names another exchange")
                continue
            self.attempt(("exchanges", i, "links", j), partial(self.link, item))

    def flat_links(self, data: LedgerFile) -> None:
        for i, link in enumerate(data.links):
            self.attempt(("links", i), partial(self.link, link))

    def citations(self, data: LedgerFile) -> None:
        for i, citation in enumerate(data.citations):
            self.cite(("citations", i), citation)

    def cite(self, location: Location, citation: CiteIn) -> None:
        slug = _cite_slug(citation)
        if find(self.session, slug) is not None:
            self.result.note_unchanged(slug)
        elif self.attempt(location, partial(self.add, plan_citation, citation)):
            self.result.note_added(slug)

    def add(self, plan: Callable[[Session, Any], Planned], item: Any) -> None:
        write(self.session, plan(self.session, item))

    def link(self, item: LinkIn) -> None:
        planned = plan_link(self.session, item)
        if planned is not None:
            write(self.session, planned)
            self.result.links_added += len(planned.payload["links"])
        elif item.id is not None:
            self.result.note_unchanged(item.id)

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


def _cite_slug(citation: CiteIn) -> str:
    return citation.id or citation_slug(citation.record, citation.model_dump(exclude={"record"}))


def _one_line(exc: InvalidInput) -> str:
    return " ".join([exc.message, *exc.problems, *([exc.hint] if exc.hint else [])])


def _normal(field: Field, value: Any) -> Any:
    """A field value in the form current_input() gives it, so the two compare equal when they mean the same."""
    if value is None or value == []:
        return None
    if field.shape == "date":
        fuzzy = FuzzyDate.parse(value.get("value"), text=value.get("text"))
        shown = {k: v for k, v in (("text", fuzzy.text), ("value", fuzzy.iso())) if v is not None}
        return shown or None
    if field.shape == "beneficiaries":
        return sorted(value)
    return value


def _differences(current: dict[str, Any], item: Any, fields: tuple[Field, ...]) -> dict[str, Any]:
    """Fields whose value in the file differs from the stored record: name -> value from the file."""
    fresh = item.model_dump(mode="json", exclude_none=True)
    return {
        f.name: fresh.get(f.name) for f in fields if _normal(f, fresh.get(f.name)) != _normal(f, current.get(f.name))
    }


_RECORD_TYPE_OF: dict[Callable[..., Planned], RecordType] = {
    plan_source: RecordType.SOURCE, plan_party: RecordType.PARTY, plan_alias: RecordType.ALIAS,
    plan_concession: RecordType.CONCESSION, plan_exchange: RecordType.EXCHANGE, plan_total: RecordType.REPORTED_TOTAL,
    plan_claim: RecordType.CLAIM,
}  # fmt: skip


def _alias_slug(alias: Any) -> str:
    return str(alias.id or alias_slug(alias.party, alias.name))


def concession_slug(concession: Any) -> str:
    """A concession's ID: the one given, else derived from giver and summary."""
    return str(concession.id or slugify(f"{concession.giver}-{concession.summary}", max_length=100))


def claim_slug(claim: Any) -> str:
    """A claim's ID: the one given, else derived from record, attribute and source."""
    return str(claim.id or slugify(f"claim-{claim.record}-{claim.attribute}-{claim.source}", max_length=100))


def load(session: Session, document: Document, *, max_errors: int = MAX_ERRORS) -> LoadResult:
    """Validate and load one parsed file in the caller's transaction; InvalidInput lists every problem."""
    data = validate(document, max_errors=max_errors)
    return _Loader(session, document, max_errors).run(data)
