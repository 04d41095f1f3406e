"""The human report of a ledger: one self-contained HTML page with SVG pictures, or Markdown.

Input is plain data (``ledger.ops.views.report_data`` plus the audit findings as dicts), so this
package knows neither the database nor the audit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledger.errors import InvalidInput
from ledger.io.atomic import write_atomic as write_atomic  # the one atomic writer, re-exported for cli.report
from ledger.io.report.html import render_html
from ledger.io.report.markdown import render_markdown

FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}


def format_of(path: Path, given: str | None) -> str:
    """``html`` or ``markdown``, from ``--format`` or else the file's extension."""
    fmt = given or FORMATS.get(path.suffix.lower())
    if fmt not in ("html", "markdown"):
        raise InvalidInput(
            f"-o {path}: cannot tell the report format from {path.suffix or 'no extension'!r}",
            hint="name the file .html or .md, or give --format html|markdown",
        )
    return fmt


def render(data: dict[str, Any], findings: list[dict[str, Any]], fmt: str, *, title: str) -> str:
    """The report text in ``fmt``."""
    if fmt == "html":
        return render_html(data, findings, title=title)
    return render_markdown(data, findings, title=title)
