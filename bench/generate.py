"""A synthetic, realistic ledger of N concessions, written in the JSONL import format.

Deterministic for a given (N, seed). Per N concessions: N/100 sources (a fifth relay another), N/200
parties (states, bodies, people acting for states, companies, organisations; a third with aliases),
concessions of every kind and status with fuzzy dates of every precision (day, month, year, words
only), about half of them paired into exchanges of 2-4 concessions with stated, inferred or denied
links, one or two citations on most records, N/1000 reported totals and N/500 claims.

Records come in dependency order (originals before relays, states before the people acting for them),
so a one-pass loader can resolve every reference from what it has already seen.

Dates are drawn as a real ledger has them by default (``realistic=True``): a citation from a source
published on or after the event, the concessions of an exchange dated in order, within a few months of
each other. ``realistic=False`` (``bench/run.py --independent-dates``) draws every date independently,
as the figures of docs/performance.md before the fifth session did, so about half of the concessions
contradict a date they are compared with: a source published before the event it reports, an answer
dated before what it answers.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

KINDS = (
    "prisoner_release", "sanctions_relief", "trade_access", "technical_service", "aid",
    "diplomatic_access", "mediation", "other",
)  # fmt: skip
STATUSES = (
    "considered", "offered", "requested", "promised", "in_progress", "delivered", "declined", "withdrawn", "reneged",
)  # fmt: skip
INSTRUMENTS = ("delisting", "general_licence", "specific_licence", "waiver", "suspension", "exemption")
RELEASE_FORMS = ("pardon", "release", "transfer", "exchange", "expulsion")
WORDS = ("early Saturday", "last month", "since November", "immediately after the inauguration", "this spring")
QUOTES = (
    "In return, the U.S. agreed to lift sanctions on a key ingredient in fertilizer.",
    "Belarus released the prisoners early Saturday.",
    "Officials said the move was a goodwill gesture.",
    "The envoy said talks would continue next month.",
)
UNITS = {"prisoner_release": "person", "aid": "USD", "trade_access": "aircraft", "technical_service": "aircraft"}


def counts(n: int) -> dict[str, int]:
    """How many records of each type a ledger of ``n`` concessions has."""
    return {
        "sources": max(10, n // 100),
        "parties": max(12, n // 200),
        "concessions": n,
        "totals": max(1, n // 1000),
        "claims": max(1, n // 500),
    }


class _Generator:
    def __init__(self, n: int, seed: int, realistic: bool = True) -> None:
        self.n, self.rng, self.sizes = n, random.Random(seed), counts(n)
        self.realistic = realistic
        self.published: list[tuple[dt.date, int]] = []  # realistic: (first day, source) of dated sources, sorted
        self.after: dt.date | None = None  # realistic: the day the next concession's date follows
        self.states: list[str] = []
        self.side: dict[str, str] = {}  # party -> the state it acts for (its side of an exchange)
        self.people_of: dict[str, list[str]] = {}

    def date(self, year_from: int = 2015, after: dt.date | None = None) -> Any:
        rng = self.rng
        if after is None:
            year, month, day = rng.randint(year_from, 2026), rng.randint(1, 12), rng.randint(1, 28)
        else:  # realistic: within four months after ``after``
            near = after + dt.timedelta(days=rng.randint(0, 120))
            year, month, day = near.year, near.month, min(near.day, 28)
        shape = rng.random()
        if shape < 0.45:
            return f"{year:04d}-{month:02d}-{day:02d}"
        if shape < 0.7:
            return {"text": rng.choice(WORDS), "value": f"{year:04d}-{month:02d}"}
        if shape < 0.85:
            return f"{year:04d}"
        if shape < 0.95:
            return {"text": rng.choice(WORDS)}
        return None

    def citations(self, p_none: float = 0.1, event: dt.date | None = None) -> list[dict[str, Any]]:
        rng = self.rng
        if rng.random() < p_none:
            return []
        picked = rng.sample(range(self.sizes["sources"]), 2 if rng.random() < 0.1 else 1)
        if self.realistic and event is not None:  # sources published on or after the event's last day
            later = self.published[bisect.bisect_left(self.published, (event, -1)) :]
            if len(later) >= len(picked):
                picked = [source for _day, source in rng.sample(later, len(picked))]
        return [{"source": f"src-{s:07d}", "quote": rng.choice(QUOTES)} for s in picked]

    def sources(self) -> Iterator[dict[str, Any]]:
        total = self.sizes["sources"]
        originals = total - total // 5
        for i in range(total):
            record: dict[str, Any] = {
                "type": "source", "id": f"src-{i:07d}", "title": f"Report {i} on talks between capitals",
                "publisher": self.rng.choice(("The Gaze", "Straight Arrow News", "Wire Service", "Daily Record")),
                "url": f"https://news.example.org/{i}", "published": self.date(),
            }  # fmt: skip
            first = _first_day(record["published"])
            if self.realistic and first is not None:
                bisect.insort(self.published, (first, i))
            if i >= originals:
                record["relays"] = f"src-{self.rng.randrange(originals):07d}"
            yield _clean(record)

    def parties(self) -> Iterator[dict[str, Any]]:
        total = self.sizes["parties"]
        n_states = max(4, total // 3)
        for i in range(total):
            slug = f"st-{i:05d}" if i < n_states else f"pa-{i:05d}"
            record: dict[str, Any] = {"type": "party", "id": slug, "name": f"Party {i}"}
            if i < n_states:
                record["kind"] = "state" if i % 4 else "government_body"
                self.states.append(slug)
                self.side[slug] = slug
            else:
                state = self.rng.choice(self.states)
                record["kind"] = self.rng.choice(("person", "company", "organisation"))
                record["acts_for"] = state
                self.side[slug] = state
                self.people_of.setdefault(state, []).append(slug)
            if i % 3 == 0:
                record["aliases"] = [
                    {"id": f"alias-{slug}-{j}", "name": f"Party {i} spelled {j}", "source": f"src-{j:07d}",
                     "script": "Latin transliteration"}
                    for j in range(1 + i % 2)
                ]  # fmt: skip
            yield record

    def giver_for(self, state: str) -> str:
        people = self.people_of.get(state)
        return self.rng.choice(people) if people and self.rng.random() < 0.2 else state

    def concession(self, i: int, giver_state: str, receiver_state: str) -> dict[str, Any]:
        rng = self.rng
        kind = KINDS[i % len(KINDS)]
        record: dict[str, Any] = {
            "type": "concession", "id": f"c-{i:08d}", "giver": self.giver_for(giver_state),
            "receiver": receiver_state, "kind": kind, "summary": f"{kind.replace('_', ' ')} number {i}",
            "status": STATUSES[(i // len(KINDS)) % len(STATUSES)], "date": self.date(after=self.after),
        }  # fmt: skip
        announced = None
        if not self.realistic:  # (the draws in their original order: the independent ledger of the earlier figures)
            record["citations"] = self.citations()
        else:
            self.after = _first_day(record["date"]) or self.after  # the exchange's next concession follows this one
            announced = self.date(after=self.after) if kind == "sanctions_relief" else None
            record["citations"] = self.citations(event=_last_day(announced) or _last_day(record["date"]))
        if kind in UNITS and rng.random() < 0.8:
            record["quantity"], record["unit"] = rng.randint(1, 500), UNITS[kind]
        if kind == "other":
            record["kind_detail"] = "visa waiver"
        if kind == "sanctions_relief":
            record.update(
                instrument=rng.choice(INSTRUMENTS),
                announced=announced if self.realistic else self.date(),
                effective=self.date(),
            )
            record.update(authority="OFAC", programme="BELARUS-EO14038")
            if rng.random() < 0.3:
                record["expires"] = self.date(2024)
        if kind == "prisoner_release":
            record["release_form"] = rng.choice(RELEASE_FORMS)
        if record["status"] in ("offered", "promised", "in_progress") and rng.random() < 0.5:
            record["due"] = self.date(2024)
        return _clean(record)

    def concessions_and_exchanges(self) -> Iterator[dict[str, Any]]:
        rng, n, i = self.rng, self.n, 0
        exchanges: list[dict[str, Any]] = []
        while i < n:
            a, b = rng.sample(self.states, 2)
            size = rng.choice((2, 3, 4)) if rng.random() < 0.5 and i + 4 <= n else 1
            members = []
            self.after = dt.date(rng.randint(2015, 2025), rng.randint(1, 12), 1) if self.realistic else None
            for j in range(size):
                giver, receiver = (a, b) if j % 2 == 0 else (b, a)
                members.append(self.concession(i, giver, receiver))
                i += 1
            yield from members
            if size > 1:
                exchanges.append(self.exchange(len(exchanges), [m["id"] for m in members]))
        yield from exchanges

    def exchange(self, k: int, members: list[str]) -> dict[str, Any]:
        roll = self.rng.random()
        link: dict[str, Any] = {"concessions": members}
        if roll < 0.7:
            link.update(basis="stated", citations=self.citations(p_none=0.0))
        elif roll < 0.95:
            link.update(basis="inferred", reason="announced together by both governments")
        else:
            link.update(basis="denied", citations=self.citations(p_none=0.0))
        return {"type": "exchange", "id": f"x-{k:08d}", "title": f"Exchange {k}", "links": [link]}

    def totals(self) -> Iterator[dict[str, Any]]:
        for k in range(self.sizes["totals"]):
            yield {
                "type": "total", "id": f"t-{k:06d}", "source": f"src-{k % self.sizes['sources']:07d}",
                "giver": self.states[k % len(self.states)], "kind": "prisoner_release", "unit": "person",
                "value": self.rng.randint(10, 5000), "period_start": "2024-11",
                "statement": "This brings the total up to the figure since November.",
                "citations": [{"source": f"src-{k % self.sizes['sources']:07d}", "quote": "This brings the total"}],
            }  # fmt: skip

    def claims(self) -> Iterator[dict[str, Any]]:
        for k in range(self.sizes["claims"]):
            party = k % self.sizes["parties"]
            slug = self.states[party] if party < len(self.states) else f"pa-{party:05d}"
            yield {
                "type": "claim", "id": f"claim-{k:07d}", "record": slug, "attribute": "name",
                "value": f"Party {party} as source {k} spells it", "source": f"src-{k % self.sizes['sources']:07d}",
                "quote": "as the envoy put it",
            }  # fmt: skip

    def records(self) -> Iterator[dict[str, Any]]:
        yield from self.sources()
        yield from self.parties()
        yield from self.concessions_and_exchanges()
        yield from self.totals()
        yield from self.claims()


def _clean(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None and v != []}


def _first_day(date: Any) -> dt.date | None:
    """The first day a generated date may stand for (None when it gives no year, or there is no date)."""
    value = date.get("value") if isinstance(date, dict) else date
    if not value:
        return None
    year, month, day = (int(part) for part in (value.split("-") + ["1", "1"])[:3])
    return dt.date(year, month, day)


def _last_day(date: Any) -> dt.date | None:
    """The last day a generated date may stand for (None when it gives no year, or there is no date)."""
    value = date.get("value") if isinstance(date, dict) else date
    if not value:
        return None
    parts = value.split("-")
    if len(parts) == 3:
        return dt.date(*map(int, parts))
    if len(parts) == 2:
        year, month = int(parts[0]), int(parts[1])
        return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date(int(parts[0]), 12, 31)


def records(n: int, seed: int = 8, realistic: bool = True) -> Iterator[dict[str, Any]]:
    """The records of a synthetic ledger of ``n`` concessions, in dependency order (``realistic``: dates in
    the order events and reports have them; see the module's docstring)."""
    return _Generator(n, seed, realistic).records()


def write_jsonl(path: Path, n: int, seed: int = 8, realistic: bool = True) -> dict[str, int]:
    """Write the synthetic ledger as JSONL; returns how many lines of each ``type`` it wrote."""
    written: dict[str, int] = {}
    with path.open("w", encoding="utf-8") as out:
        for record in records(n, seed, realistic):
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
            written[record["type"]] = written.get(record["type"], 0) + 1
    return written
