"""The import baseline: ``json.loads`` per line + ``executemany`` in batches into the ledger's own tables.

It does the work `ledger import` does, by hand, with nothing but the database driver: resolves every
reference, writes the ``records`` row and the record's own row (citations, aliases, status history,
exchange sides and members too), and appends one hash-chained journal entry per change, with the same
payloads and the same hash definition as ``ledger.journal``. So the database it leaves is a valid
ledger (``ledger verify``, ``ledger list``, ``ledger audit`` work on it), which is also how the
benchmark populates the database for the read-side measurements.

Usage: ``python bench/rawload.py DATABASE FILE.jsonl`` (DATABASE: a SQLite path, or a
``postgresql://`` URL for psycopg). The database must already be initialised (``ledger init``).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import sys
from itertools import combinations
from typing import Any

BATCH = 5_000
GENESIS_HASH = "0" * 64
AT = "2026-01-01T00:00:00.000000Z"
AUTHOR = "bench"
_DATE_SHAPE = re.compile(r"^\d{4}(-\d{1,2}(-\d{1,2})?)?$|^\d{4}-\d|^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$")
#: Tables in the order their rows must be inserted (parents first).
TABLES = {
    "records": ("id", "type", "slug", "retracted", "created_seq"),
    "sources": ("id", "title", "publisher", "url", "published_text", "published_on", "published_precision",
                "relays_id"),
    "parties": ("id", "name", "kind", "acts_for_id", "note"),
    "aliases": ("id", "party_id", "name", "source_id", "script", "note"),
    "concessions": ("id", "giver_id", "receiver_id", "kind", "kind_detail", "summary", "quantity", "unit", "status",
                    "date_text", "date_on", "date_precision", "due_text", "due_on", "due_precision",
                    "announced_text", "announced_on", "announced_precision", "effective_text", "effective_on",
                    "effective_precision", "expires_text", "expires_on", "expires_precision", "conditions",
                    "instrument", "authority", "programme", "instrument_ref", "release_form", "destination", "note"),
    "status_changes": ("id", "concession_id", "status", "date_text", "date_on", "date_precision", "source_id",
                       "journal_seq"),
    "exchanges": ("id", "title", "summary"),
    "exchange_sides": ("id", "exchange_id", "party_id"),
    "exchange_members": ("id", "exchange_id", "side_id", "concession_id"),
    "links": ("id", "exchange_id", "quid_id", "quo_id", "basis", "reason"),
    "citations": ("id", "record_id", "source_id", "quote", "locator", "prefix", "suffix"),
    "reported_totals": ("id", "source_id", "giver_id", "receiver_id", "kind", "unit", "value", "period_start_text",
                        "period_start_on", "period_start_precision", "period_end_text", "period_end_on",
                        "period_end_precision", "statement"),
    "claims": ("id", "record_id", "attribute", "value", "source_id", "quote", "rank"),
    "journal": ("seq", "at", "author", "op", "record_type", "record_slug", "payload", "prev_hash", "hash", "state"),
}  # fmt: skip
CONCESSION_PLAIN = (
    "kind_detail", "summary", "quantity", "unit", "conditions", "instrument", "authority", "programme",
    "instrument_ref", "release_form", "destination", "note",
)  # fmt: skip
CONCESSION_DATES = ("date", "due", "announced", "effective", "expires")


def canonical(value: Any) -> str:
    """Canonical JSON (sorted keys, no whitespace, UTF-8): JCS for the journal's value domain."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


#: The column naming the record that owns each table's rows (``ledger.ops.state``; the journal's ``state``
#: holds each touched record's digest). alias_judgements, never written here, is left out.
OWNERS = {"aliases": "id", "beneficiaries": "concession_id", "citations": "id", "claims": "id", "concessions": "id",
          "exchange_members": "exchange_id", "exchange_sides": "exchange_id", "exchanges": "id", "links": "id",
          "parties": "id", "records": "id", "reported_totals": "id", "sources": "id",
          "status_changes": "concession_id"}  # fmt: skip


def entry_hash(seq: int, at: str, author: str, op: str, rtype: str | None, slug: str | None, payload: str,
               prev: str, state: str | None = None) -> str:  # fmt: skip
    """The journal's entry hash, as ``ledger.journal.entry_hash`` defines it (a smoke test keeps them equal)."""
    head = canonical({"at": at, "author": author, "op": op})[:-1]
    tail = canonical({"prev_hash": prev, "record_slug": slug, "record_type": rtype, "seq": seq})[1:]
    if state is not None:
        tail = f'{tail[:-1]},"state":{state}}}'

    return hashlib.sha256(f'{head},"payload":{payload},{tail}'.encode()).hexdigest()


