"""Streaming import of large JSONL and CSV files: flat memory, batched Core inserts, one journal entry per record.

Each line is parsed strictly (duplicate keys and NaN refused), validated with the same pydantic model
as every other import, and queued. A batch of one record type is written with SQLAlchemy Core
``executemany``: the journal entries (hash chain computed here, exactly as ``journal.append`` would),
the ``records`` rows, the record type's own rows and its citations. The payload of each entry is the
one ``plan_*`` builds for ``ledger add``, and the rows are those its projector would make, so
``ledger rebuild`` replays the journal into the same tables.

IDs are looked up a batch at a time (existing records, referenced parties and sources). A record that
already exists with the same journalled payload is left alone; one that differs goes through the
ordinary per-record comparison (and amendment). The whole import is one transaction: the first error
stops writing, the rest of the file is still validated for more errors, and the caller rolls back.

Supported record types: source, party (without inline aliases), concession and citation. References
must point at records already in the ledger or on an earlier line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from ledger import journal
from ledger.db import prepare_bulk_load
from ledger.domain import RecordType
from ledger.errors import InvalidInput
from ledger.io.readers import Document, Location, detect_format, read, stream_jsonl
from ledger.io.tables import in_load_order, stream_csv
from ledger.models import (
    Base,
    Beneficiary,
    Citation,
    Concession,
    JournalEntry,
    Party,
    Record,
    Source,
    StatusChange,
)
from ledger.ops import state
from ledger.ops.add import _payload, citation_slug, plan_concession, plan_party, plan_source
from ledger.ops.load import MAX_ERRORS, LoadResult, _Loader, concession_slug, load
from ledger.schemas import CiteIn, ConcessionIn, PartyIn, SourceIn, date_columns

BATCH = 1_000
#: After the first error, how many IDs of the file's unwritten records are remembered for reference checks.
UNWRITTEN_LIMIT = 200_000
#: Files at least this large take the streaming path unless told otherwise.
STREAM_BYTES = 8 * 1024**2
STREAMABLE = {"source": SourceIn, "party": PartyIn, "concession": ConcessionIn, "citation": CiteIn}
_OP = {"source": "add_source", "party": "add_party", "concession": "add_concession", "citation": "add_citation"}
_RECORD_TYPE = {
    "source": RecordType.SOURCE, "party": RecordType.PARTY, "concession": RecordType.CONCESSION,
    "citation": RecordType.CITATION,
}  # fmt: skip
_PLAN: dict[str, Callable[..., Any]] = {"source": plan_source, "party": plan_party, "concession": plan_concession}
_ADAPTERS: dict[str, TypeAdapter[Any]] = {kind: TypeAdapter(model) for kind, model in STREAMABLE.items()}
_DATES = ("date", "due", "announced", "effective", "expires")
_PLAIN = (
    "kind_detail", "summary", "quantity", "unit", "conditions", "authority", "programme", "instrument_ref",
    "destination", "note", "instrument", "release_form",
)  # fmt: skip
#: Told (lines read, bytes read) after every batch of lines.
Progress = Callable[[int, int], None]


@dataclass
class _Queued:
    line: int
    kind: str
    slug: str
    data: Any
    payload: dict[str, Any]


@dataclass
class _Batch:
    kind: str = ""
    items: list[_Queued] = field(default_factory=list)
    slugs: set[str] = field(default_factory=set)


def should_stream(path: Path, fmt: str, stream: bool | None) -> bool:
    """Whether a file takes the streaming path: asked for, or a large JSONL/CSV file."""
    if fmt not in ("jsonl", "csv") or path.suffix.lower() == ".zip":
        return False
    if stream is not None:
        return stream
    try:
        return path.stat().st_size >= STREAM_BYTES
    except OSError:
        return False


class BulkLoader:
    """One streamed file in the caller's transaction."""

    def __init__(self, session: Session, name: str, *, max_errors: int, progress: Progress | None) -> None:
        self.session, self.name, self.max_errors, self.progress = session, name, max_errors, progress
        self.problems: list[str] = []
        self.result = LoadResult()
        self.batch = _Batch()
        self.head = session.info.get("journal_head") or journal.head(session)
        self.at = session.info.get("journal_time") or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.author = session.info.get("author") or journal.default_author()
        self.document = Document(name, {})
        self.loader = _Loader(session, self.document, max_errors)
        self.loader.result = self.result
        self.unwritten: dict[str, tuple[int, str]] | None = {}

    def run(self, lines: Iterable[tuple[int, str | None, Any, int]]) -> LoadResult:
        """Validate and write every line; InvalidInput lists the problems (the caller rolls back)."""
        for number, kind, value, position in lines:
            if len(self.problems) >= self.max_errors:
                break
            self.line(number, kind, value)
            if self.progress is not None and number % BATCH == 0:
                self.progress(number, position)
        self.flush()
        self.problems.extend(self.loader.problems)
        if self.problems:
            shown = self.problems[: self.max_errors]
            more = "" if len(self.problems) < self.max_errors else f" (stopped after {self.max_errors}; --max-errors)"
            raise InvalidInput(f"{self.name}: nothing was imported{more}:", problems=shown)
        self.session.info["journal_head"] = self.head
        return self.result

    def line(self, number: int, kind: str | None, value: Any) -> None:
        if isinstance(value, InvalidInput):
            self.problems.append(value.message)
            return
        if kind not in STREAMABLE:
            self.problems.append(
                f"{self.name}:{number}: type: {kind!r} cannot be streamed (only {', '.join(STREAMABLE)}); "
                "import this file with --no-stream"
            )
            return
        try:
            data = _ADAPTERS[kind].validate_python(value)
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"]) or "record"
                self.problems.append(
                    f"{self.name}:{number}: {where}: {error['msg']} (got {_shown(error.get('input'))})"
                )
            return
        if kind == "party" and data.aliases:
            self.problems.append(f"{self.name}:{number}: aliases: give aliases as their own lines when streaming")
            return
        self.queue(number, kind, data)

    def queue(self, number: int, kind: str, data: Any) -> None:
        slug = _slug_of(kind, data)
        refs = _references(kind, data)
        if kind != self.batch.kind or len(self.batch.items) >= BATCH or refs & self.batch.slugs:
            self.flush()
            self.batch.kind = kind
        payload = _payload_of(kind, slug, data)
        self.batch.items.append(_Queued(number, kind, slug, data, payload))
        self.batch.slugs.add(slug)

    # --- one batch -------------------------------------------------------------------------------

    def flush(self) -> None:
        items, self.batch = self.batch.items, _Batch()
        if not items:
            return
        kind = items[0].kind
        wanted = {q.slug for q in items} | {r for q in items for r in _references(kind, q.data)}
        known = self._lookup(wanted)
        if self.problems:
            # Nothing more is written, but references are still checked, against the ledger and the
            # records of this file that validated (remembered up to a limit, then checks stop).
            self._check_only(items, known)
            return
        stored = self._payloads([q.slug for q in items if q.slug in known])
        fresh: list[_Queued] = []
        for q in items:
            if q.slug in known:
                self._existing(q, stored)
            elif self._resolve(q, known):
                fresh.append(q)
        if fresh and not self.problems:
            self._insert(kind, fresh, known)

    def _check_only(self, items: list[_Queued], known: dict[str, tuple[int, str]]) -> None:
        if self.unwritten is None:
            return
        for q in items:
            self.unwritten[q.slug] = (0, _RECORD_TYPE[q.kind].value)
        if len(self.unwritten) > UNWRITTEN_LIMIT:
            self.unwritten = None
            return
        for q in items:
            if q.slug not in known:
                self._resolve(q, {**self.unwritten, **known})

    def _lookup(self, slugs: set[str]) -> dict[str, tuple[int, str]]:
        rows = self.session.execute(select(Record.slug, Record.id, Record.type).where(Record.slug.in_(slugs)))
        return {slug: (key, RecordType(kind).value) for slug, key, kind in rows}

    def _payloads(self, slugs: list[str]) -> dict[str, list[tuple[str, str]]]:
        if not slugs:
            return {}
        out: dict[str, list[tuple[str, str]]] = {}
        rows = self.session.execute(
            select(JournalEntry.record_slug, JournalEntry.op, JournalEntry.payload)
            .where(JournalEntry.record_slug.in_(slugs))
            .order_by(JournalEntry.seq)
        )
        for slug, op, payload in rows:
            out.setdefault(str(slug), []).append((op, payload))
        return out

    def _existing(self, q: _Queued, stored: dict[str, list[tuple[str, str]]]) -> None:
        entries = stored.get(q.slug, [])
        if [op for op, _ in entries] == [_OP[q.kind]] and entries[0][1] == journal.canonical(q.payload):
            self.result.note_unchanged(q.slug)
            return
        if q.kind == "citation":
            self.result.note_unchanged(q.slug)  # a citation never changes; its ID is derived from its content
            return
        # The rare path: compare field by field and amend, one record at a time.
        self._sync_head_to_session()
        location: Location = (q.kind, q.line)
        self.document.lines[location] = q.line
        self.loader.compare(q.slug, location, _PLAN[q.kind], q.data.model_copy(update={"id": q.slug}))
        self.document.lines.pop(location, None)
        self.head = self.session.info.get("journal_head") or self.head

    def _sync_head_to_session(self) -> None:
        self.session.info["journal_head"] = self.head
        self.session.info["journal_time"] = self.at

    def _resolve(self, q: _Queued, known: dict[str, tuple[int, str]]) -> bool:
        ok = True
        for name, slug, expected in _typed_references(q.kind, q.data):
            found = known.get(slug)
            if found is None:
                self.problems.append(
                    f"{self.name}:{q.line}: {name}: no {expected} with ID {slug!r} in the ledger or on an earlier line"
                )
                ok = False
            elif expected != "record" and found[1] != expected:
                self.problems.append(f"{self.name}:{q.line}: {name}: {slug!r} is a {found[1]}, not a {expected}")
                ok = False
        return ok

    # --- inserts ---------------------------------------------------------------------------------

    def _insert(self, kind: str, items: list[_Queued], known: dict[str, tuple[int, str]]) -> None:
        seqs = list(range(self.head.seq + 1, self.head.seq + 1 + len(items)))
        ids = self._records(_RECORD_TYPE[kind], [(q.slug, seq) for q, seq in zip(items, seqs, strict=True)])
        refs = {slug: key for slug, (key, _type) in known.items()} | ids
        rows = [_own_row(kind, q, ids[q.slug], refs) for q in items]
        model = {"source": Source, "party": Party, "concession": Concession, "citation": Citation}[kind]
        self.session.execute(insert(_table(model)), rows)
        if kind == "concession":
            self._concession_extras(items, seqs, refs)
        cited = [
            (q.slug, c, seq) for q, seq in zip(items, seqs, strict=True) if kind != "citation"
            for c in q.payload.get("citations", [])
        ]  # fmt: skip
        touched: dict[str, list[state.Owner]] = {q.slug: [("r", ids[q.slug])] for q in items}
        if cited:
            cite_ids = self._records(RecordType.CITATION, [(c["id"], seq) for _slug, c, seq in cited])
            self.session.execute(
                insert(_table(Citation)),
                [_citation_row(cite_ids[c["id"]], refs[slug], c, refs) for slug, c, _ in cited],
            )
            for slug, c, _ in cited:
                touched[slug].append(("r", cite_ids[c["id"]]))
        self._journal(items, touched)
        for q in items:
            self.result.note_added(q.slug)

    def _journal(self, items: list[_Queued], touched: dict[str, list[state.Owner]]) -> None:
        """The batch's journal entries, after its rows: each records the digests of the records it wrote."""
        found = dict(state.digests(self.session, [o for owners in touched.values() for o in owners]))
        rows = []
        for q in items:
            seq, text = self.head.seq + 1, journal.canonical(q.payload)
            state_text = journal.canonical({state.key_of(o): found.get(o) for o in touched[q.slug]})
            record_type = _RECORD_TYPE[q.kind].value
            digest = journal.entry_hash(
                seq=seq, at=self.at, author=self.author, op=_OP[q.kind], record_type=record_type,
                record_slug=q.slug, payload=text, prev_hash=self.head.hash, state=state_text,
            )  # fmt: skip
            rows.append({
                "seq": seq, "at": self.at, "author": self.author, "op": _OP[q.kind], "record_type": record_type,
                "record_slug": q.slug, "payload": text, "prev_hash": self.head.hash, "hash": digest,
                "state": state_text,
            })  # fmt: skip
            self.head = journal.Head(seq, digest)
        self.session.execute(insert(_table(JournalEntry)), rows)

    def _records(self, record_type: RecordType, slugs: list[tuple[str, int]]) -> dict[str, int]:
        table = _table(Record)
        rows = [
            {"type": record_type.value, "slug": slug, "retracted": False, "created_seq": seq} for slug, seq in slugs
        ]
        result = self.session.execute(
            insert(table).returning(table.c.slug, table.c.id, sort_by_parameter_order=True), rows
        )
        return {str(slug): int(key) for slug, key in result}

    def _concession_extras(self, items: list[_Queued], seqs: list[int], refs: dict[str, int]) -> None:
        beneficiaries, changes = [], []
        for q, seq in zip(items, seqs, strict=True):
            data: ConcessionIn = q.data
            key = refs[q.slug]
            first_source = refs[data.citations[0].source] if data.citations else None
            beneficiaries += [
                {"concession_id": key, "party_id": refs[b], "source_id": first_source} for b in data.beneficiaries
            ]
            changes.append({
                "concession_id": key, "status": data.status, "source_id": first_source, "journal_seq": seq,
                **date_columns("date", data.date),
            })  # fmt: skip
        if beneficiaries:
            self.session.execute(insert(_table(Beneficiary)), beneficiaries)
        self.session.execute(insert(_table(StatusChange)), changes)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


