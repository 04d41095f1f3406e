"""CSV cells safe to open in a spreadsheet (a module of its own: `ledger list -f csv` imports only this)."""

from __future__ import annotations

#: A cell starting with one of these is a formula to a spreadsheet.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """Text safe to open in a spreadsheet: a leading apostrophe before anything a formula could start with.

    Text that already starts with an apostrophe gets one more, so :func:`csv_unescape` restores it exactly.
    """
    return "'" + text if text.startswith(FORMULA_START) or text.startswith("'") else text


def csv_unescape(text: str) -> str:
    """Undo :func:`csv_text`."""
    return text[1:] if text.startswith("'") else text
