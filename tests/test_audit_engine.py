"""The audit engine: name matching, relay origins, the registry, plug-ins, the CLI, exports and the seeds."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger.audit import registry
from ledger.audit.names import Name, blocking_keys, candidate_pairs, likely_same, tokens
from ledger.audit.report import md
from ledger.audit.sourcing import origins
from tests.audit_helpers import cite, concession, load, session_on
from tests.conftest import ROOT, Run

GOLDEN = ROOT / "tests" / "golden"
AS_OF = "2026-01-01"


@pytest.mark.parametrize(
    ("a", "b"),
    [("John Cole", "John Coale"), ("Ales Beliatski", "Ales Bialiatski"),
     ("Sergei Tikhanovsky", "Siarhei Tsikhanouski"), ("Сергей Тихановский", "Sergei Tikhanovsky"),
     ("J. Coale", "John Coale"), ("Coale, John", "John Coale"), ("Alexander Lukashenko", "Aliaksandr Lukashenka"),
     ("Putin", "Vladimir Putin"), ("Nicolás Maduro", "Nicolas Maduro")],
)  # fmt: skip
def test_likely_same_finds_variants(a: str, b: str) -> None:
    assert likely_same(a, b) and likely_same(b, a)
    assert blocking_keys(tokens(a)) & blocking_keys(tokens(b)), "a variant must share a block to be compared"


@pytest.mark.parametrize(
    ("a", "b"),
    [("Belarus", "Belavia"), ("Maria Kolesnikova", "Anna Kolesnikova"), ("Maria Kolesnikova", "Marina Kolesnikova"),
     ("Donald Trump", "Melania Trump"), ("Iran", "Iraq"), ("Niger", "Nigeria"), ("Austria", "Australia"),
     ("Belarusian Foreign Ministry", "Belarusian Telegraph Agency"), ("Belarus", "Belarusian Foreign Ministry"),
     ("Oleg Zekaru", "Olga Zekaru"), ("Maria Ivanova", "Mario Ivanova")],
)  # fmt: skip
def test_likely_same_keeps_different_names_apart(a: str, b: str) -> None:
    assert not likely_same(a, b) and not likely_same(b, a)


def test_blocking_compares_far_fewer_pairs_than_all() -> None:
    import random

    rng = random.Random(4)
    given = ["Anna", "Ivan", "Olga", "Pavel", "Maria", "Sergei", "Elena", "Dmitri", "Irina", "Oleg"]

    def surname() -> str:
        return "".join(rng.choice("bdgklmnprstvz") + rng.choice("aeiou") for _ in range(3)).title()

    names = [Name(f"{rng.choice(given)} {surname()}", f"p{i}", "x", "person") for i in range(2000)]
    pairs = sum(1 for _ in candidate_pairs(names))
    assert pairs < len(names) * (len(names) - 1) // 2 // 10


def test_relay_origins_follow_chains_and_cycles() -> None:
    # 1 <- 2 <- 3 (3 relays 2 relays 1); 4 <-> 5 a cycle; 6 leads into the cycle; 7 relays itself
    parent: dict[int, int | None] = {1: None, 2: 1, 3: 2, 4: 5, 5: 4, 6: 5, 7: 7}
    found = origins(parent)
    assert found[1] == found[2] == found[3] == 1
    assert found[4] == found[5] == found[6] == 4
    assert found[7] == 7


def test_markdown_escaping_keeps_user_text_inert() -> None:
    assert md("<script>alert(1)</script>") == "\\<script\\>alert(1)\\</script\\>"
    assert md("| x |") == "\\| x \\|"
    assert md("# not a heading") == "\\# not a heading" and md("1. not a list") == "1\\. not a list"
    assert md("two\nlines") == "two lines"


# --- the registry and plug-ins ------------------------------------------------------------------------


class FakeEntryPoint:
    """What importlib.metadata returns for an installed plug-in."""

    def __init__(self, name: str, target: Any) -> None:
        self.name, self.target = name, target

    def load(self) -> Any:
        return self.target()


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[FakeEntryPoint]]:
    """Entry points of the ``ledger.checks`` group, faked; the registry is restored afterwards."""
    import importlib.metadata

    installed: list[FakeEntryPoint] = []
    monkeypatch.setattr(registry, "CHECKS", dict(registry.load_checks()))
    monkeypatch.setattr(
        importlib.metadata, "entry_points", lambda group=None: installed if group == "ledger.checks" else []
    )
    yield installed


def _register_plugin_checks() -> None:
    @registry.check("third-party", severity=registry.Severity.INFO, family="plugin")
    def third_party(_session: Any, _options: registry.AuditOptions) -> Iterator[registry.Finding]:
        """A check shipped by another package."""
        yield registry.Finding("third-party", registry.Severity.INFO, None, None, "hello from a plug-in")

    @registry.check("boom", severity=registry.Severity.WARNING, family="plugin")
    def boom(_session: Any, _options: registry.AuditOptions) -> Iterator[registry.Finding]:
        """A check that crashes half-way."""
        yield registry.Finding("boom", registry.Severity.WARNING, None, None, "half a result")
        raise RuntimeError("the plug-in broke")


def test_plugin_checks_register_and_a_crash_is_an_error_finding(
    run: Run, seeded: Path, plugins: list[FakeEntryPoint]
) -> None:
    plugins.append(FakeEntryPoint("mine", _register_plugin_checks))
    listed = run("audit", "--list", "--format", "json").json()
    assert {"third-party", "boom"} <= {row["check"] for row in listed}
    result = run("audit", "--format", "json", "--as-of", AS_OF)
    assert result.exit_code == 1  # the crash is an error finding, at the default --fail-on error
    rows = result.json()
    boom = [r for r in rows if r["check"] == "boom"]
    assert len(boom) == 1 and boom[0]["severity"] == "error" and "RuntimeError: the plug-in broke" in boom[0]["message"]
    assert any(r["check"] == "third-party" for r in rows)
    assert any(r["check"] == "totals" for r in rows), "the other checks still ran"


def test_a_plugin_that_fails_to_load_is_reported(run: Run, seeded: Path, plugins: list[FakeEntryPoint]) -> None:
    def broken() -> None:
        raise ImportError("no module named nowhere")

    plugins.append(FakeEntryPoint("broken", broken))
    listed = run("audit", "--list", "--format", "json").json()
    assert any(r["check"] == "plugin:broken" and "failed to load" in r["finds"] for r in listed)


# --- the command --------------------------------------------------------------------------------------


def test_fail_on_thresholds_and_selection(run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, concessions=[concession("lone"), concession("idea", status="considered")])
    assert run("audit", "--check", "unpaired").exit_code == 0  # only warnings and info: below error
    assert run("audit", "--check", "unpaired", "--fail-on", "warning").exit_code == 1
    assert run("audit", "--check", "unpaired", "--severity", "info").exit_code == 1
    assert run("audit", "--check", "unpaired", "--fail-on", "never").exit_code == 0
    assert run("audit", "--check", "unsourced", "--fail-on", "info").exit_code == 0  # nothing found
    skipped = run("audit", "--skip", "unpaired", "--format", "json", "--fail-on", "never").json()
    assert not any(r["check"] == "unpaired" for r in skipped)
    assert run("audit", "--skip", "nope").exit_code == 3
    assert run("audit", "--as-of", "yesterday").exit_code == 3
    assert run("audit", "--fail-on", "fatal").exit_code == 2


def test_summary_line_counts_by_severity_and_check(run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, concessions=[concession("lone"), concession("idea", status="considered")])
    result = run("audit", "--check", "unpaired", "--check", "unsourced")
    assert "2 findings from 2 checks: 0 error, 1 warning, 1 info; unpaired 2" in result.stderr


@pytest.mark.sqlite_only
def test_output_file_is_written_whole_and_nothing_else_is_left(run: Run, seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "audit.md"
    out.parent.mkdir()
    out.write_text("old report", encoding="utf-8")
    result = run("audit", "--format", "markdown", "-o", str(out), "--as-of", AS_OF)
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("# Audit of the ledger")
    assert os.listdir(out.parent) == ["audit.md"], "no temporary file left behind"
    assert run("audit", "-o", str(tmp_path / "missing" / "a.md")).exit_code == 3
    assert run("audit", "-o", str(out.parent)).exit_code == 3  # a folder is refused, not replaced
    assert out.parent.is_dir()


def test_output_to_a_named_pipe_writes_through_it(run: Run, seeded: Path, tmp_path: Path) -> None:
    import threading

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_text(encoding="utf-8")))
    reader.start()
    result = run("audit", "--check", "totals", "--format", "jsonl", "-o", str(pipe), "--fail-on", "never")
    reader.join(timeout=30)
    assert result.exit_code == 0 and pipe.is_fifo(), "the pipe is still a pipe, not replaced by a file"
    assert '"totals"' in received[0]


def test_hostile_names_stay_text_in_every_format(run: Run, ledger_db: Path) -> None:
    load(run, ledger_db, parties=[{"id": "evil", "name": "<script>alert(1)</script>", "kind": "state"},
                                  {"id": "pipes", "name": "| x |", "kind": "state"},
                                  {"id": "formula", "name": "=HYPERLINK(\"http://x\")", "kind": "state"}],
         concessions=[concession("a", "evil", "pipes", summary="<b>bold</b> | cell |"),
                      concession("b", "pipes", "evil", summary="-2+3 @SUM(A1)"),
                      concession("c", "formula", "evil", summary="@SUM(A1)")],
         exchanges=[{"id": "x", "title": "<img src=x onerror=alert(1)>",
                     "links": [{"concessions": ["a", "b"], "basis": "stated", "citations": cite()}]}])  # fmt: skip
    html = run("audit", "--format", "html", "--fail-on", "never").stdout
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html and "<b>" not in html
    markdown = run("audit", "--format", "markdown", "--fail-on", "never").stdout
    assert "\\<script\\>" in markdown and "\\| x \\|" in markdown and "\\<img" in markdown
    assert re.search(r"(?<!\\)[<>]", markdown.replace("\\<", "").replace("\\>", "")) is None
    text = run("audit", "--format", "csv", "--fail-on", "never", "--skip", "single-origin").stdout
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells), cells
    assert "'=HYPERLINK" in text  # the unpaired finding's message starts with the giver's name


def test_jsonl_and_csv_carry_the_same_findings(run: Run, seeded: Path) -> None:
    rows = run("audit", "--format", "json", "--as-of", AS_OF).json()
    lines = [json.loads(line) for line in run("audit", "--format", "jsonl", "--as-of", AS_OF).stdout.splitlines()]
    assert lines == rows
    table = list(csv.DictReader(io.StringIO(run("audit", "--format", "csv", "--as-of", AS_OF).stdout)))
    assert [(r["check"], r["record"]) for r in table] == [(r["check"], r["record"]) for r in rows]
    assert json.loads(table[0]["details"]) == rows[0]["details"]


# --- the seeds ----------------------------------------------------------------------------------------


def test_seeds_audit_reports_what_the_reference_case_shows(run: Run, seeded: Path) -> None:
    rows = run("audit", "--format", "json", "--as-of", AS_OF).json()
    aliases = {frozenset((r["details"]["name_a"], r["details"]["name_b"])) for r in rows if r["check"] == "aliases"}
    assert frozenset(("John Cole", "John Coale")) in aliases
    assert frozenset(("Ales Beliatski", "Ales Bialiatski")) in aliases
    (total,) = [r for r in rows if r["check"] == "totals"]
    assert "156 reported, 123 recorded: 33 unaccounted for" in total["message"]
    assert total["details"]["difference"] == 33
    gaze_only = {r["record"] for r in rows if r["check"] == "single-origin" and r["details"].get("source") ==
                 "gaze-belarus-example" and r["details"]["origin"] == "wsj-economic-support"}  # fmt: skip
    assert {"by-promises-release-14-more", "us-arranges-boeing-parts-for-belavia", "link-14-belavia"} <= gaze_only
    assert "by-releases-123-prisoners" not in gaze_only  # Straight Arrow News reports it too
    (fourteen,) = [r for r in rows if r["check"] == "overdue" and r["record"] == "by-promises-release-14-more"]
    assert "not delivered as of 2026-01-01" in fourteen["message"]
    conflicts = {r["record"] for r in rows if r["check"] == "conflict"}
    assert conflicts == {"coale"}, "the ranked name, date and status conflicts are settled; the role is not"


GOLDEN_FORMATS = {"table": "txt", "json": "json", "jsonl": "jsonl", "csv": "csv", "markdown": "md", "html": "html"}


@pytest.mark.parametrize("fmt", sorted(GOLDEN_FORMATS))
def test_seeds_audit_matches_its_golden_file(run: Run, seeded: Path, fmt: str) -> None:
    result = run("audit", "--format", fmt, "--as-of", AS_OF, "--fail-on", "never")
    assert result.exit_code == 0, result.stderr
    golden = GOLDEN / f"seeds-audit.{GOLDEN_FORMATS[fmt]}"
    if os.environ.get("LEDGER_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(result.stdout, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing: run the tests once with LEDGER_UPDATE_GOLDEN=1 and review it"
    assert result.stdout == golden.read_text(encoding="utf-8"), f"regenerate with LEDGER_UPDATE_GOLDEN=1: {golden}"


def test_driver_batches_read_what_sqlalchemy_reads(db_url: str, seeded: Path) -> None:
    """The checks read their large statements from the driver's cursor (``db.driver_batches``): an IN list of
    enum members, enum and boolean comparisons and text columns give the rows SQLAlchemy's result gives, in
    batches of the size asked for, on both backends."""
    from sqlalchemy import String, select, type_coerce

    from ledger.db import driver_batches
    from ledger.domain import OPEN_PROMISES, RecordType, Status
    from ledger.models import Concession, Record

    c, r = Concession.__table__, Record.__table__
    statement = (
        select(r.c.id, r.c.slug, type_coerce(c.c.status, String), c.c.summary)
        .select_from(c)
        .join(r, r.c.id == c.c.id)
        .where(r.c.type == RecordType.CONCESSION, r.c.retracted.is_(False),
               c.c.status.in_([*OPEN_PROMISES, Status.DELIVERED]))
        .order_by(r.c.id)
    )  # fmt: skip
    with session_on(db_url) as session:
        expected = [tuple(row) for row in session.execute(statement)]
        batches = list(driver_batches(session, statement, size=2))
    assert len(expected) > 2 and {row[2] for row in expected} >= {"delivered"}
    assert [row for batch in batches for row in batch] == expected
    assert all(len(batch) == 2 for batch in batches[:-1])
