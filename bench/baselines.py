"""Raw-driver baselines for the read side: the same work as each `ledger` command, by hand.

Usage: ``python bench/baselines.py OPERATION DATABASE [ARG]``; DATABASE is a SQLite path or a
``postgresql://`` URL (psycopg). Each prints what it computed to stdout, as the ledger command does.
"""

from __future__ import annotations

import csv
import hashlib
import sqlite3
import sys
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

#: Concessions in no exchange (the `unpaired` check).
UNPAIRED = """
SELECT r.slug, c.summary, c.status, g.name FROM concessions c
  JOIN records r ON r.id = c.id JOIN parties g ON g.id = c.giver_id
 WHERE NOT r.retracted AND NOT EXISTS (SELECT 1 FROM exchange_members m WHERE m.concession_id = c.id)
 ORDER BY r.slug"""
#: Exchanges with fewer than two sides holding a live concession (the `one-sided` check).
ONE_SIDED = """
SELECT xr.slug, count(DISTINCT m.side_id) FROM exchanges x
  JOIN records xr ON xr.id = x.id
  LEFT JOIN exchange_members m ON m.exchange_id = x.id
 WHERE NOT xr.retracted
 GROUP BY xr.slug HAVING count(DISTINCT m.side_id) < 2
 ORDER BY xr.slug"""
#: Reported totals against the sum of the ledger's delivered concessions (the `totals` check). Driven by
#: the giver index (``status || ''`` keeps SQLite from scanning every delivered concession per total).
TOTALS = """
SELECT tr.slug, t.value, coalesce((
    SELECT sum(c.quantity) FROM parties p JOIN concessions c ON c.giver_id = p.id JOIN records cr ON cr.id = c.id
     WHERE (p.id = t.giver_id OR p.acts_for_id = t.giver_id)
       AND NOT cr.retracted AND c.status || '' = 'delivered' AND c.unit = t.unit
       AND (t.kind IS NULL OR c.kind = t.kind)
       AND (t.period_start_on IS NULL OR c.date_on >= t.period_start_on)
       AND (t.period_end_on IS NULL OR c.date_on <= t.period_end_on)), 0) AS counted
  FROM reported_totals t JOIN records tr ON tr.id = t.id
 WHERE NOT tr.retracted ORDER BY tr.slug"""
#: `ledger list --limit 20`: the first page of concessions, then their citations and exchanges.
LIST_PAGE = """
SELECT c.id, r.slug, gr.slug, g.name, rr.slug, rc.name, k.cameo_code, c.kind, c.summary, c.quantity, c.unit,
       c.status, c.date_text, c.date_on, c.date_precision
  FROM concessions c JOIN records r ON r.id = c.id
  JOIN parties g ON g.id = c.giver_id JOIN records gr ON gr.id = g.id
  JOIN parties rc ON rc.id = c.receiver_id JOIN records rr ON rr.id = rc.id
  JOIN concession_kinds k ON k.kind = c.kind
 WHERE NOT r.retracted
 ORDER BY c.date_on IS NULL, c.date_on, r.slug LIMIT 20"""
LIST_CITATIONS = """
SELECT ci.record_id, cr.slug, sr.slug, s.title, ci.quote, ci.locator FROM citations ci
  JOIN records cr ON cr.id = ci.id JOIN sources s ON s.id = ci.source_id JOIN records sr ON sr.id = s.id
 WHERE ci.record_id IN ({ids}) AND NOT cr.retracted ORDER BY ci.record_id, sr.slug, cr.slug"""
LIST_EXCHANGES = """
SELECT m.concession_id, xr.slug FROM exchange_members m JOIN records xr ON xr.id = m.exchange_id
 WHERE m.concession_id IN ({ids}) ORDER BY xr.slug"""
#: The filtered aggregate `ledger sql` runs in the benchmark, on the documented view.
SQL_AGGREGATE = (
    "SELECT kind, status, count(*) AS concessions, sum(quantity) AS quantity FROM v_concessions "
    "WHERE date_on >= '2020-01-01' AND date_precision = 'day' GROUP BY kind, status ORDER BY kind, status"
)
#: Tables written by the CSV baseline: each record table with its stable ID first.
EXPORT_TABLES = (
    "sources", "parties", "aliases", "concessions", "exchanges", "exchange_members", "links", "citations",
    "reported_totals", "claims",
)  # fmt: skip


def connect(database: str) -> tuple[Any, bool]:
    """A DB-API connection (sqlite3 for a path, psycopg for a URL) and whether it is PostgreSQL."""
    if "://" in database:
        import psycopg

        return psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")), True
    return sqlite3.connect(f"file:{database}?mode=ro", uri=True), False