def citation_slug(record: str, c: dict[str, Any]) -> str:
    """A citation's derived ID, as ``ledger.ops.add.citation_slug`` computes it."""
    key = "\x1f".join(str(c.get(k) or "") for k in ("source", "quote", "locator"))
    return "cite-" + hashlib.sha256(f"{record}\x1f{key}".encode()).hexdigest()[:12]


def date_in(value: Any) -> dict[str, Any] | None:
    """A date as the import schema reads it: ``{"text", "value"}``, nones dropped."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"value": value} if _DATE_SHAPE.match(value.strip()) else {"text": value}
    return {k: v for k, v in value.items() if v is not None}


def date_columns(prefix: str, date: dict[str, Any] | None) -> dict[str, Any]:
    """The three stored columns of a fuzzy date."""
    date = date or {}
    value = date.get("value")
    if value is None:
        on, precision = None, "unknown"
    elif len(value) == 4:
        on, precision = f"{value}-01-01", "year"
    elif len(value) == 7:
        on, precision = f"{value}-01", "month"
    else:
        on, precision = value, "day"
    return {f"{prefix}_text": date.get("text"), f"{prefix}_on": on, f"{prefix}_precision": precision}


class RawLoader:
    """One pass over the JSONL file; rows buffered per table and written with executemany."""

    def __init__(self, connection: Any, paramstyle: str) -> None:
        self.connection, self.cursor = connection, connection.cursor()
        mark = "?" if paramstyle == "qmark" else "%s"
        self.sql = {
            t: f"INSERT INTO {t} ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
            for t, cols in TABLES.items()
        }
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        self.pending = 0
        self.mark = mark
        self.entries: list[tuple[int, str, str | None, str | None, str, list[int]]] = []
        self.columns = {t: sorted(self._columns(t)) for t in OWNERS}
        self.ids: dict[str, int] = {}
        self.side_of: dict[str, str] = {}
        self.next_id = {t: self._max(t) + 1 for t in ("records", "status_changes", "exchange_sides",
                                                         "exchange_members")}  # fmt: skip
        self.seq, self.prev = self._head()

    def _max(self, table: str) -> int:
        self.cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        return int(self.cursor.fetchone()[0])

    def _head(self) -> tuple[int, str]:
        self.cursor.execute("SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1")
        row = self.cursor.fetchone()
        return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))

    def _columns(self, table: str) -> list[str]:
        if self.mark == "?":
            return [row[1] for row in self.cursor.execute(f"PRAGMA table_info({table})").fetchall()]
        self.cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,))
        return [row[0] for row in self.cursor.fetchall()]

    def add(self, table: str, values: dict[str, Any]) -> None:
        self.rows[table].append(tuple(values.get(c) for c in TABLES[table]))
        self.pending += 1

    def flush(self) -> None:
        """Write the buffered rows, then their journal entries, each with the digests of the records it wrote."""
        for table, rows in self.rows.items():
            if rows:
                self.cursor.executemany(self.sql[table], rows)
                rows.clear()
        self.pending = 0
        if not self.entries:
            return
        digests = self._digests(sorted({key for entry in self.entries for key in entry[5]}))
        rows = []
        for seq, op, rtype, slug, text, owners in self.entries:
            state = canonical({f"r{key}": digests.get(key) for key in owners})
            digest = entry_hash(seq, AT, AUTHOR, op, rtype, slug, text, self.prev, state)
            rows.append((seq, AT, AUTHOR, op, rtype, slug, text, self.prev, digest, state))
            self.prev = digest
        self.cursor.executemany(self.sql["journal"], rows)
        self.entries.clear()

    def _digests(self, owners: list[int]) -> dict[int, str]:
        """Each record's digest as ``ledger.ops.state`` defines it: its rows, tables in name order, by id."""
        texts: dict[int, list[str]] = {}
        for table in sorted(OWNERS):
            owner, columns = OWNERS[table], ", ".join(self.columns[table])
            for start in range(0, len(owners), 5_000):
                chunk = owners[start : start + 5_000]
                cursor = self.connection.cursor()
                cursor.execute(
                    f"SELECT {owner}, {columns} FROM {table} WHERE {owner} IN ({', '.join([self.mark] * len(chunk))})"
                    f" ORDER BY {owner}, id",
                    chunk,
                )
                for row in cursor:
                    texts.setdefault(row[0], []).append(f"{table}{tuple(row[1:])!r}\n")
        return {key: hashlib.sha256("".join(t).encode()).hexdigest()[:32] for key, t in texts.items()}

    def new_id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def journal(self, op: str, rtype: str | None, slug: str | None, payload: dict[str, Any]) -> int:
        """Start a journal entry; the records written until the next one are the ones it touched."""
        if self.pending >= BATCH:  # a batch ends between entries, never inside one
            self.flush()
        self.seq += 1
        self.entries.append((self.seq, op, rtype, slug, canonical(payload), []))
        self.pending += 1
        return self.seq

    def touch(self, key: int) -> None:
        self.entries[-1][5].append(key)

    def record(self, rtype: str, slug: str, seq: int) -> int:
        if slug in self.ids:
            raise ValueError(f"ID {slug!r} is used twice")
        record_id = self.new_id("records")
        self.ids[slug] = record_id
        self.touch(record_id)
        self.add("records", {"id": record_id, "type": rtype, "slug": slug, "retracted": False, "created_seq": seq})
        return record_id

    def citations(self, slug: str, given: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**c, "id": c.get("id") or citation_slug(slug, c)} for c in given]

    def apply_citations(self, record_id: int, citations: list[dict[str, Any]], seq: int) -> None:
        for c in citations:
            cid = self.record("citation", c["id"], seq)
            self.add("citations", {**c, "id": cid, "record_id": record_id, "source_id": self.ids[c["source"]]})

    # --- one method per JSONL type ---------------------------------------------------------------

    def source(self, r: dict[str, Any]) -> None:
        payload = {k: v for k, v in r.items() if v is not None}
        if "published" in payload:
            payload["published"] = date_in(payload["published"])
        seq = self.journal("add_source", "source", r["id"], payload)
        sid = self.record("source", r["id"], seq)
        self.add("sources", {**r, "id": sid, "relays_id": self.ids[r["relays"]] if r.get("relays") else None,
                             **date_columns("published", payload.get("published"))})  # fmt: skip

    def party(self, r: dict[str, Any]) -> None:
        payload = {k: v for k, v in r.items() if v is not None and v != []}
        aliases = [{k: v for k, v in a.items() if k != "party"} for a in payload.get("aliases", [])]
        for alias in aliases:
            alias["id"] = alias.get("id") or f"alias-{r['id']}-{alias['name']}"
        if aliases:
            payload["aliases"] = aliases
        seq = self.journal("add_party", "party", r["id"], payload)
        pid = self.record("party", r["id"], seq)
        acts_for = r.get("acts_for")
        self.side_of[r["id"]] = self.side_of[acts_for] if acts_for else r["id"]
        self.add("parties", {**r, "id": pid, "acts_for_id": self.ids[acts_for] if acts_for else None})
        for alias in aliases:
            aid = self.record("alias", alias["id"], seq)
            source = alias.get("source")
            self.add(
                "aliases", {**alias, "id": aid, "party_id": pid, "source_id": self.ids[source] if source else None}
            )

    def concession(self, r: dict[str, Any]) -> None:
        payload = {k: v for k, v in r.items() if v is not None and v != []}
        for name in CONCESSION_DATES:
            if name in payload:
                payload[name] = date_in(payload[name])
        citations = self.citations(r["id"], payload.pop("citations", []))
        if citations:
            payload["citations"] = citations
        seq = self.journal("add_concession", "concession", r["id"], payload)
        cid = self.record("concession", r["id"], seq)
        values = {name: payload.get(name) for name in CONCESSION_PLAIN}
        for name in CONCESSION_DATES:
            values.update(date_columns(name, payload.get(name)))
        self.add(
            "concessions",
            {
                **values,
                "id": cid,
                "giver_id": self.ids[r["giver"]],
                "receiver_id": self.ids[r["receiver"]],
                "kind": r["kind"],
                "status": r["status"],
            },
        )
        first_source = self.ids[citations[0]["source"]] if citations else None
        self.add("status_changes", {"id": self.new_id("status_changes"), "concession_id": cid, "status": r["status"],
                                    "source_id": first_source, "journal_seq": seq,
                                    **date_columns("date", payload.get("date"))})  # fmt: skip
        self.apply_citations(cid, citations, seq)

    def exchange(self, r: dict[str, Any]) -> None:
        payload = {k: v for k, v in r.items() if k != "links" and v is not None and v != []}
        seq = self.journal("add_exchange", "exchange", r["id"], payload)
        xid = self.record("exchange", r["id"], seq)
        self.add("exchanges", {"id": xid, "title": r["title"], "summary": r.get("summary")})
        sides: dict[str, int] = {}
        for link in r.get("links", []):
            self.link(r["id"], xid, link, sides)

    def link(self, exchange: str, xid: int, data: dict[str, Any], sides: dict[str, int]) -> None:
        names = data["concessions"]
        giver_side = {c: self.side_of[self.giver[c]] for c in names}
        links = []
        for quid, quo in combinations(names, 2):
            if giver_side[quid] == giver_side[quo]:
                continue
            basis = data["basis"]
            slug = f"link-{quid}--{quo}" + ("" if basis == "stated" else f"--{basis}")
            link: dict[str, Any] = {"id": slug, "quid": quid, "quo": quo, "basis": basis}
            if data.get("reason"):
                link["reason"] = data["reason"]
            citations = self.citations(slug, data.get("citations", []))
            if citations:
                link["citations"] = citations
            links.append(link)
        members = [{"concession": c, "side": giver_side[c]} for c in names]
        seq = self.journal("link", "exchange", exchange, {"exchange": exchange, "members": members, "links": links})
        self.touch(xid)
        for m in members:
            if m["side"] not in sides:
                sides[m["side"]] = self.new_id("exchange_sides")
                self.add(
                    "exchange_sides", {"id": sides[m["side"]], "exchange_id": xid, "party_id": self.ids[m["side"]]}
                )
            self.add(
                "exchange_members",
                {
                    "id": self.new_id("exchange_members"),
                    "exchange_id": xid,
                    "side_id": sides[m["side"]],
                    "concession_id": self.ids[m["concession"]],
                },
            )
        for link in links:
            lid = self.record("link", link["id"], seq)
            self.add(
                "links",
                {
                    "id": lid,
                    "exchange_id": xid,
                    "quid_id": self.ids[link["quid"]],
                    "quo_id": self.ids[link["quo"]],
                    "basis": link["basis"],
                    "reason": link.get("reason"),
                },
            )
            self.apply_citations(lid, link.get("citations", []), seq)

    def total(self, r: dict[str, Any]) -> None:
        payload = {k: v for k, v in r.items() if v is not None and v != []}
        for name in ("period_start", "period_end"):
            if name in payload:
                payload[name] = date_in(payload[name])
        citations = self.citations(r["id"], payload.pop("citations", []))
        if citations:
            payload["citations"] = citations
        seq = self.journal("add_total", "reported_total", r["id"], payload)
        tid = self.record("reported_total", r["id"], seq)
        self.add("reported_totals", {**r, "id": tid, "source_id": self.ids[r["source"]],
                                     "giver_id": self.ids[r["giver"]],
                                     "receiver_id": self.ids[r["receiver"]] if r.get("receiver") else None,
                                     **date_columns("period_start", payload.get("period_start")),
                                     **date_columns("period_end", payload.get("period_end"))})  # fmt: skip
        self.apply_citations(tid, citations, seq)

    def claim(self, r: dict[str, Any]) -> None:
        payload = {k: v for k, v in r.items() if v is not None and not (k == "rank" and v == "normal")}
        seq = self.journal("add_claim", "claim", r["id"], payload)
        cid = self.record("claim", r["id"], seq)
        self.add("claims", {**r, "id": cid, "record_id": self.ids[r["record"]], "source_id": self.ids[r["source"]],
                            "rank": r.get("rank", "normal")})  # fmt: skip

    def load(self, lines: Any) -> int:
        """Load every line; returns the number of records read."""
        self.giver: dict[str, str] = {}
        handlers = {"source": self.source, "party": self.party, "concession": self.concession,
                    "exchange": self.exchange, "total": self.total, "claim": self.claim}  # fmt: skip
        count = 0
        for line in lines:
            if not line.strip():
                continue
            record = json.loads(line)
            kind = record.pop("type")
            if kind == "concession":
                self.giver[record["id"]] = record["giver"]
            handlers[kind](record)
            count += 1
        self.flush()
        return count


