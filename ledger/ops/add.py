"""Adding records: parties, aliases, sources, concessions, exchanges, citations, claims, reported totals."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from ledger.domain import RecordType, slugify
from ledger.errors import InvalidInput
from ledger.models import (
    Alias,
    Beneficiary,
    Citation,
    Claim,
    Concession,
    Exchange,
    Party,
    Record,
    ReportedTotal,
    Source,
    StatusChange,
)
from ledger.ops.base import (
    Planned,
    add_record,
    ensure_new,
    find,
    get,
    new_record,
    projector,
    slug_ids,
    unique_slug,
    write,
)
from ledger.schemas import (
    AliasIn,
    CitationIn,
    CiteIn,
    ClaimIn,
    ConcessionIn,
    ExchangeIn,
    PartyIn,
    ReportedTotalIn,
    SourceIn,
    date_columns,
)


class Problems:
    """Collects every validation problem of one record, so the user sees them all at once."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def check(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one check; remember its error instead of stopping."""
        try:
            return fn(*args, **kwargs)
        except InvalidInput as exc:
            self.items.append(str(exc).replace("\n", " — "))
            return None

    def raise_if_any(self, what: str) -> None:
        """Raise one InvalidInput listing everything found."""
        if self.items:
            raise InvalidInput(f"cannot add {what}:", problems=self.items)


def citation_slug(record: str, citation: CitationIn | dict[str, Any]) -> str:
    """A citation's stable ID, derived from what it says so the same citation is never added twice."""
    c = citation if isinstance(citation, dict) else citation.model_dump()
    key = "\x1f".join(str(c.get(k) or "") for k in ("source", "quote", "locator"))
    return "cite-" + hashlib.sha256(f"{record}\x1f{key}".encode()).hexdigest()[:12]


def _check_citations(
    session: Session, problems: Problems, record: str, citations: list[CitationIn]
) -> list[dict[str, Any]]:
    out = []
    for i, citation in enumerate(citations):
        problems.check(get, session, Source, citation.source, field=f"citations[{i}].source")
        entry = citation.model_dump(mode="json", exclude_none=True)
        entry["id"] = citation.id or citation_slug(record, citation)
        out.append(entry)
    if len({c["id"] for c in out}) != len(out):
        problems.items.append("the same citation (source, quote, locator) is given twice")
    return out


