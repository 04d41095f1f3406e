"""Streaming import of large JSONL and CSV files: flat memory, batched Core inserts, one journal entry per record.

Each line is parsed strictly (duplicate keys and NaN refused), validated with the same pydantic model
as every other import, and queued. Every record type the record-by-record importer takes streams:
sources, parties (with inline aliases), aliases, concessions, exchanges (with inline links), links,
reported totals, claims and citations. A batch is written with SQLAlchemy Core ``executemany``: the
``records`` rows, each table's own rows, then the journal entries (hash chain computed here, exactly as
``journal.append`` would). The payload of each entry is the one ``plan_*`` builds for ``ledger add``
(``ledger.ops.bulk_plan``; links: ``ledger.ops.bulk_links``), and the rows are those its projector would
make, so ``ledger rebuild`` replays the journal into the same tables.

IDs are looked up a batch at a time. A record that already exists with the same journalled payload is
left alone; one that differs goes through the record-by-record comparison (and amendment). An ID given
twice in one file (sources, parties, concessions, exchanges, totals) is an error naming both lines, as
in the record-by-record importer. The whole import is one transaction: the first error stops writing,
the rest of the file is still validated for more errors, and the caller rolls back.

The one difference from the record-by-record importer is order: a streamed file is written line by line,
so references must point at records already in the ledger or on an earlier line, where the
record-by-record importer first sorts the file's records by section. For a file in section order (as
``ledger export`` writes it) both write the same journal, entry for entry.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from ledger import journal
from ledger.db import prepare_bulk_load, reserve_ids
from ledger.domain import RecordType
from ledger.errors import InvalidInput
from ledger.io.readers import Document, Location, detect_format, read, stream_jsonl
from ledger.io.tables import in_load_order, stream_csv
from ledger.models import Base, ExchangeMember, ExchangeSide, JournalEntry, Record
from ledger.ops import state
from ledger.ops.bulk_links import LinkPlanner
from ledger.ops.bulk_plan import (
    ADAPTERS,
    OP,
    PLAN,
    RECORD_TYPE,
    TABLE_ORDER,
    UNIQUE_IDS,
    Item,
    Rows,
    add_rows,
    created,
    link_rows,
    payload_of,
    problems_of,
    references,
    slug_of,
)
from ledger.ops.bulk_sql import in_list, insert_rows
from ledger.ops.load import MAX_ERRORS, LoadResult, _Loader, load

BATCH = 1_000
#: ``RecordType(stored).value`` for every stored type, without the enum call per row.
_TYPES = {t.value: t.value for t in RecordType}
#: After the first error, how many IDs of the file's unwritten records are remembered for reference checks.
UNWRITTEN_LIMIT = 200_000
#: Files at least this large take the streaming path unless told otherwise.
STREAM_BYTES = 8 * 1024**2
#: Told (lines read, bytes read) after every batch of lines.
Progress = Callable[[int, int], None]
Lines = Iterable[tuple[int, str | None, Any, int]]


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

    def __init__(
        self, session: Session, name: str, *, max_errors: int, progress: Progress | None, reread: Callable[[], Lines]
    ) -> None:
        self.session, self.name, self.max_errors, self.progress = session, name, max_errors, progress
        self.reread = reread
        self.problems: list[str] = []
        self.result = LoadResult()
        self.batch: list[Item] = []
        self.batch_slugs: set[str] = set()
        self.head = session.info.get("journal_head") or journal.head(session)
        self.at = session.info.get("journal_time") or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.author = session.info.get("author") or journal.default_author()
        self.document = Document(name, {})
        self.loader = _Loader(session, self.document, max_errors)
        self.loader.result = self.result
        self.links = LinkPlanner(session)
        self.seen = bytearray()  # one bit per records.id: records this file has given with an explicit ID
        self.unwritten: dict[str, str] | None = {}  # after the first error: ID -> record type, for checks

    def run(self, lines: Lines) -> LoadResult:
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
        """Validate one line and queue its record (an exchange's inline links follow it as links)."""
        if isinstance(value, InvalidInput) or kind is None:
            self.problems.append(value.message if isinstance(value, InvalidInput) else f"{self.name}:{number}: type")
            return
        try:
            data = ADAPTERS[kind].validate_python(value)
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(p) for p in error["loc"]) or "record"
                self.problems.append(
                    f"{self.name}:{number}: {where}: {error['msg']} (got {_shown(error.get('input'))})"
                )
            return
        self.queue(Item(number, kind, slug_of(kind, data), data))
        for j, link in enumerate(data.links if kind == "exchange" else ()):
            inline = link if link.exchange else link.model_copy(update={"exchange": data.id})
            if inline.exchange != data.id:
                self.problems.append(f"{self.name}:{number}: links[{j}]: link names another exchange")
            else:
                self.queue(Item(number, "link", "", inline, prefix=f"links[{j}]."))

    def queue(self, item: Item) -> None:
        """Add a record to the batch (written when the batch is full, or before an ID repeats in it)."""
        found = problems_of(item.kind, item.slug, item.data)
        if found:
            self.problems += [f"{self.name}:{item.line}: {item.prefix}{p}" for p in found]
            return
        item.refs = list(references(item.kind, item.data))
        if len(self.batch) >= BATCH or (item.slug and item.slug in self.batch_slugs):
            self.flush()
        self.batch.append(item)
        if item.slug:
            self.batch_slugs.add(item.slug)

    # --- one batch -------------------------------------------------------------------------------

    def flush(self) -> None:
        """Check and write the queued records, in file order."""
        items, self.batch, self.batch_slugs = self.batch, [], set()
        if not items:
            return
        wanted = {i.slug for i in items if i.slug} | {r for i in items for _n, r, _t in i.refs}
        wanted |= {i.data.exchange for i in items if i.kind == "link" and i.data.exchange}
        known = self._lookup(wanted)
        if self.problems:
            self._check_only(items, known)
            return
        self.links.prepare(i.data for i in items if i.kind == "link")  # and forget the last batch's
        stored = self._payloads([i.slug for i in items if i.slug in known])
        types = {slug: kind for slug, (_key, kind) in known.items()}
        ids = {slug: key for slug, (key, _kind) in known.items()}
        fresh: list[Item] = []
        linked: set[str] = set()  # the exchanges the links in ``fresh`` change
        made: dict[str, int] = {}  # explicit IDs given by this batch's new records -> line
        for item in items:
            if item.unique and self._repeated(item, known, made):
                continue
            if item.slug and item.slug in types:
                if not self._unchanged(item, stored):
                    self._write(fresh, ids)
                    fresh, linked = [], set()
                    self._amend(item)
                if item.unique and item.slug in ids:
                    self._mark(ids[item.slug])
                continue
            if self._resolve(item, types) and self._plan(item, types):
                if item.kind == "link" and item.payload is not None:
                    if item.payload["exchange"] in linked:
                        self._write(fresh, ids)  # each link entry records its exchange as it left it
                        fresh, linked = [], set()
                    linked.add(item.payload["exchange"])
                item.made = list(created(item))
                for slug, record_type in item.made:
                    types[slug] = record_type.value
                if item.unique:
                    made[item.slug] = item.line
                fresh.append(item)
        if not self.problems:
            self._write(fresh, ids)
        elif self.unwritten is not None:  # remembered for the checks of the lines that follow
            self.unwritten.update((i.slug, RECORD_TYPE[i.kind].value) for i in fresh if i.slug)

    def _repeated(self, item: Item, known: dict[str, tuple[int, str]], made: dict[str, int]) -> bool:
        first = made.get(item.slug)
        if first is None and item.slug in known and self._seen(known[item.slug][0]):
            first = self._first_line(item.slug, item.line)
        if first is None:
            return False
        self._twice(item, first)
        return True

    def _twice(self, item: Item, first: int) -> None:
        where = f"{self.name}:{item.line}: {item.kind}"
        self.problems.append(f"{where}: ID {item.slug!r} is used twice (first at {self.name}:{first})")

    def _first_line(self, slug: str, before: int) -> int:
        """The line that first gave this ID (read again: only an error needs it)."""
        for number, kind, value, _position in self.reread():
            if number >= before:
                break
            if kind in UNIQUE_IDS and isinstance(value, dict) and value.get("id") == slug:
                return number
        return 0

    def _seen(self, key: int) -> bool:
        return key >> 3 < len(self.seen) and bool(self.seen[key >> 3] & (1 << (key & 7)))

    def _mark(self, key: int) -> None:
        if key >> 3 >= len(self.seen):
            self.seen.extend(bytes((key >> 3) - len(self.seen) + 1 + len(self.seen) // 2))
        self.seen[key >> 3] |= 1 << (key & 7)

    def _plan(self, item: Item, types: dict[str, str]) -> bool:
        """Build the journal payload of a new record (a link's from the batch's link planner)."""
        if item.kind != "link":
            item.payload = payload_of(item.kind, item.slug, item.data)
            if item.kind == "concession":
                self.links.note_concession(item.slug, item.data.giver, item.data.summary)
            elif item.kind == "party":
                self.links.note_party(item.slug, item.data.acts_for)
            return True
        payload, found = self.links.plan(item.data, types.get, types.keys())
        self.problems += [f"{self.name}:{item.line}: {item.prefix}{p}" for p in found]
        if payload is None and not found and item.data.id is not None:
            self.result.note_unchanged(item.data.id)
        item.payload = payload
        return payload is not None

    def _check_only(self, items: list[Item], known: dict[str, tuple[int, str]]) -> None:
        """After an error nothing is written, but references are still checked (up to a limit)."""
        if self.unwritten is None:
            return
        types = {**self.unwritten, **{slug: kind for slug, (_key, kind) in known.items()}}
        for item in items:
            if item.unique and item.slug in self.unwritten:
                self._twice(item, self._first_line(item.slug, item.line))
            elif item.slug not in known:
                self._resolve(item, types)
            if item.slug:
                self.unwritten[item.slug] = types[item.slug] = RECORD_TYPE[item.kind].value
        if len(self.unwritten) > UNWRITTEN_LIMIT:
            self.unwritten = None

    def _lookup(self, slugs: set[str]) -> dict[str, tuple[int, str]]:
        rows = self.session.connection().execute(
            select(Record.slug, Record.id, Record.type).where(Record.slug.in_(in_list(slugs)))
        )
        return {slug: (key, _TYPES.get(kind) or RecordType(kind).value) for slug, key, kind in rows}

    def _payloads(self, slugs: list[str]) -> dict[str, list[tuple[str, str]]]:
        if not slugs:
            return {}
        out: dict[str, list[tuple[str, str]]] = {}
        rows = self.session.execute(
            select(JournalEntry.record_slug, JournalEntry.op, JournalEntry.payload)
            .where(JournalEntry.record_slug.in_(in_list(slugs)))
            .order_by(JournalEntry.seq)
        )
        for slug, op, payload in rows:
            out.setdefault(str(slug), []).append((op, payload))
        return out

    def _unchanged(self, item: Item, stored: dict[str, list[tuple[str, str]]]) -> bool:
        """An existing record the file gives exactly as it was added (or a citation, which never changes)."""
        entries = stored.get(item.slug, [])
        if item.kind == "citation" or (
            [op for op, _ in entries] == [OP[item.kind]]
            and entries[0][1] == journal.canonical(payload_of(item.kind, item.slug, item.data))
        ):
            self.result.note_unchanged(item.slug)
            return True
        return False

    def _amend(self, item: Item) -> None:
        """The rare path: compare field by field and amend, one record at a time, through the journal."""
        self.session.info["journal_head"] = self.head
        self.session.info["journal_time"] = self.at
        location: Location = (item.kind,)
        self.document.lines[location] = item.line
        self.loader.compare(item.slug, location, PLAN[item.kind], item.data.model_copy(update={"id": item.slug}))
        self.document.lines.pop(location, None)
        self.head = self.session.info.get("journal_head") or self.head

    def _resolve(self, item: Item, types: dict[str, str]) -> bool:
        ok = True
        for name, slug, expected in item.refs:
            found = types.get(slug)
            where = f"{self.name}:{item.line}: {item.prefix}{name}"
            if found is None:
                self.problems.append(f"{where}: no {expected} with ID {slug!r} in the ledger or on an earlier line")
                ok = False
            elif expected != "record" and found != expected:
                self.problems.append(f"{where}: {slug!r} is a {found}, not a {expected}")
                ok = False
        return ok

    # --- writing a batch -------------------------------------------------------------------------

    def _write(self, items: list[Item], ids: dict[str, int]) -> None:
        """Insert new records: ``records`` rows, each table's rows, then the journal entries."""
        if not items:
            return
        seqs = list(range(self.head.seq + 1, self.head.seq + 1 + len(items)))
        made = [(slug, kind, seq) for i, seq in zip(items, seqs, strict=True) for slug, kind in i.made]
        ids.update(self._records(made))
        linked = {p["exchange"] for i in items if i.kind == "link" and (p := i.payload)}
        linked |= {m["side"] for i in items if i.kind == "link" and (p := i.payload) for m in p["members"]}
        if linked - ids.keys():  # an exchange the link joined, or a side the batch does not name
            ids.update((slug, key) for slug, (key, _kind) in self._lookup(linked - ids.keys()).items())
        rows: Rows = defaultdict(list)
        for item, seq in zip(items, seqs, strict=True):
            if item.kind == "link":
                assert item.payload is not None
                link_rows(rows, item.payload, ids)
            else:
                add_rows(rows, item, seq, ids)
        owners = [self._owners(item, ids) for item in items]
        # The type of every record the batch touches: the ones it made, and the exchanges its links join.
        types = {ids[slug]: kind for slug, kind, _seq in made}
        types.update((ids[i.payload["exchange"]], RecordType.EXCHANGE) for i in items if i.kind == "link" and i.payload)
        early: dict[state.Owner, str] = {}
        for model in TABLE_ORDER:
            if model is ExchangeSide:
                # An exchange's own entry records it before the batch's links add sides and members to it.
                exchanges = {ids[i.slug]: RecordType.EXCHANGE for i in items if i.kind == "exchange"}
                early = state.record_digests(self.session, exchanges) if exchanges else {}
                rows[ExchangeMember] = self._sides([i.payload for i in items if i.kind == "link"], ids)  # type: ignore[misc]
            elif rows[model]:
                insert_rows(self.session, _table(model), rows[model])
        # Every row of the batch is written here, and no journal entry yet: the digests of what it wrote.
        found = state.record_digests(self.session, types)
        states = []
        for item, group in zip(items, owners, strict=True):
            own = ("r", ids[item.slug]) if item.kind == "exchange" else None
            states.append({state.key_of(o): (early if o == own else found).get(o) for o in group})
        self._journal(items, seqs, states)
        for item in items:
            if item.kind == "link":
                self.result.links_added += len(item.payload["links"]) if item.payload else 0
                continue
            self.result.note_added(item.slug)
            if item.unique:
                self._mark(ids[item.slug])

    def _records(self, rows: list[tuple[str, RecordType, int]]) -> dict[str, int]:
        table = _table(Record)
        keys = reserve_ids(self.session, table, len(rows))
        values = [
            {"id": key, "type": kind, "slug": slug, "retracted": False, "created_seq": seq}
            for key, (slug, kind, seq) in zip(keys, rows, strict=True)
        ]
        if values:
            insert_rows(self.session, table, values)
        return {slug: key for key, (slug, _kind, _seq) in zip(keys, rows, strict=True)}

    def _sides(self, payloads: list[dict[str, Any]], ids: dict[str, int]) -> list[dict[str, Any]]:
        """Insert the exchange sides the batch's links need; return their members' rows."""
        if not payloads:
            return []
        table = _table(ExchangeSide)
        exchanges = {ids[p["exchange"]] for p in payloads}
        existing = select(table.c.id, table.c.exchange_id, table.c.party_id)
        existing = existing.where(table.c.exchange_id.in_(in_list(exchanges)))
        sides = {(exchange, party): key for key, exchange, party in self.session.connection().execute(existing)}
        wanted: dict[tuple[int, int], None] = {}  # in order of first use
        for p in payloads:
            for m in p["members"]:
                pair = (ids[p["exchange"]], ids[m["side"]])
                if pair not in sides:
                    wanted[pair] = None
        if wanted:
            keys = reserve_ids(self.session, table, len(wanted))
            rows = [{"id": k, "exchange_id": x, "party_id": p} for k, (x, p) in zip(keys, wanted, strict=True)]
            insert_rows(self.session, table, rows)
            sides.update(zip(wanted, keys, strict=True))
        return [
            {"exchange_id": ids[p["exchange"]], "side_id": sides[(ids[p["exchange"]], ids[m["side"]])],
             "concession_id": ids[m["concession"]]}
            for p in payloads for m in p["members"]
        ]  # fmt: skip

    def _owners(self, item: Item, ids: dict[str, int]) -> list[state.Owner]:
        """The records an entry touches (as ``base.write`` would name them): the ones it made, and a
        link's exchange, which gains sides and members."""
        owners = {("r", ids[slug]) for slug, _kind in item.made}
        if item.kind == "link":
            assert item.payload is not None
            owners.add(("r", ids[item.payload["exchange"]]))
        return sorted(owners)

    def _journal(self, items: list[Item], seqs: list[int], states: list[dict[str, str | None]]) -> None:
        """The batch's journal entries, hash-chained, each with the digests of the records it touched."""
        rows = []
        for item, seq, touched in zip(items, seqs, states, strict=True):
            assert item.payload is not None
            text, state_text = _canonical(item.payload), _canonical(touched)
            op, record_type = OP[item.kind], RECORD_TYPE[item.kind].value
            slug = item.payload["exchange"] if item.kind == "link" else item.slug
            digest = journal.entry_hash(
                seq=seq, at=self.at, author=self.author, op=op, record_type=record_type,
                record_slug=slug, payload=text, prev_hash=self.head.hash, state=state_text,
            )  # fmt: skip
            rows.append({
                "seq": seq, "at": self.at, "author": self.author, "op": op, "record_type": record_type,
                "record_slug": slug, "payload": text, "prev_hash": self.head.hash, "hash": digest,
                "state": state_text,
            })  # fmt: skip
            self.head = journal.Head(seq, digest)
        insert_rows(self.session, _table(JournalEntry), rows)


def _canonical(payload: dict[str, Any]) -> str:  # also a state: digests are hex text
    """``journal.canonical`` without its domain walk: every payload here was built from validated input,
    which holds no floats, no counts beyond 2**53 - 1, no lone surrogates, and only ASCII field names."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


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

    def lines() -> Lines:
        return stream_jsonl(path) if fmt == "jsonl" else stream_csv(path, record_type)

    loader = BulkLoader(session, str(path), max_errors=max_errors, progress=progress, reread=lines)
    # The import allocates millions of short-lived objects, and each of the collector's full passes would walk
    # every object alive before it (the modules, SQLAlchemy's and pydantic's schemas): about a tenth of the
    # import's CPU. Those are set aside (not collected) until it ends; what the import makes is collected.
    gc.freeze()
    try:
        return loader.run(lines())
    finally:
        gc.unfreeze()


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
