"""Property: any sequence of add/link/unlink/amend/retract/status operations replays to the same state."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select

from ledger.db import make_engine, resolve_url, session_scope, upgrade
from ledger.domain import LinkBasis, Status
from ledger.errors import InvalidInput
from ledger.models import JournalEntry
from ledger.ops import rebuild
from ledger.ops.add import add, plan_concession, plan_party, plan_source
from ledger.ops.base import write
from ledger.ops.correct import plan_amend, plan_retract, plan_status
from ledger.ops.link import plan_link, plan_unlink
from ledger.ops.verify import verify
from ledger.schemas import CitationIn, ConcessionIn, DateIn, LinkIn, PartyIn, SourceIn

GIVERS = [("by", "us"), ("us", "by"), ("lukashenko", "us")]
AMENDMENTS: dict[str, st.SearchStrategy[Any]] = {
    "quantity": st.none() | st.integers(0, 10**6),
    "unit": st.sampled_from(["person", "aircraft", None]),
    "summary": st.text(alphabet="abc xyz", min_size=1, max_size=12).filter(str.strip),
    "date": st.sampled_from(["2025", "2025-12", "2025-12-13", "last month", None]),
    "note": st.none() | st.text(max_size=10).filter(str.strip),
    "beneficiaries": st.sampled_from([[], ["lukashenko"], ["lukashenko", "coale"]]),
}
index = st.integers(0, 7)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("concession"), st.integers(0, 2), st.none() | st.integers(0, 500), st.sampled_from(Status)),
        st.tuples(
            st.just("amend"),
            index,
            st.sampled_from(sorted(AMENDMENTS)).flatmap(lambda name: st.tuples(st.just(name), AMENDMENTS[name])),
            st.booleans(),
        ),  # fmt: skip
        st.tuples(st.just("status"), index, st.sampled_from(Status), st.booleans()),
        st.tuples(st.just("link"), index, index, st.sampled_from(LinkBasis)),
        st.tuples(st.just("unlink"), index, index),
        st.tuples(st.just("retract"), index),
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated ledger with three parties (one acting for a state), a person and a source."""
    path = tmp_path_factory.mktemp("template") / "ledger.db"
    url = resolve_url(str(path))
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(engine, write=True, url=url) as session:
            session.info["author"] = "property"
            for party in (
                PartyIn(id="by", name="Belarus", kind="state"),
                PartyIn(id="us", name="United States", kind="state"),
                PartyIn(id="lukashenko", name="Alexander Lukashenko", kind="person", acts_for="by"),
                PartyIn(id="coale", name="John Coale", kind="person", acts_for="us"),
            ):
                write(session, plan_party(session, party))
            write(session, plan_source(session, SourceIn(id="san", title="Straight Arrow News")))
    finally:
        engine.dispose()
    return path


def _apply(session: Any, operation: tuple[Any, ...], slugs: list[str]) -> int:
    """Apply one operation; the number of journal entries it wrote."""
    count = select(func.count()).select_from(JournalEntry)
    before = session.execute(count).scalar_one()
    _operation(session, operation, slugs)
    return int(session.execute(count).scalar_one() - before)


def _operation(session: Any, operation: tuple[Any, ...], slugs: list[str]) -> None:
    kind, *args = operation
    pick = (lambda i: slugs[i % len(slugs)]) if slugs else None
    if kind == "concession":
        giver, receiver = GIVERS[args[0]]
        unit = "person" if args[1] is not None else None
        data = ConcessionIn(giver=giver, receiver=receiver, kind="other", summary=f"gift {len(slugs)}",
                            quantity=args[1], unit=unit, status=args[2])  # fmt: skip
        slugs.append(add(session, plan_concession(session, data)))
    elif pick is None:
        return
    elif kind == "amend":
        name, value = args[1]
        cite = [CitationIn(source="san", quote=f"{name} changed")] if args[2] else []
        write(session, plan_amend(session, pick(args[0]), {name: value}, reason="property", citations=cite))
    elif kind == "status":
        date = DateIn(value="2025-12") if args[2] else None
        write(session, plan_status(session, pick(args[0]), args[1], date, "san" if args[2] else None, None))
    elif kind == "link":
        planned = plan_link(session, LinkIn(concessions=[pick(args[0]), pick(args[1])], basis=args[2], reason="r"))
        if planned is not None:
            write(session, planned)
    elif kind == "unlink":
        write(session, plan_unlink(session, [pick(args[0]), pick(args[1])], "property"))
    elif kind == "retract":
        for planned in plan_retract(session, pick(args[0]), "property"):
            write(session, planned)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations)
def test_any_sequence_of_operations_replays_to_the_same_tables(template: Path, ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.db"
        shutil.copyfile(template, path)
        url = resolve_url(str(path))
        engine = make_engine(url)
        try:
            slugs: list[str] = []
            written = 0
            for operation in ops:
                try:
                    with session_scope(engine, write=True, url=url) as session:
                        session.info["author"] = "property"
                        written += _apply(session, operation, slugs)
                except (InvalidInput, ValidationError):
                    pass  # a refused operation writes nothing; the sequence goes on
            with session_scope(engine, write=False, url=url) as session:
                differences = rebuild.check(session)
                entries = session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()
                digests = verify(session)  # every entry named every record it changed (ledger/ops/state.py)
        finally:
            engine.dispose()
    assert differences == []
    assert entries == 5 + written
    assert digests.ok and digests.rows_checked, digests.problems
