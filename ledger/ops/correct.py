"""Corrections: amend a record's fields, retract a record, move a concession to a new status.

Nothing recorded is destroyed. Each correction is one journal entry whose payload keeps the old and the
new values, so `ledger history ID` can show what changed, when, by whom and on what source.

Amendments use the field names of the record's input model (the names `ledger add` and import files
use). The current input of a record is read back from its table row, the changes are merged into it and
the merged record is validated with the same pydantic model that validated the original.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ledger.domain import RecordType, Status, check_transition
from ledger.errors import InvalidInput
from ledger.models import (
    Beneficiary,
    Concession,
    Exchange,
    ExchangeMember,
    Link,
    Party,
    Record,
    Source,
    StatusChange,
)
from ledger.ops import state
from ledger.ops.add import Problems, _apply_citations, _check_citations
from ledger.ops.base import Planned, get, projector, slug_ids
from ledger.ops.shapes import NOT_AMENDABLE, Shape, current_input, shape_of
from ledger.schemas import (
    CitationIn,
    DateIn,
    date_columns,
)


def _dump(model: BaseModel, names: list[str]) -> dict[str, Any]:
    data = model.model_dump(mode="json", include=set(names), exclude_none=True)
    return {n: data.get(n) for n in names}


def _validation_problems(exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error["loc"]) or "record"
        shown = error.get("input")
        got = f" (got {shown!r})" if not isinstance(shown, dict) else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{loc}: {message}{got}")
    return problems


def plan_amend(
    session: Session, slug: str, changes: dict[str, Any], *, reason: str | None, citations: list[CitationIn]
) -> Planned:
    """Validate changes to a record's fields (input-model names; ``None`` clears a field).

    The merged record is validated with the record type's input model; references must exist; a
    concession's status may change only along the allowed transitions. The payload keeps the old and
    new value of every field that really changes. InvalidInput when nothing would change.
    """
    record = get(session, Record, slug, field="ID")
    shape = shape_of(record)
    noun = record.type.value.replace("_", " ")
    problems = Problems()
    for name in changes:
        if name in NOT_AMENDABLE:
            problems.items.append(f"{name}: {NOT_AMENDABLE[name]}")
        elif shape.field(name) is None:
            allowed = ", ".join(f.name for f in shape.fields)
            problems.items.append(f"{name}: a {noun} has no such field; amendable fields: {allowed}")
    _raise_if_any(problems, f"cannot amend {slug}:")
    before = current_input(session, record)
    merged = {k: v for k, v in {**before, **changes}.items() if v is not None}
    try:
        model = shape.schema.model_validate(merged)
    except ValidationError as exc:
        raise InvalidInput(f"cannot amend {slug}:", problems=_validation_problems(exc)) from None
    names = [f.name for f in shape.fields]
    old = {n: before.get(n) for n in names}
    new = _dump(model, names)
    changed = {
        n: {"old": old[n], "new": new[n]} for n in names if new[n] != old[n] and not (new[n] == [] and old[n] is None)
    }
    _check_references(session, problems, shape, slug, {n: new[n] for n in changed})
    if "status" in changed and isinstance(record, Concession):
        problems.check(check_transition, Status(changed["status"]["old"]), Status(changed["status"]["new"]))
    cited = _check_citations(session, problems, slug, citations)
    _raise_if_any(problems, f"cannot amend {slug}:")
    if not changed:
        raise InvalidInput(f"nothing to amend: {slug} already has these values")
    payload: dict[str, Any] = {"id": slug, "changes": changed}
    if reason:
        payload["reason"] = reason
    if cited:
        payload["source"] = cited[0]["source"]  # kept even when the citation is already on the record
    fresh = [c for c in cited if _is_new_citation(session, c["id"])]
    if fresh:
        payload["citations"] = fresh
    return Planned("amend", record.type, slug, payload)


def _raise_if_any(problems: Problems, message: str) -> None:
    if problems.items:
        raise InvalidInput(message, problems=problems.items)


def _is_new_citation(session: Session, citation_slug: str) -> bool:
    return session.execute(select(Record.id).where(Record.slug == citation_slug)).first() is None


def _check_references(session: Session, problems: Problems, shape: Shape, slug: str, new: dict[str, Any]) -> None:
    for name, value in new.items():
        f = shape.field(name)
        assert f is not None
        if f.shape == "ref" and value is not None and f.target is not None:
            if value == slug and f.target is not Record:
                problems.items.append(f"{name}: a record cannot name itself")
                continue
            problems.check(get, session, f.target, value, field=name)
        elif f.shape == "beneficiaries":
            for i, party in enumerate(value or []):
                problems.check(get, session, Party, party, field=f"beneficiaries[{i}]")


def parse_assignments(session: Session, slug: str, assignments: list[str]) -> dict[str, Any]:
    """Changes from ``field=value`` text (the CLI's ``--set``): an empty value clears the field, a count
    field takes digits, ``beneficiaries`` a comma-separated list, and a date ``date=2025-12``,
    ``date=last month`` (the source's words) or both through ``date.value=`` and ``date.text=``."""
    record = get(session, Record, slug, field="ID")
    shape = shape_of(record)
    changes: dict[str, Any] = {}
    current: dict[str, Any] | None = None
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        if not equals:
            raise InvalidInput(f"--set: {assignment!r} is not field=value", hint="for example: --set quantity=150")
        name, _, part = name.strip().replace("-", "_").partition(".")
        f = shape.field(name)
        value: Any = text.strip() or None
        if f is not None and f.shape == "date" and part in ("text", "value"):
            if name not in changes:  # date.text alone keeps the date's value, and the reverse
                current = current or current_input(session, record)
                changes[name] = dict(current.get(name) or {})
            previous = changes[name]
            changes[name] = {**(previous if isinstance(previous, dict) else {"value": previous}), part: value}
            continue
        if value is not None and f is not None and f.shape == "beneficiaries":
            value = [v.strip() for v in value.split(",") if v.strip()]
        elif value is not None and f is not None and "int" in str(shape.schema.model_fields[name].annotation):
            value = int(value) if value.isascii() and value.isdigit() else value
        changes[name] = value
    return changes


@projector("amend")
def _apply_amend(session: Session, p: dict[str, Any]) -> None:
    record = session.execute(select(Record).where(Record.slug == p["id"])).scalar_one()
    shape = shape_of(record)
    table = shape.model
    values: dict[str, Any] = {}
    for name, change in p["changes"].items():
        f = shape.field(name)
        assert f is not None
        new = change["new"]
        if f.shape == "date":
            values.update(date_columns(f.column, DateIn.model_validate(new) if new is not None else None))
        elif f.shape == "ref":
            values[f.column] = slug_ids(session, [new])[new] if new is not None else None
        elif f.shape == "beneficiaries":
            _replace_beneficiaries(session, record.id, new or [])
        else:
            values[f.column] = new
        if name == "status" and isinstance(record, Concession):
            session.add(
                StatusChange(
                    concession_id=record.id, status=Status(new), journal_seq=session.info.get("applying_seq"),
                    source_id=_first_source(session, p),
                )
            )  # fmt: skip
    if values:
        session.execute(update(table).where(table.id == record.id).values(**values))
        session.expire(record)
    _apply_citations(session, record.id, p.get("citations", []))


def _first_source(session: Session, p: dict[str, Any]) -> int | None:
    source = p.get("source")
    return slug_ids(session, [source]).get(source) if source else None


def _replace_beneficiaries(session: Session, concession_id: int, slugs: list[str]) -> None:
    existing = dict(
        session.execute(
            select(Record.slug, Beneficiary.id)
            .join(Beneficiary, Beneficiary.party_id == Record.id)
            .where(Beneficiary.concession_id == concession_id)
        ).all()
    )
    gone = [i for s, i in existing.items() if s not in slugs]
    if gone:
        session.execute(delete(Beneficiary).where(Beneficiary.id.in_(gone)))
    ids = slug_ids(session, slugs)
    for s in slugs:
        if s not in existing:
            session.add(Beneficiary(concession_id=concession_id, party_id=ids[s]))


# --- retract -------------------------------------------------------------------------------------


def plan_retract(session: Session, slug: str, reason: str) -> list[Planned]:
    """Validate retracting a record: it stays on file, marked retracted, out of listings and views.

    Retracting a concession also retracts its live links (one entry each, so their history shows it)
    and takes it out of the exchanges it was a member of. Retracting an exchange retracts its links.
    A party or source that live records still use cannot be retracted until they are.
    """
    if not reason or not reason.strip():
        raise InvalidInput("--reason: say why the record is retracted")
    record = get(session, Record, slug, field="ID")
    if record.retracted:
        raise InvalidInput(f"{slug} is already retracted")
    _refuse_if_used(session, record)
    payload: dict[str, Any] = {"id": slug, "reason": reason.strip()}
    links: list[str] = []
    if isinstance(record, Concession):
        links = _live_links(session, or_(Link.quid_id == record.id, Link.quo_id == record.id))
        exchanges = list(
            session.execute(
                select(Record.slug)
                .join(ExchangeMember, ExchangeMember.exchange_id == Record.id)
                .where(ExchangeMember.concession_id == record.id)
                .order_by(Record.slug)
            ).scalars()
        )
        if exchanges:
            payload["leaves_exchanges"] = exchanges
    elif isinstance(record, Exchange):
        links = _live_links(session, Link.exchange_id == record.id)
    plans = [Planned("retract", record.type, slug, payload)]
    for link in links:
        plans.append(Planned("retract", RecordType.LINK, link, {"id": link, "reason": reason.strip(), "with": slug}))
    return plans


def _live_links(session: Session, condition: Any) -> list[str]:
    return list(
        session.execute(select(Link.slug).where(condition, Link.retracted.is_(False)).order_by(Link.slug)).scalars()
    )


def _refuse_if_used(session: Session, record: Record) -> None:
    users: list[str] = []
    if isinstance(record, Party):
        users = _live_slugs(
            session, Concession, or_(Concession.giver_id == record.id, Concession.receiver_id == record.id)
        )
    elif isinstance(record, Source):
        from ledger.models import Citation

        users = _live_slugs(session, Citation, Citation.source_id == record.id)
    if users:
        shown = ", ".join(users[:5]) + (" ..." if len(users) > 5 else "")
        raise InvalidInput(
            f"{record.slug} is still used by {len(users)} live record(s): {shown}",
            hint="retract those first, or amend them to use another record",
        )


def _live_slugs(session: Session, model: type[Record], condition: Any) -> list[str]:
    return list(
        session.execute(select(model.slug).where(condition, model.retracted.is_(False)).order_by(model.slug)).scalars()
    )


@projector("retract")
def _apply_retract(session: Session, p: dict[str, Any]) -> None:
    slug = p["id"]
    session.execute(update(Record).where(Record.slug == slug).values(retracted=True))
    if p.get("leaves_exchanges"):
        ids = slug_ids(session, [slug, *p["leaves_exchanges"]])
        session.execute(
            delete(ExchangeMember).where(
                ExchangeMember.concession_id == ids[slug],
                ExchangeMember.exchange_id.in_([ids[x] for x in p["leaves_exchanges"]]),
            )
        )
        state.touch_records(session, (ids[x] for x in p["leaves_exchanges"]))
    session.expire_all()


# --- status --------------------------------------------------------------------------------------


def plan_status(
    session: Session,
    slug: str,
    new_status: Status,
    date: DateIn | None,
    source: str | None,
    quote: str | None,
) -> Planned:
    """Validate moving a concession to ``new_status`` (allowed transitions only), dated and sourced."""
    concession = get(session, Concession, slug, field="ID")
    if concession.retracted:
        raise InvalidInput(f"{slug} is retracted; its status cannot change")
    if new_status == concession.status:
        raise InvalidInput(f"{slug} is already {new_status.value}")
    check_transition(concession.status, new_status)
    problems = Problems()
    citations: list[dict[str, Any]] = []
    if source is not None:
        citations = _check_citations(session, problems, slug, [CitationIn(source=source, quote=quote)])
    elif quote is not None:
        problems.items.append("--quote needs --source (the source it comes from)")
    _raise_if_any(problems, f"cannot change the status of {slug}:")
    payload: dict[str, Any] = {"id": slug, "old": concession.status.value, "new": new_status.value}
    if date is not None:
        payload["date"] = date.model_dump(mode="json", exclude_none=True)
    if citations:
        payload["source"] = citations[0]["source"]
        new = [c for c in citations if _is_new_citation(session, c["id"])]
        if new:
            payload["citations"] = new
    return Planned("status", RecordType.CONCESSION, slug, payload)


@projector("status")
def _apply_status(session: Session, p: dict[str, Any]) -> None:
    slug = p["id"]
    ids = slug_ids(session, [slug, p.get("source") or slug])
    date = DateIn.model_validate(p["date"]) if p.get("date") else None
    session.execute(update(Concession).where(Concession.id == ids[slug]).values(status=Status(p["new"])))
    session.add(
        StatusChange(
            concession_id=ids[slug], status=Status(p["new"]), source_id=ids[p["source"]] if p.get("source") else None,
            journal_seq=session.info.get("applying_seq"), **date_columns("date", date),
        )
    )  # fmt: skip
    _apply_citations(session, ids[slug], p.get("citations", []))
    session.expire_all()