def _payload(data: Any, slug: str, citations: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = data.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    payload.update(id=slug, **extra)
    if citations:
        payload["citations"] = citations
    else:
        payload.pop("citations", None)
    return payload


def _apply_citations(
    session: Session, record_id: int, citations: list[dict[str, Any]], ids: dict[str, int] | None = None
) -> None:
    """Add the citations of a record; they are flushed with the rest of the change. ``ids`` (slug -> key)
    may already hold their sources."""
    known = ids or {}
    missing = {c["source"] for c in citations} - known.keys()
    sources = {**known, **slug_ids(session, missing)} if missing else known
    for c in citations:
        add_record(
            session, Citation, c["id"], record_id=record_id, source_id=sources[c["source"]],
            quote=c.get("quote"), locator=c.get("locator"), prefix=c.get("prefix"), suffix=c.get("suffix"),
        )  # fmt: skip


# --- parties and aliases -------------------------------------------------------------------------


def plan_party(session: Session, data: PartyIn) -> Planned:
    """Validate a new party (and its inline aliases)."""
    problems = Problems()
    problems.check(ensure_new, session, data.id)
    if data.acts_for is not None:
        problems.check(get, session, Party, data.acts_for, field="acts_for")
    citations = _check_citations(session, problems, data.id, data.citations)
    aliases, taken = [], set[str]()
    for i, alias in enumerate(data.aliases):
        if alias.party not in (None, data.id):
            problems.items.append(f"aliases[{i}].party: an inline alias belongs to {data.id}")
        entry = _alias_payload(session, problems, alias.model_copy(update={"party": data.id}), taken)
        entry.pop("party")
        aliases.append(entry)
    problems.raise_if_any(f"party {data.id}")
    payload = _payload(data, data.id, citations)
    if aliases:
        payload["aliases"] = aliases
    return Planned("add_party", RecordType.PARTY, data.id, payload)


def _alias_payload(session: Session, problems: Problems, data: AliasIn, taken: set[str]) -> dict[str, Any]:
    assert data.party is not None
    slug = data.id or alias_slug(data.party, data.name)
    if slug in taken:
        problems.items.append(f"alias {data.name!r} is given twice")
    taken.add(slug)
    problems.check(ensure_new, session, slug)
    if data.source is not None:
        problems.check(get, session, Source, data.source, field="source")
    citations = _check_citations(session, problems, slug, data.citations)
    return _payload(data, slug, citations)


def alias_slug(party: str, name: str) -> str:
    """The ID an alias gets when none is given: ``alias-<party>-<name>``."""
    return f"alias-{party}-{slugify(name, max_length=100)}"


def plan_alias(session: Session, data: AliasIn) -> Planned:
    """Validate a new alias of an existing party."""
    problems = Problems()
    if data.party is None:
        raise InvalidInput("an alias needs the party it names (party)")
    problems.check(get, session, Party, data.party, field="party")
    payload = _alias_payload(session, problems, data, set())
    problems.raise_if_any(f"alias {data.name!r}")
    return Planned("add_alias", RecordType.ALIAS, payload["id"], payload)


@projector("add_party")
def _apply_party(session: Session, p: dict[str, Any]) -> None:
    acts_for = slug_ids(session, [p["acts_for"]]).get(p["acts_for"]) if p.get("acts_for") else None
    party = new_record(
        session, Party, p["id"], name=p["name"], kind=p["kind"], acts_for_id=acts_for, note=p.get("note")
    )
    _apply_citations(session, party.id, p.get("citations", []))
    for alias in p.get("aliases", []):
        _apply_alias(session, {**alias, "party": p["id"]})


@projector("add_alias")
def _apply_alias(session: Session, p: dict[str, Any]) -> None:
    citations = p.get("citations", [])
    ids = slug_ids(session, [p["party"], p.get("source") or p["party"], *(c["source"] for c in citations)])
    alias = new_record(
        session, Alias, p["id"], party_id=ids[p["party"]], name=p["name"], source_id=ids.get(p.get("source") or ""),
        script=p.get("script"), note=p.get("note"),
    )  # fmt: skip
    _apply_citations(session, alias.id, citations, ids)


# --- sources -------------------------------------------------------------------------------------


def plan_source(session: Session, data: SourceIn) -> Planned:
    """Validate a new source."""
    problems = Problems()
    problems.check(ensure_new, session, data.id)
    if data.relays is not None:
        if data.relays == data.id:
            problems.items.append("relays: a source cannot relay itself")
        else:
            problems.check(get, session, Source, data.relays, field="relays")
    problems.raise_if_any(f"source {data.id}")
    return Planned("add_source", RecordType.SOURCE, data.id, _payload(data, data.id, []))


@projector("add_source")
def _apply_source(session: Session, p: dict[str, Any]) -> None:
    data = SourceIn.model_validate(p)
    relays = slug_ids(session, [data.relays]).get(data.relays) if data.relays else None
    new_record(
        session, Source, data.id, title=data.title, publisher=data.publisher, url=data.url, relays_id=relays,
        snapshot_sha256=data.sha256, snapshot_length=data.length, note=data.note,
        **date_columns("published", data.published),
    )  # fmt: skip


# --- concessions ---------------------------------------------------------------------------------


def plan_concession(session: Session, data: ConcessionIn) -> Planned:
    """Validate a new concession: parties, beneficiaries, renewed concession and citation sources exist."""
    problems = Problems()
    slug = data.id or unique_slug(session, f"{data.giver}-{data.summary}")
    if data.id is not None:
        problems.check(ensure_new, session, data.id)
    problems.check(get, session, Party, data.giver, field="giver")
    problems.check(get, session, Party, data.receiver, field="receiver")
    for i, beneficiary in enumerate(data.beneficiaries):
        problems.check(get, session, Party, beneficiary, field=f"beneficiaries[{i}]")
    if data.renews is not None:
        problems.check(get, session, Concession, data.renews, field="renews")
    citations = _check_citations(session, problems, slug, data.citations)
    problems.raise_if_any(f"concession {slug}")
    return Planned("add_concession", RecordType.CONCESSION, slug, _payload(data, slug, citations))


_CONCESSION_PLAIN = (
    "kind_detail", "summary", "quantity", "unit", "conditions", "authority", "programme", "instrument_ref",
    "destination", "note", "instrument", "release_form",
)  # fmt: skip
_CONCESSION_DATES = ("date", "due", "announced", "effective", "expires")


@projector("add_concession")
def _apply_concession(session: Session, p: dict[str, Any]) -> None:
    data = ConcessionIn.model_validate(p)
    refs = [data.giver, data.receiver, *data.beneficiaries, *([data.renews] if data.renews else [])]
    ids = slug_ids(session, refs + [c.source for c in data.citations])
    values: dict[str, Any] = {name: getattr(data, name) for name in _CONCESSION_PLAIN}
    for name in _CONCESSION_DATES:
        values.update(date_columns(name, getattr(data, name)))
    concession = new_record(
        session, Concession, p["id"], giver_id=ids[data.giver], receiver_id=ids[data.receiver], kind=data.kind.value,
        status=data.status, renews_id=ids.get(data.renews or ""), **values,
    )  # fmt: skip
    first_source = ids[data.citations[0].source] if data.citations else None
    for name in data.beneficiaries:
        session.add(Beneficiary(concession_id=concession.id, party_id=ids[name], source_id=first_source))
    session.add(
        StatusChange(
            concession_id=concession.id, status=data.status, source_id=first_source,
            journal_seq=session.info.get("applying_seq"), **date_columns("date", data.date),
        )
    )  # fmt: skip
    _apply_citations(session, concession.id, p.get("citations", []), ids)


# --- exchanges -----------------------------------------------------------------------------------


def plan_exchange(session: Session, data: ExchangeIn) -> Planned:
    """Validate a new (empty) exchange; its links are planned separately."""
    problems = Problems()
    problems.check(ensure_new, session, data.id)
    citations = _check_citations(session, problems, data.id, data.citations)
    problems.raise_if_any(f"exchange {data.id}")
    payload = _payload(data, data.id, citations)
    payload.pop("links", None)
    return Planned("add_exchange", RecordType.EXCHANGE, data.id, payload)


@projector("add_exchange")
def _apply_exchange(session: Session, p: dict[str, Any]) -> None:
    exchange = new_record(session, Exchange, p["id"], title=p["title"], summary=p.get("summary"))
    _apply_citations(session, exchange.id, p.get("citations", []))


# --- citations, claims, totals -------------------------------------------------------------------


def plan_citation(session: Session, data: CiteIn) -> Planned:
    """Validate a citation added to an existing record."""
    problems = Problems()
    target = find(session, data.record)
    if target is None:
        problems.check(get, session, Record, data.record, field="record")
    citation = CitationIn.model_validate(data.model_dump(exclude={"record"}))
    citations = _check_citations(session, problems, data.record, [citation])
    if citations and find(session, citations[0]["id"]) is not None:
        problems.items.append(f"{data.record} already has this citation ({citations[0]['id']})")
    problems.raise_if_any(f"citation on {data.record}")
    payload = {"record": data.record, **citations[0]}
    return Planned("add_citation", RecordType.CITATION, citations[0]["id"], payload)


@projector("add_citation")
def _apply_citation(session: Session, p: dict[str, Any]) -> None:
    record_id = slug_ids(session, [p["record"]])[p["record"]]
    _apply_citations(session, record_id, [{k: v for k, v in p.items() if k != "record"}])


def plan_claim(session: Session, data: ClaimIn) -> Planned:
    """Validate a claim: one source's value for one attribute of one record."""
    problems = Problems()
    if find(session, data.record) is None:
        problems.check(get, session, Record, data.record, field="record")
    problems.check(get, session, Source, data.source, field="source")
    slug = data.id or unique_slug(session, f"claim-{data.record}-{data.attribute}-{data.source}")
    if data.id is not None:
        problems.check(ensure_new, session, data.id)
    problems.raise_if_any(f"claim {slug}")
    return Planned("add_claim", RecordType.CLAIM, slug, _payload(data, slug, []))


@projector("add_claim")
def _apply_claim(session: Session, p: dict[str, Any]) -> None:
    data = ClaimIn.model_validate(p)
    ids = slug_ids(session, [data.record, data.source])
    new_record(
        session, Claim, p["id"], record_id=ids[data.record], attribute=data.attribute, value=data.value,
        source_id=ids[data.source], quote=data.quote, rank=data.rank, rank_reason=data.rank_reason,
        rank_author=data.rank_author,
    )  # fmt: skip


def plan_total(session: Session, data: ReportedTotalIn) -> Planned:
    """Validate a reported total."""
    problems = Problems()
    problems.check(ensure_new, session, data.id)
    problems.check(get, session, Source, data.source, field="source")
    problems.check(get, session, Party, data.giver, field="giver")
    if data.receiver is not None:
        problems.check(get, session, Party, data.receiver, field="receiver")
    citations = _check_citations(session, problems, data.id, data.citations)
    problems.raise_if_any(f"reported total {data.id}")
    return Planned("add_total", RecordType.REPORTED_TOTAL, data.id, _payload(data, data.id, citations))


@projector("add_total")
def _apply_total(session: Session, p: dict[str, Any]) -> None:
    data = ReportedTotalIn.model_validate(p)
    citations = p.get("citations", [])
    ids = slug_ids(session, [data.source, data.giver, data.receiver or data.giver, *(c["source"] for c in citations)])
    total = new_record(
        session, ReportedTotal, data.id, source_id=ids[data.source], giver_id=ids[data.giver],
        receiver_id=ids[data.receiver] if data.receiver else None, kind=data.kind.value if data.kind else None,
        unit=data.unit, value=data.value, statement=data.statement,
        **date_columns("period_start", data.period_start), **date_columns("period_end", data.period_end),
    )  # fmt: skip
    _apply_citations(session, total.id, citations, ids)


def add(session: Session, change: Planned) -> str:
    """Write a planned change and return the ID of the record it made."""
    write(session, change)
    assert change.slug is not None
    return change.slug
