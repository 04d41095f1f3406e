"""The streaming import's statements: driver-level executemany and padded IN lists (ledger/ops/bulk_sql.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import Session

from ledger.db import make_engine, resolve_url, session_scope
from ledger.domain import Precision, RecordType
from ledger.models import Base, Concession, Party, Record, StatusChange
from ledger.ops.bulk_sql import in_list, insert_rows
from tests.conftest import Run


@given(st.lists(st.integers(min_value=0, max_value=50_000), max_size=3_000))
def test_in_list_keeps_the_values_and_pads_by_at_most_an_eighth(values: list[int]) -> None:
    padded = in_list(values)
    distinct = len(set(values))
    assert set(padded) == set(values)
    assert padded[:distinct] == list(dict.fromkeys(values))
    assert len(padded) - distinct <= max(15, distinct // 8)
    assert len(padded) % 16 == 0


def test_in_list_uses_few_lengths() -> None:
    """A few statement texts serve every batch size (the driver caches 128 prepared statements)."""
    lengths = {len(in_list(range(n))) for n in range(1, 10_001)}
    assert len(lengths) < 60
    assert len({len(in_list(range(n))) for n in range(4_000, 6_000)}) <= 5


def _table(model: type[Base]) -> Any:
    return model.__table__


def _rows(session: Session, model: type[Base]) -> list[tuple[Any, ...]]:
    table = _table(model)
    return [tuple(row) for row in session.connection().execute(select(table).order_by(*table.primary_key))]


def test_insert_rows_stores_what_session_execute_stores(run: Run, db_url: str) -> None:
    """Enums, dates, booleans and NULLs go through each column type's bind processor, as in Core."""
    assert run("init").exit_code == 0
    records = [
        {"id": 1, "type": RecordType.PARTY, "slug": "a", "retracted": False, "created_seq": None},
        {"id": 2, "type": RecordType.PARTY, "slug": "b", "retracted": True, "created_seq": 7},
        {"id": 3, "type": RecordType.CONCESSION, "slug": "c", "retracted": False, "created_seq": 8},
    ]
    parties = [{"id": key, "name": name, "kind": "state", "acts_for_id": None, "note": None}
               for key, name in ((1, "A"), (2, "B"))]  # fmt: skip
    dates: dict[str, Any] = {}
    for name in ("date", "due", "announced", "effective", "expires"):
        dates.update({f"{name}_text": None, f"{name}_on": None, f"{name}_precision": Precision.UNKNOWN})
    dates.update(date_text="early Saturday", date_on=dt.date(2025, 12, 1), date_precision=Precision.MONTH)
    concession = {"id": 3, "giver_id": 1, "receiver_id": 2, "kind": "aid", "status": "promised", "summary": "s",
                  "renews_id": None, **dates}  # fmt: skip
    status = {"id": 1, "concession_id": 3, "status": "promised", "source_id": None, "journal_seq": 8, "date_text": None,
              "date_on": dt.date(2025, 12, 1), "date_precision": Precision.MONTH}  # fmt: skip
    engine = make_engine(resolve_url(db_url))
    stored = {}
    try:
        for way in ("core", "driver"):
            with session_scope(engine, write=True, dry_run=True) as session:
                for model, rows in ((Record, records), (Party, parties), (Concession, [concession]),
                                    (StatusChange, [status])):  # fmt: skip
                    if way == "core":
                        session.execute(insert(_table(model)), rows)
                    else:
                        insert_rows(session, _table(model), rows)
                stored[way] = {m.__name__: _rows(session, m) for m in (Record, Party, Concession, StatusChange)}
    finally:
        engine.dispose()
    assert stored["driver"] == stored["core"]
    assert stored["core"]["Concession"]


def test_insert_rows_refuses_rows_missing_a_column_with_a_python_default() -> None:
    """``records.retracted`` has a Python-side default that only SQLAlchemy's own executemany would fill in."""
    engine = create_engine("sqlite://")
    try:
        with Session(engine) as session, pytest.raises(LookupError, match="retracted"):
            insert_rows(session, _table(Record), [{"id": 1, "type": RecordType.PARTY, "slug": "a", "created_seq": 1}])
    finally:
        engine.dispose()


def test_batch_record_digests_equal_the_streamed_digests(run: Run, db_url: str, seeded: Any) -> None:
    """``state.record_digests`` (the streamed import's) gives every record the digest ``state.digests`` gives."""
    from ledger.ops import state

    engine = make_engine(resolve_url(db_url))
    try:
        with session_scope(engine, write=False) as session:
            types = dict(session.execute(select(Record.id, Record.type)).all())
            expected = dict(state.digests(session, [("r", key) for key in types]))
            assert state.record_digests(session, types) == expected
            assert len(expected) == len(types) > 50
    finally:
        engine.dispose()