def connect(database: str) -> tuple[Any, str]:
    """A DB-API connection and its parameter style: sqlite3 for a path, psycopg for a URL."""
    if "://" in database:
        import psycopg

        return psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")), "format"
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA foreign_keys=ON")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("BEGIN IMMEDIATE")
    return connection, "qmark"


def load_file(database: str, path: str) -> int:
    """Load one JSONL file into an initialised ledger in one transaction."""
    connection, style = connect(database)
    try:
        with open(path, encoding="utf-8") as lines:
            count = RawLoader(connection, style).load(lines)
        if style == "format":
            _advance_sequences(connection)
        connection.commit() if style == "format" else connection.execute("COMMIT")
        if style == "format":  # as `ledger import` does after a streamed load: fresh planner statistics
            connection.autocommit = True
            connection.execute("ANALYZE")
    finally:
        connection.close()
    return count


def _advance_sequences(connection: Any) -> None:
    """PostgreSQL: move each serial column past the ids written by hand, so later ledger writes work."""
    with connection.cursor() as cursor:
        for table, column in (("records", "id"), ("status_changes", "id"), ("exchange_sides", "id"),
                              ("exchange_members", "id"), ("journal", "seq")):  # fmt: skip
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"(SELECT coalesce(max({column}), 0) + 1 FROM {table}), false)"
            )


if __name__ == "__main__":
    print(load_file(sys.argv[1], sys.argv[2]))  # noqa: T201
