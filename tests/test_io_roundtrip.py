"""Property: any ledger exported as JSON, JSONL or CSV imports into an empty ledger as the same ledger."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Run

TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), st.sampled_from(list("\n=+-@'\",;|\\*_`<>"))
    ),
    min_size=1,
    max_size=25,
).filter(lambda s: s.strip() != "")
SLUGS = st.from_regex(r"\A[a-z][a-z0-9-]{0,12}\Z")
STATUS = st.sampled_from(["considered", "offered", "promised", "in_progress", "delivered", "declined"])
DATE = st.one_of(
    st.none(),
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}"),
    st.builds(lambda t: {"text": t}, TEXT),
    st.builds(lambda d, t: {"value": d.isoformat(), "text": t}, st.dates(), TEXT),
)


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A small valid import file: two or more parties, sources, concessions with citations, a link."""
    slugs = draw(st.lists(SLUGS, min_size=6, max_size=10, unique=True))
    parties, sources, concessions = slugs[:2], slugs[2:3], slugs[3:]
    records: list[dict[str, Any]] = [
        {"type": "source", "id": s, "title": draw(TEXT), "published": draw(DATE), "note": draw(st.none() | TEXT)}
        for s in sources
    ]
    records += [{"type": "party", "id": p, "name": draw(TEXT), "kind": "state"} for p in parties]
    for i, c in enumerate(concessions):
        giver, receiver = (parties[0], parties[1]) if i % 2 == 0 else (parties[1], parties[0])
        quantity = draw(st.none() | st.integers(min_value=0, max_value=2**53 - 1))
        records.append({
            "type": "concession", "id": c, "giver": giver, "receiver": receiver,
            "kind": draw(st.sampled_from(["aid", "trade_access", "mediation", "other"])), "summary": draw(TEXT),
            "status": draw(STATUS), "date": draw(DATE), "due": draw(DATE), "note": draw(st.none() | TEXT),
            "quantity": quantity, "unit": "person" if quantity is not None else None,
            "citations": [{"source": sources[0], "quote": draw(TEXT), "locator": draw(st.none() | TEXT)}],
        })  # fmt: skip
    if len(concessions) >= 2:
        records.append({"type": "exchange", "id": "x-deal", "title": draw(TEXT)})
        records.append({"type": "link", "exchange": "x-deal", "concessions": concessions[:2], "basis": "stated"})
    return [{k: v for k, v in r.items() if v is not None} for r in records]


def _export(run: Run, db: str, *args: str) -> str:
    result = run("export", *args, db=db)
    assert result.exit_code == 0, result.stderr
    return result.stdout


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=ledgers(), fmt=st.sampled_from(["json", "jsonl", "csv"]))
def test_export_then_import_gives_the_same_ledger(run: Run, records: list[dict[str, Any]], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        source = tmp / "in.jsonl"
        source.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        first, second = str(tmp / "first.db"), str(tmp / "second.db")
        for db in (first, second):
            assert run("init", db=db).exit_code == 0
        result = run("import", str(source), db=first)
        assert result.exit_code == 0, result.stderr
        out = tmp / ("export.zip" if fmt == "csv" else f"export.{fmt}")
        assert run("export", "--format", fmt, "-o", str(out), db=first).exit_code == 0
        result = run("import", str(out), db=second)
        assert result.exit_code == 0, result.stderr
        assert _export(run, first) == _export(run, second)
        again = run("import", str(out), db=second)
        assert "added 0 records" in again.stdout and "changed 0" in again.stdout
