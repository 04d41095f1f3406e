"""Hostile input: fuzzed `ledger add` and `ledger import`, size limits, and secrets kept out of messages.

Whatever comes in, the answer is exit 0 (accepted) or 3 (refused with a message), never a crash (70) or
a database error (4), and a refused command leaves the database exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.io import readers
from tests.conftest import Run

Fingerprint = Callable[[], str]
FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

hostile_text = st.one_of(
    st.text(max_size=50),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=30),
    st.sampled_from(["\x00", "a\x00b", "\x1b[31mred", "\u202eevil", "\ufeff", "e\u0301", "😀" * 3, " ", "\t\n"]),
    st.text(min_size=490, max_size=520),
    st.just("x" * 100_000),
    st.sampled_from(["'; DROP TABLE records; --", "%s %(x)s {0}", "NULL", "../../etc/passwd"]),
)
limit_numbers = st.one_of(
    st.sampled_from([0, -1, 2**53 - 1, 2**53, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**100]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)


def _outcome(result: Any) -> None:
    assert result.exit_code in (0, 3), (result.exit_code, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "INSERT INTO" not in result.stderr and "SELECT " not in result.stderr


@FUZZ
@given(summary=hostile_text, unit=hostile_text, quantity=limit_numbers, date_text=hostile_text)
def test_fuzzed_add_is_accepted_or_refused_cleanly(
    run: Run, small: Path, fingerprint: Fingerprint, summary: str, unit: str, quantity: Any, date_text: str
) -> None:
    before = fingerprint()
    args = ["add", "--giver", "by", "--receiver", "us", "--kind", "aid", "--summary", summary, "--status", "offered",
            "--quantity", str(quantity), "--unit", unit, "--date-text", date_text]  # fmt: skip
    result = run(*args)
    _outcome(result)
    if result.exit_code == 3:
        assert fingerprint() == before
    else:
        assert run("show", result.stdout.strip(), "--format", "json").exit_code == 0


json_scalars = st.one_of(st.none(), st.booleans(), limit_numbers, hostile_text)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip
concessions = st.fixed_dictionaries(
    {"id": st.one_of(st.just("fuzzed"), hostile_text), "giver": st.sampled_from(["by", "us", "nobody"]),
     "receiver": st.sampled_from(["us", "by"]), "kind": st.sampled_from(["aid", "bribe"]),
     "summary": hostile_text, "status": st.sampled_from(["offered", "done"])},
    optional={"quantity": limit_numbers, "unit": hostile_text, "date": json_values, "citations": json_values,
              "extra": json_values},
)  # fmt: skip


@FUZZ
@given(records=st.lists(concessions, min_size=1, max_size=4), junk=st.one_of(st.none(), json_values))
def test_fuzzed_import_is_all_or_nothing(
    run: Run, small: Path, fingerprint: Fingerprint, tmp_path_factory: pytest.TempPathFactory, records: list[Any],
    junk: Any,
) -> None:  # fmt: skip
    path = tmp_path_factory.mktemp("fuzz") / "in.json"
    document: Any = {"concessions": records} if junk is None else {"concessions": records, "junk": junk}
    path.write_text(json.dumps(document, allow_nan=True), encoding="utf-8")
    before = fingerprint()
    result = run("import", str(path))
    _outcome(result)
    if result.exit_code == 3:
        assert fingerprint() == before


@pytest.mark.parametrize(
    "content",
    ["[" * 100_000 + "]" * 100_000, '{"concessions": [' + '{"a":' * 5_000 + "1" + "}" * 5_000 + "]}",
     '{"concessions": [{"id": "x\\ud800"}]}', "\x00\x00\x00", "\ufeff{\"concessions\": [", '{"concessions": 1e999}'],
)  # fmt: skip
def test_pathological_files_are_refused_cleanly(run: Run, small: Path, fingerprint: Fingerprint, tmp_path: Path,
                                                content: str) -> None:  # fmt: skip
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    before = fingerprint()
    result = run("import", str(path))
    _outcome(result)
    assert result.exit_code == 3
    assert fingerprint() == before


def test_file_size_limit_is_enforced(run: Run, small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", 1024)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"concessions": [], "pad": "x" * 2000}))
    result = run("import", str(path))
    assert result.exit_code == 3 and "limit" in result.stderr


def test_field_length_limits_are_enforced(run: Run, small: Path) -> None:
    result = run("add", "--giver", "by", "--receiver", "us", "--kind", "aid", "--summary", "x" * 501,
                 "--status", "offered")  # fmt: skip
    assert result.exit_code == 3 and "--summary" in result.stderr and "500" in result.stderr
    nul = run("add", "--giver", "by", "--receiver", "us", "--kind", "aid", "--summary", "a\x00b", "--status", "offered")
    assert nul.exit_code == 3 and "U+0000" in nul.stderr


def test_a_wrong_password_never_shows_the_password(run: Run, backend: str, db_url: str) -> None:
    if backend == "sqlite":
        url = "postgresql+psycopg://ledger:hunter2-Secret@127.0.0.1:1/none"  # nothing listens on port 1
    else:
        url = db_url.replace(":s3cret-test-pw@", ":hunter2-Secret@")
    for args in (("list",), ("init",), ("add", "--giver", "by", "--receiver", "us", "--kind", "aid", "--summary", "s",
                                        "--status", "offered")):  # fmt: skip
        result = run(*args, db=url)
        assert result.exit_code == 4, result.stderr
        assert "hunter2" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr
        if backend == "postgresql":
            assert "password authentication failed" in result.stderr and "***" in result.stderr