# --- pure helpers --------------------------------------------------------------------------------


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _slug_of(kind: str, data: Any) -> str:
    if kind == "concession":
        return concession_slug(data)
    if kind == "citation":
        return str(data.id or citation_slug(data.record, data.model_dump(exclude={"record"})))
    return str(data.id)


def _typed_references(kind: str, data: Any) -> Iterator[tuple[str, str, str]]:
    """(field, ID, record type it must be) for every reference of a record."""
    if kind == "source" and data.relays:
        yield "relays", data.relays, "source"
    if kind == "party" and data.acts_for:
        yield "acts_for", data.acts_for, "party"
    if kind == "concession":
        yield "giver", data.giver, "party"
        yield "receiver", data.receiver, "party"
        for i, name in enumerate(data.beneficiaries):
            yield f"beneficiaries[{i}]", name, "party"
        if data.renews:
            yield "renews", data.renews, "concession"
    if kind == "citation":
        yield "record", data.record, "record"
        yield "source", data.source, "source"
    for i, citation in enumerate(getattr(data, "citations", []) if kind != "citation" else []):
        yield f"citations[{i}].source", citation.source, "source"


def _references(kind: str, data: Any) -> set[str]:
    return {slug for _name, slug, _type in _typed_references(kind, data)}


def _payload_of(kind: str, slug: str, data: BaseModel) -> dict[str, Any]:
    """The journal payload plan_* would build (the same function builds it)."""
    if kind == "citation":
        entry = data.model_dump(mode="json", exclude_none=True, exclude={"record"})
        entry["id"] = slug
        return {"record": data.record, **entry}  # type: ignore[attr-defined]
    citations = []
    for citation in getattr(data, "citations", []):
        entry = citation.model_dump(mode="json", exclude_none=True)
        entry["id"] = citation.id or citation_slug(slug, citation)
        citations.append(entry)
    return _payload(data, slug, citations)


