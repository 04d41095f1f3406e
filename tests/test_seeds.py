"""The reference case: valid, complete, and every quote verbatim in its article."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ledger.io.readers import read
from ledger.schemas import LedgerFile
from tests.conftest import SEEDS

ARTICLES = {
    "san-belarus-frees-123": "straight-arrow-news-belarus-frees-123.txt",
    "gaze-belarus-example": "the-gaze-via-wsj-belarus-example-for-putin.txt",
}


def _seeds() -> LedgerFile:
    return LedgerFile.model_validate(read(SEEDS).data)


def _quotes(value: Any) -> list[tuple[str, str]]:
    """Every (source, quote) pair anywhere in the file: citations, claims and total statements."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        if isinstance(value.get("source"), str) and isinstance(value.get("quote"), str):
            found.append((value["source"], value["quote"]))
        for item in value.values():
            found += _quotes(item)
    elif isinstance(value, list):
        for item in value:
            found += _quotes(item)
    return found


def test_seeds_hold_the_case() -> None:
    seeds = _seeds()
    concessions = {c.id: c for c in seeds.concessions}
    release = concessions["by-releases-123-prisoners"]
    assert (release.quantity, release.status, set(release.beneficiaries)) == (
        123,
        "delivered",
        {"bialiatski", "kolesnikova"},
    )
    assert concessions["by-promises-release-14-more"].status == "promised"
    assert "tikhanovsky" in concessions["by-promises-release-14-more"].beneficiaries
    assert concessions["us-considers-zepbound-for-lukashenko"].status == "considered"
    assert all(c.citations for c in seeds.concessions), "every concession is cited"
    sources = {s.id: s for s in seeds.sources}
    assert sources["gaze-belarus-example"].relays == "wsj-economic-support"
    aliases = {(p.id, a.name) for p in seeds.parties for a in p.aliases} | {(a.party, a.name) for a in seeds.aliases}
    assert {("coale", "John Cole"), ("bialiatski", "Ales Beliatski")} <= aliases
    assert [(t.value, t.unit) for t in seeds.totals] == [(156, "person")]


def test_no_date_is_invented() -> None:
    for concession in _seeds().concessions:
        if concession.date is not None:
            assert concession.date.value is None, f"{concession.id}: the sources give no calendar date"


def test_every_quote_is_verbatim_in_its_article(shared_sources: Path) -> None:
    data = read(SEEDS).data
    texts = {sid: (shared_sources / name).read_text(encoding="utf-8") for sid, name in ARTICLES.items()}
    quotes = _quotes(data)
    assert len(quotes) > 50
    missing = [(s, q) for s, q in quotes if s in texts and q not in texts[s]]
    assert missing == []
    assert {s for s, _ in quotes} <= set(texts) | {"wsj-economic-support"}


def test_source_hashes_match_the_articles(shared_sources: Path) -> None:
    for source in _seeds().sources:
        if source.id in ARTICLES:
            raw = (shared_sources / ARTICLES[source.id]).read_bytes()
            assert source.sha256 == hashlib.sha256(raw).hexdigest()
            assert source.length == len(raw)
