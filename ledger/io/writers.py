"""Writing exports: the import format (JSON, JSONL, CSV), Markdown, FollowTheMoney and PLOVER.

Writers take a stream of ``(type, fields)`` records (see ledger.ops.export) and never hold more than
one record, so memory stays flat. Files are written atomically: to a temporary file beside the
target, flushed and fsynced, then renamed over it, so a reader never sees half an export.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from ledger.errors import InvalidInput
from ledger.io.atomic import atomic_open
from ledger.io.cells import FORMULA_START as FORMULA_START  # re-exported
from ledger.io.cells import csv_text as csv_text  # re-exported
from ledger.io.cells import csv_unescape as csv_unescape  # re-exported

ExportRecord = tuple[str, dict[str, Any]]
FORMATS = ("json", "jsonl", "csv", "markdown", "ftm", "plover")
SECTION_OF = {
    "source": "sources", "party": "parties", "alias": "aliases", "concession": "concessions",
    "exchange": "exchanges", "link": "links", "total": "totals", "claim": "claims", "citation": "citations",
}  # fmt: skip
#: Fields that hold a fuzzy date ({"text", "value"}): CSV spreads each over two columns.
DATE_FIELDS = ("published", "date", "due", "announced", "effective", "expires", "period_start", "period_end")
#: Fields that hold a list of IDs: CSV joins them with ';' (IDs never contain it).
LIST_FIELDS = ("beneficiaries", "concessions")
#: Columns of each CSV file, in order (the import reads the same names).
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "source": ("id", "title", "publisher", "url", "published", "published_text", "relays", "sha256", "length", "note"),
    "party": ("id", "name", "kind", "acts_for", "note"),
    "alias": ("id", "party", "name", "source", "script", "note"),
    "concession": (
        "id", "giver", "receiver", "kind", "kind_detail", "summary", "quantity", "unit", "status",
        "date", "date_text", "due", "due_text", "announced", "announced_text", "effective", "effective_text",
        "expires", "expires_text", "conditions", "renews", "instrument", "authority", "programme", "instrument_ref",
        "release_form", "destination", "beneficiaries", "note",
    ),
    "exchange": ("id", "title", "summary"),
    "link": ("id", "exchange", "concessions", "basis", "reason"),
    "total": (
        "id", "source", "giver", "receiver", "kind", "unit", "value", "period_start", "period_start_text",
        "period_end", "period_end_text", "statement",
    ),
    "claim": ("id", "record", "attribute", "value", "source", "quote", "rank", "rank_reason", "rank_author"),
    "citation": ("id", "record", "source", "quote", "locator", "prefix", "suffix"),
}  # fmt: skip


# --- atomic files --------------------------------------------------------------------------------


def atomic_file(path: Path, *, binary: bool = False) -> contextlib.AbstractContextManager[IO[Any]]:
    """A file that appears at ``path`` complete, or not at all (``ledger.io.atomic``: a device in place)."""
    return atomic_open(path, binary=binary)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=False, separators=(",", ":"))


# --- the import format ---------------------------------------------------------------------------


def write_jsonl(records: Iterable[ExportRecord], out: IO[str]) -> int:
    """One record per line, with its ``type`` first; returns the number of records."""
    count = 0
    for kind, fields in records:
        out.write(_dumps({"type": kind, **fields}) + "\n")
        count += 1
    return count


def write_json(records: Iterable[ExportRecord], out: IO[str]) -> int:
    """One ledger file (``{"ledger": 1, "sources": [...], ...}``), written as the records stream by."""
    out.write('{"ledger": 1')
    section, count = None, 0
    for kind, fields in records:
        if SECTION_OF[kind] != section:
            out.write("\n  ]" if section is not None else "")
            section = SECTION_OF[kind]
            out.write(f',\n  "{section}": [\n    ')
        else:
            out.write(",\n    ")
        out.write(_dumps(fields))
        count += 1
    out.write("\n  ]\n}\n" if section is not None else "}\n")
    return count


def csv_row(kind: str, fields: dict[str, Any]) -> list[str]:
    """One record as the cells of its CSV file, escaped against formula injection."""
    flat: dict[str, Any] = {}
    for key, value in fields.items():
        if key in DATE_FIELDS:
            flat[key] = value.get("value")
            flat[f"{key}_text"] = value.get("text")
        elif key in LIST_FIELDS:
            flat[key] = ";".join(value)
        else:
            flat[key] = value
    return [csv_text("" if flat.get(c) is None else str(flat[c])) for c in CSV_COLUMNS[kind]]


def write_csv(records: Iterable[ExportRecord], target: Path) -> int:
    """One CSV file per record type (``concessions.csv``...) in a directory, or in a ``.zip``."""
    tables = ((kind, _csv_rows(kind, group)) for kind, group in itertools.groupby(records, key=lambda r: r[0]))
    return _write_tables(tables, target, escaped=True)


def _csv_rows(kind: str, records: Iterable[ExportRecord]) -> Iterator[list[list[str]]]:
    for _kind, fields in records:
        yield [csv_row(kind, fields)]


def write_csv_tables(tables: Iterable[tuple[str, Iterable[Sequence[Sequence[Any]]]]], target: Path) -> int:
    """Like :func:`write_csv`, from each type's rows (cells already in ``CSV_COLUMNS`` order, text or None).

    Rows are written a batch at a time; a batch is checked for formula-looking cells with one regular
    expression over its joined cells, and only a batch that has one is escaped cell by cell.
    """
    return _write_tables(tables, target, escaped=False)


#: A cell that :func:`csv_text` would escape, in cells each preceded by a NUL.
_NEEDS_ESCAPE = re.compile("\x00[" + re.escape("".join(FORMULA_START) + "'") + "]")


def _escaped(batch: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    if not _NEEDS_ESCAPE.search("\x00" + "\x00".join(filter(None, itertools.chain.from_iterable(batch)))):
        return batch
    return [[csv_text(cell) if cell else cell for cell in row] for row in batch]


def _write_tables(
    tables: Iterable[tuple[str, Iterable[Sequence[Sequence[Any]]]]], target: Path, *, escaped: bool
) -> int:
    if target.suffix.lower() == ".zip":
        with atomic_file(target, binary=True) as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:

            def member(name: str) -> Any:
                return io.TextIOWrapper(archive.open(name, "w"), encoding="utf-8", newline="")

            return _write_csv_files(tables, member, escaped=escaped)
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"-o {target}: CSV export needs a directory (or a .zip file name)")
    target.mkdir(parents=True, exist_ok=True)
    return _write_csv_files(tables, lambda name: atomic_file(target / name), escaped=escaped)


def _write_csv_files(
    tables: Iterable[tuple[str, Iterable[Sequence[Sequence[Any]]]]], opener: Callable[[str], Any], *, escaped: bool
) -> int:
    """Each type's rows to its own file, opened at its first row (a type without records gets no file)."""
    count = 0
    for kind, batches in tables:
        with contextlib.ExitStack() as stack:
            writer: Any = None
            for batch in batches:
                if not batch:
                    continue
                if writer is None:
                    writer = csv.writer(stack.enter_context(opener(f"{SECTION_OF[kind]}.csv")), lineterminator="\n")
                    writer.writerow(CSV_COLUMNS[kind])
                writer.writerows(batch if escaped else _escaped(batch))
                count += len(batch)
    return count


# --- Markdown ------------------------------------------------------------------------------------


def _markdown_cell(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("value") or value.get("text")
    elif isinstance(value, list):
        value = ", ".join(value)
    text = "" if value is None else str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    for char in "<>*_`[]":
        text = text.replace(char, "\\" + char)
    return " ".join(text.splitlines())


def write_markdown(records: Iterable[ExportRecord], out: IO[str], *, title: str = "Ledger export") -> int:
    """A heading and a table per record type."""
    out.write(f"# {title}\n")
    current, count = None, 0
    for kind, fields in records:
        columns = [c for c in CSV_COLUMNS[kind] if not c.endswith("_text")]
        if kind != current:
            current = kind
            out.write(f"\n## {SECTION_OF[kind].capitalize()}\n\n| " + " | ".join(columns) + " |\n")
            out.write("|" + "---|" * len(columns) + "\n")
        out.write("| " + " | ".join(_markdown_cell(fields.get(c)) for c in columns) + " |\n")
        count += 1
    return count
