"""Reading CSV import files: one file per record type with a header row, or a .zip of such files.

The record type comes from the file name (``concessions.csv``, ``concession.csv``) or ``--type``. The
columns are those ``ledger export --format csv`` writes (see ledger.io.writers.CSV_COLUMNS): a fuzzy
date is two columns (``date`` and ``date_text``), a list of IDs is one cell joined with ``;``, an
empty cell is an absent value, and a leading apostrophe (formula-injection escaping) is removed.
Cells stay text except whole numbers in count columns, so strict validation still rejects ``1e3``.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ledger.errors import InvalidInput
from ledger.io.readers import JSONL_SECTIONS, Document, Location
from ledger.io.writers import CSV_COLUMNS, DATE_FIELDS, LIST_FIELDS, csv_unescape

#: Columns that hold a count, by record type (a claim's ``value`` is text).
COUNT_FIELDS = {"source": ("length",), "concession": ("quantity",), "total": ("value",)}
_DIGITS = re.compile(r"^[0-9]+$")
_SECTION_ORDER = tuple(JSONL_SECTIONS.values())


def record_type_of(name: str, given: str | None) -> str:
    """The record type of a CSV file: ``--type``, else its name (singular or plural)."""
    stem = Path(name).stem.lower()
    candidate = given or stem
    for kind, section in JSONL_SECTIONS.items():
        if candidate in (kind, section):
            return kind
    raise InvalidInput(
        f"{name}: cannot tell the record type from the file name; name it like concessions.csv or pass --type",
        hint=f"types: {', '.join(JSONL_SECTIONS)}",
    )


def read_csv(path: Path, record_type: str | None = None) -> Document:
    """Parse a CSV file (or every CSV file in a .zip) into the sections of a ledger file."""
    document = Document(str(path), {})
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = sorted(
                    (m for m in archive.namelist() if m.lower().endswith(".csv")),
                    key=lambda m: _SECTION_ORDER.index(JSONL_SECTIONS[record_type_of(m, None)]),
                )
                for member in members:
                    text = archive.read(member).decode("utf-8-sig")
                    _read_table(document, f"{path}!{member}", text, record_type_of(member, None))
        else:
            _read_table(
                document, str(path), path.read_text(encoding="utf-8-sig"), record_type_of(path.name, record_type)
            )
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(f"{path}: cannot read ({exc})") from None
    return document


def _read_table(document: Document, name: str, text: str, kind: str) -> None:
    section = JSONL_SECTIONS[kind]
    items: list[Any] = document.data.setdefault(section, [])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[str] = []
    try:
        header = next(reader, None)
        if header is None:
            return
        _check_header(name, header, kind)
        line = reader.line_num + 1
        for row in reader:
            if not any(cell.strip() for cell in row):
                line = reader.line_num + 1
                continue
            if len(row) != len(header):
                problems.append(f"{name}:{line}: {len(row)} cells, but the header has {len(header)} columns")
            else:
                location: Location = (section, len(items))
                document.lines[location] = line
                items.append(_record(dict(zip(header, row, strict=True)), COUNT_FIELDS.get(kind, ())))
            line = reader.line_num + 1
    except csv.Error as exc:
        problems.append(f"{name}:{reader.line_num}: not valid CSV ({exc})")
    if problems:
        raise InvalidInput(f"{name}: cannot read every line:", problems=problems)


def stream_csv(path: Path, record_type: str | None = None) -> Iterator[tuple[int, str | None, Any, int]]:
    """Rows of one CSV file one at a time: (line, type, record or the InvalidInput it raised, bytes read)."""
    name = str(path)
    kind = record_type_of(path.name, record_type)
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        position = [0]

        def counted() -> Iterator[str]:
            for text in handle:
                position[0] += len(text.encode("utf-8"))
                yield text

        reader = csv.reader(counted(), strict=True)
        try:
            header = next(reader, None)
            if header is None:
                return
            _check_header(name, header, kind)
            line = reader.line_num + 1
            for row in reader:
                if any(cell.strip() for cell in row):
                    if len(row) != len(header):
                        problem = InvalidInput(
                            f"{name}:{line}: {len(row)} cells, but the header has {len(header)} columns"
                        )
                        yield line, None, problem, position[0]
                    else:
                        record = _record(dict(zip(header, row, strict=True)), COUNT_FIELDS.get(kind, ()))
                        yield line, kind, record, position[0]
                line = reader.line_num + 1
        except csv.Error as exc:
            yield reader.line_num, None, InvalidInput(f"{name}:{reader.line_num}: not valid CSV ({exc})"), position[0]
        except UnicodeDecodeError as exc:
            yield reader.line_num, None, InvalidInput(f"{name}: not UTF-8 text (byte {exc.start})"), position[0]


def _check_header(name: str, header: list[str], kind: str) -> None:
    known = set(CSV_COLUMNS[kind])
    seen: set[str] = set()
    for column in header:
        if column in seen:
            raise InvalidInput(f"{name}:1: column {column!r} appears twice in the header")
        if column not in known:
            raise InvalidInput(
                f"{name}:1: unknown column {column!r} for {kind} records",
                hint=f"columns: {', '.join(CSV_COLUMNS[kind])}",
            )
        seen.add(column)


def _record(cells: dict[str, str], counts: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, raw in cells.items():
        value = csv_unescape(raw)
        if value == "":
            continue
        base = column.removesuffix("_text")
        if base in DATE_FIELDS:
            out.setdefault(base, {})["text" if column.endswith("_text") else "value"] = value
        elif column in LIST_FIELDS:
            out[column] = value.split(";")
        elif column in counts and _DIGITS.match(value):
            out[column] = int(value)
        else:
            out[column] = value
    return out


def in_load_order(documents: list[Document]) -> list[Document]:
    """CSV files given in any order, sorted so that records come before what cites or links them."""

    def rank(document: Document) -> int:
        sections = [s for s in _SECTION_ORDER if document.data.get(s)] if isinstance(document.data, dict) else []
        return _SECTION_ORDER.index(sections[0]) if sections else 0

    return sorted(documents, key=rank)
