"""Rendering rows and records as a table, JSON, JSON Lines, CSV or Markdown.

A rich table on a terminal, plain aligned text when piped. CSV cells that a spreadsheet would run as
a formula are escaped; Markdown escapes pipes and line breaks, so user text always stays text.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from typing import Any


class OutputFormat(StrEnum):
    """Output formats every listing accepts."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    MARKDOWN = "markdown"


def cell(value: Any) -> str:
    """A value as one line of text: fuzzy dates by their description, lists joined."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        if "shown" in value:
            return str(value["shown"])
        return "; ".join(f"{k}: {cell(v)}" for k, v in value.items())
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            names = (str(v.get("source") or v.get("id") or cell(v)) for v in value)
            return "; ".join(dict.fromkeys(names))
        return ", ".join(cell(v) for v in value)
    return str(value)


def csv_cell(value: Any) -> str:
    """A cell safe to open in a spreadsheet: formula-looking text gets a leading apostrophe (see io.cells)."""
    from ledger.io.cells import csv_text

    return csv_text(cell(value))


def markdown_cell(value: Any) -> str:
    """A cell safe inside a Markdown table."""
    text = cell(value).replace("\\", "\\\\").replace("|", "\\|")
    for char in "<>*_`[]":
        text = text.replace(char, "\\" + char)
    return " ".join(text.splitlines())


def to_json(value: Any) -> str:
    """Pretty, stable JSON."""
    import json

    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def render_rows(rows: list[dict[str, Any]], columns: list[str], fmt: OutputFormat, *, title: str = "") -> str:
    """Rows as text in ``fmt``; table, CSV and Markdown show ``columns``, JSON shows everything."""
    if fmt is OutputFormat.JSON:
        return to_json(rows)
    if fmt is OutputFormat.JSONL:
        import json

        return "\n".join(json.dumps(r, ensure_ascii=False, default=str) for r in rows)
    if fmt is OutputFormat.CSV:
        import csv
        import io

        from ledger.io.cells import csv_text

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([csv_text(cell(r.get(c))) for c in columns] for r in rows)
        return buffer.getvalue().rstrip("\n")
    if fmt is OutputFormat.MARKDOWN:
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(markdown_cell(r.get(c)) for c in columns) + " |" for r in rows]
        return "\n".join(lines)
    return _table(rows, columns, title)


def _is_terminal() -> bool:
    return sys.stdout.isatty()


def _table(rows: list[dict[str, Any]], columns: list[str], title: str) -> str:
    if not _is_terminal():
        return _plain_table(rows, columns)
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_styled(c, cell(row.get(c))) for c in columns))
    console = Console(no_color="NO_COLOR" in os.environ, highlight=False)
    with console.capture() as capture:
        console.print(table)
    return capture.get().rstrip("\n")


#: Colours of statuses and severities on a terminal (never when piped, never with NO_COLOR).
STYLES = {
    "delivered": "green", "in_progress": "cyan", "promised": "yellow", "offered": "yellow", "requested": "yellow",
    "considered": "dim", "declined": "red", "withdrawn": "red", "reneged": "bold red",
    "error": "bold red", "warning": "yellow", "info": "blue",
}  # fmt: skip


def _styled(column: str, text: str) -> Any:
    from rich.text import Text

    style = STYLES.get(text, "") if column in ("status", "severity") else ""
    return Text(text, style=style)


def _plain_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    cells = [[cell(r.get(c)).replace("\n", " ") for c in columns] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def render_record(record: dict[str, Any], fmt: OutputFormat) -> str:
    """One record: fields, then each list (citations, claims, links...) as its own small table."""
    if fmt is OutputFormat.JSON:
        return to_json(record)
    if fmt is OutputFormat.JSONL:
        import json

        return json.dumps(record, ensure_ascii=False, default=str)
    scalars = {k: v for k, v in record.items() if not isinstance(v, list)}
    field_rows = [{"field": k, "value": v} for k, v in scalars.items() if v not in (None, "", {}) or k == "id"]
    parts = [render_rows(field_rows, ["field", "value"], fmt)]
    for key, value in record.items():
        if isinstance(value, list) and value:
            if isinstance(value[0], dict):
                columns = list(value[0].keys())
                heading = f"\n{key}:" if fmt is not OutputFormat.MARKDOWN else f"\n### {key}"
                parts.append(heading + "\n" + render_rows(value, columns, fmt))
            else:
                parts.append(f"\n{key}: {cell(value)}")
    return "\n".join(parts)
