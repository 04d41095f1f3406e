"""The human report of a ledger: one self-contained HTML page with SVG pictures, or Markdown.

Input is plain data (``ledger.ops.views.report_data`` plus the audit findings as dicts), so this
package knows neither the database nor the audit.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from ledger.errors import InvalidInput
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


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and ``os.replace``:
    readers see the old file or the new one, never half of one."""
    folder = path.resolve().parent
    if not folder.is_dir():
        raise InvalidInput(f"-o {path}: the folder {folder} does not exist")
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
