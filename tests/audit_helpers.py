"""Helpers for the audit tests: small ledgers written as import files, findings read back as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ledger.db import make_engine, resolve_url, session_scope

SOURCES = [
    {"id": "san", "title": "Belarus frees 123 prisoners", "publisher": "Straight Arrow News"},
    {"id": "ind", "title": "An independent report", "publisher": "Independent Outlet"},
    {"id": "wsj", "title": "WSJ report", "publisher": "The Wall Street Journal"},
    {"id": "gaze", "title": "The Gaze article", "publisher": "The Gaze", "relays": "wsj"},
    {"id": "echo", "title": "An echo of The Gaze", "publisher": "Echo", "relays": "gaze"},
]
PARTIES = [
    {"id": "by", "name": "Belarus", "kind": "state"},
    {"id": "us", "name": "United States", "kind": "state"},
    {"id": "lukashenko", "name": "Alexander Lukashenko", "kind": "person", "acts_for": "by"},
]


def cite(source: str = "san", quote: str = "as reported") -> list[dict[str, Any]]:
    """One citation."""
    return [{"source": source, "quote": quote}]


def concession(slug: str, giver: str = "by", receiver: str = "us", **fields: Any) -> dict[str, Any]:
    """A concession with sensible defaults: a delivered prisoner release cited by ``san``."""
    base: dict[str, Any] = {"id": slug, "giver": giver, "receiver": receiver, "kind": "prisoner_release",
                            "summary": f"concession {slug}", "status": "delivered", "citations": cite()}  # fmt: skip
    return {**base, **fields}


def exchange(slug: str, *links: tuple[str, str], basis: str = "stated", source: str = "san") -> dict[str, Any]:
    """An exchange of stated links between pairs of concessions."""
    made = [{"concessions": list(pair), "basis": basis, "citations": cite(source)} for pair in links]
    return {"id": slug, "title": f"exchange {slug}", "links": made}


def load(run: Any, path: Path, **sections: Any) -> None:
    """Import a ledger made of the default sources and parties plus ``sections``."""
    document: dict[str, Any] = {"ledger": 1, "sources": list(SOURCES), "parties": list(PARTIES)}
    for key, items in sections.items():
        document[key] = document.get(key, []) + items
    file = path.parent / "case.json"
    file.write_text(json.dumps(document), encoding="utf-8")
    result = run("import", str(file))
    assert result.exit_code == 0, result.stderr


def findings(run: Any, check: str, *args: str) -> list[dict[str, Any]]:
    """The findings of one check, as JSON rows."""
    result = run("audit", "--check", check, "--format", "json", "--fail-on", "never", *args)
    assert result.exit_code == 0, result.stderr
    rows: list[dict[str, Any]] = result.json()
    assert all(r["check"] == check for r in rows)
    return rows


def by_record(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Findings keyed by record ID (one finding per record expected)."""
    keyed = {r["record"]: r for r in rows}
    assert len(keyed) == len(rows), rows
    return keyed


@contextmanager
def session_on(path: Path) -> Iterator[Session]:
    """A writing session on the ledger, for states the CLI cannot make yet (status histories, relay cycles)."""
    url = resolve_url(str(path))
    engine = make_engine(url)
    try:
        with session_scope(engine, write=True) as session:
            yield session
    finally:
        engine.dispose()