def _own_row(kind: str, q: _Queued, key: int, refs: dict[str, int]) -> dict[str, Any]:
    data = q.data
    if kind == "source":
        return {
            "id": key, "title": data.title, "publisher": data.publisher, "url": data.url,
            "relays_id": refs[data.relays] if data.relays else None, "snapshot_sha256": data.sha256,
            "snapshot_length": data.length, "note": data.note, "snapshot_text": None, "retrieved_at": None,
            **date_columns("published", data.published),
        }  # fmt: skip
    if kind == "party":
        acts_for = refs[data.acts_for] if data.acts_for else None
        return {"id": key, "name": data.name, "kind": data.kind, "acts_for_id": acts_for, "note": data.note}
    if kind == "citation":
        return _citation_row(key, refs[data.record], q.payload, refs)
    values: dict[str, Any] = {name: getattr(data, name) for name in _PLAIN}
    for name in _DATES:
        values.update(date_columns(name, getattr(data, name)))
    return {
        "id": key, "giver_id": refs[data.giver], "receiver_id": refs[data.receiver], "kind": data.kind.value,
        "status": data.status, "renews_id": refs[data.renews] if data.renews else None, **values,
    }  # fmt: skip


def _citation_row(key: int, record_id: int, c: dict[str, Any], refs: dict[str, int]) -> dict[str, Any]:
    return {
        "id": key, "record_id": record_id, "source_id": refs[c["source"]], "quote": c.get("quote"),
        "locator": c.get("locator"), "prefix": c.get("prefix"), "suffix": c.get("suffix"),
    }  # fmt: skip


