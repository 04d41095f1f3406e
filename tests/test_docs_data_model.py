"""docs/data-model.md: every table, column and view is described, and every example query runs."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOC = ROOT / "docs" / "data-model.md"
PARAMS = {"id": "by-releases-123-prisoners"}

pytestmark = pytest.mark.sqlite_only


def _queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_doc_has_the_three_asked_for_examples() -> None:
    text = DOC.read_text(encoding="utf-8")
    for title in ("Every prisoner release", "Everything each side gave", "Promises not (yet) delivered"):
        assert title in text
    assert len(_queries()) >= 3


def test_every_example_query_runs_on_the_seeds_with_plain_sqlite3(seeded_copy: Path) -> None:
    connection = sqlite3.connect(f"file:{seeded_copy}?mode=ro", uri=True)  # no ledger code
    try:
        for query in _queries():
            rows = connection.execute(query, {k: v for k, v in PARAMS.items() if f":{k}" in query}).fetchall()
            assert rows, f"no rows from:\n{query}"
    finally:
        connection.close()


def test_the_examples_answer_their_questions(seeded_copy: Path) -> None:
    connection = sqlite3.connect(f"file:{seeded_copy}?mode=ro", uri=True)
    releases, sides, promises = (connection.execute(q).fetchall() for q in _queries()[:3])
    connection.close()
    assert "by-releases-123-prisoners" in {r[0] for r in releases}
    assert all(r[5] for r in releases if r[0] == "by-releases-123-prisoners")  # its counterparts
    assert {r[1] for r in sides} >= {"Belarus", "United States"}
    assert {r[4] for r in promises} <= {"offered", "promised", "in_progress"} and promises


def test_every_table_column_and_view_is_documented(seeded_copy: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    connection = sqlite3.connect(f"file:{seeded_copy}?mode=ro", uri=True)
    objects = connection.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    missing = []
    for (name,) in objects:
        if f"`{name}`" not in text:
            missing.append(name)
        for column in connection.execute(f"PRAGMA table_info({name})").fetchall():
            documented = f"`{column[1]}`" in text or re.search(rf"`{column[1].rsplit('_', 1)[0]}_\*`", text)
            prefix = column[1].rsplit("_", 1)[0]
            if not documented and f"`{prefix}`" not in text:
                missing.append(f"{name}.{column[1]}")
    connection.close()
    assert missing == []


def test_views_read_with_plain_sqlite3(seeded_copy: Path) -> None:
    connection = sqlite3.connect(f"file:{seeded_copy}?mode=ro", uri=True)
    for view in ("v_concessions", "v_exchanges", "v_sides", "v_links", "v_citations"):
        count = connection.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
        assert count > 0, view
    connection.close()
