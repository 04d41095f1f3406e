"""What `ledger list` lists and the columns each listing shows (no Typer here: ledger.cli.quick uses it)."""

from __future__ import annotations

from enum import StrEnum


class What(StrEnum):
    """What `ledger list` lists."""

    CONCESSIONS = "concessions"
    EXCHANGES = "exchanges"
    PARTIES = "parties"
    SOURCES = "sources"
    ALIASES = "aliases"
    TOTALS = "totals"
    CLAIMS = "claims"


COLUMNS = {
    What.CONCESSIONS: [
        "id",
        "giver",
        "receiver",
        "kind",
        "summary",
        "quantity",
        "unit",
        "status",
        "date",
        "exchanges",
        "citations",
    ],
    What.EXCHANGES: ["id", "title", "sides", "links"],
    What.PARTIES: ["id", "name", "kind", "acts_for", "aliases"],
    What.SOURCES: ["id", "title", "publisher", "published", "relays", "snapshot", "citations"],
    What.ALIASES: ["id", "party", "name", "source", "script"],
    What.TOTALS: ["id", "source", "giver", "kind", "value", "unit", "since", "until"],
    What.CLAIMS: ["id", "record", "attribute", "value", "source", "rank", "in_use"],
}