def bulk_load(
    session: Session,
    path: Path,
    fmt: str,
    *,
    record_type: str | None = None,
    max_errors: int = MAX_ERRORS,
    progress: Progress | None = None,
) -> LoadResult:
    """Stream one JSONL or CSV file into the ledger in the caller's transaction."""
    prepare_bulk_load(session)
    lines = stream_jsonl(path) if fmt == "jsonl" else stream_csv(path, record_type)
    return BulkLoader(session, str(path), max_errors=max_errors, progress=progress).run(lines)


def import_files(
    session: Session,
    paths: list[Path],
    *,
    fmt: str | None = None,
    record_type: str | None = None,
    max_errors: int = MAX_ERRORS,
    stream: bool | None = None,
    progress: Callable[[Path], Progress] | None = None,
) -> list[tuple[str, LoadResult]]:
    """Import files in one transaction: small files parsed whole, large JSONL/CSV streamed.

    Whole files load first (in record order, so CSV files can come in any order), then streamed ones.
    """
    whole, streamed = [], []
    for path in paths:
        kind = detect_format(path, fmt)
        if should_stream(path, kind, stream):
            streamed.append((path, kind))
        else:
            whole.append(read(path, fmt, record_type=record_type))
    results = [(doc.name, load(session, doc, max_errors=max_errors)) for doc in in_load_order(whole)]
    for path, kind in streamed:
        tell = progress(path) if progress is not None else None
        result = bulk_load(session, path, kind, record_type=record_type, max_errors=max_errors, progress=tell)
        results.append((str(path), result))
    return results