def audit(cursor: Any, checks: tuple[str, ...]) -> int:
    """Run the hand-written checks and print one line per finding."""
    found = 0
    out = sys.stdout
    if "unpaired" in checks:
        for slug, summary, status, giver in cursor.execute(UNPAIRED):
            out.write(f"warning\tunpaired\t{slug}\t{giver}: {summary!r} ({status}) is in no exchange\n")
            found += 1
    if "one-sided" in checks:
        for slug, sides in cursor.execute(ONE_SIDED):
            out.write(f"error\tone-sided\t{slug}\tonly {sides} side(s) gave anything\n")
            found += 1
    if "totals" in checks:
        for slug, value, counted in cursor.execute(TOTALS):
            if value != counted:
                out.write(f"warning\ttotals\t{slug}\tthe source says {value}, the ledger counts {counted}\n")
                found += 1
    return found


def streaming(connection: Any, postgres: bool) -> Any:
    """A cursor that streams its rows: psycopg's default cursor would fetch the whole result first."""
    return connection.cursor(name="bench_stream") if postgres else connection.cursor()


def export_csv(connection: Any, postgres: bool, directory: Path) -> int:
    """One CSV file per record table (stable ID first), through csv.writer over a raw cursor."""
    directory.mkdir(parents=True, exist_ok=True)
    rows = 0
    for table in EXPORT_TABLES:
        cursor = streaming(connection, postgres)
        cursor.execute(f"SELECT r.slug, t.* FROM {table} t JOIN records r ON r.id = t.{_key(table)} ORDER BY r.slug")
        with (directory / f"{table}.csv").open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["id", *(d[0] for d in cursor.description[1:])])
            while batch := cursor.fetchmany(10_000):
                writer.writerows(batch)
                rows += len(batch)
        cursor.close()
    return rows


def _key(table: str) -> str:
    return "concession_id" if table == "exchange_members" else "id"


def verify(cursor: Any) -> int:
    """Recompute every journal hash in order with hashlib; print and count the breaks.

    The entry's canonical JSON (JCS: sorted keys, no whitespace) is written by hand around the stored
    canonical payload, the cheapest correct way to rebuild it.
    """
    prev, expected, broken = "0" * 64, 1, 0
    text = encode_basestring
    cursor.execute("SELECT seq, at, author, op, record_type, record_slug, payload, prev_hash, hash, state FROM journal "
                   "ORDER BY seq")  # fmt: skip
    while batch := cursor.fetchmany(10_000):
        for seq, at, author, op, rtype, slug, payload, prev_hash, digest, state in batch:
            tail = "}" if state is None else f',"state":{state}}}'
            entry = (
                f'{{"at":{text(at)},"author":{text(author)},"op":{text(op)},"payload":{payload},'
                f'"prev_hash":{text(prev_hash)},"record_slug":{"null" if slug is None else text(slug)},'
                f'"record_type":{"null" if rtype is None else text(rtype)},"seq":{seq}{tail}'
            )
            if seq != expected or prev_hash != prev or hashlib.sha256(entry.encode()).hexdigest() != digest:
                sys.stdout.write(f"broken at {seq}\n")
                broken += 1
            prev, expected = digest, seq + 1
    sys.stdout.write(f"{expected - 1} entries, {broken} broken\n")
    return broken


def list_page(cursor: Any, postgres: bool) -> int:
    """The first 20 concessions with their citations and exchanges, printed as tab-separated lines."""
    page = LIST_PAGE.replace("c.date_on IS NULL", "(c.date_on IS NULL)") if postgres else LIST_PAGE
    rows = cursor.execute(page).fetchall()
    ids = ", ".join(str(int(r[0])) for r in rows) or "0"
    citations = cursor.execute(LIST_CITATIONS.format(ids=ids)).fetchall()
    exchanges = cursor.execute(LIST_EXCHANGES.format(ids=ids)).fetchall()
    for row in rows:
        sys.stdout.write("\t".join(str(v) for v in row[1:]) + "\n")
    return len(rows) + len(citations) + len(exchanges)


def sql(cursor: Any, query: str) -> int:
    """Run one query and print its rows as CSV."""
    cursor.execute(query)
    writer = csv.writer(sys.stdout)
    writer.writerow([d[0] for d in cursor.description])
    rows = cursor.fetchall()
    writer.writerows(rows)
    return len(rows)


def main(argv: list[str]) -> None:
    """Dispatch one baseline."""
    operation, database, *rest = argv
    connection, postgres = connect(database)
    cursor = connection.cursor()
    try:
        if operation == "audit":
            audit(cursor, tuple(rest[0].split(",")) if rest else ("unpaired", "one-sided", "totals"))
        elif operation == "export-csv":
            export_csv(connection, postgres, Path(rest[0]))
        elif operation == "verify":
            verify(streaming(connection, postgres))
        elif operation == "list":
            list_page(cursor, postgres)
        elif operation == "sql":
            sql(cursor, rest[0] if rest else SQL_AGGREGATE)
        else:
            raise SystemExit(f"unknown baseline {operation!r}")
    finally:
        connection.close()


if __name__ == "__main__":
    main(sys.argv[1:])
