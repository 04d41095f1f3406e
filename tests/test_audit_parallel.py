"""The CSV and JSON Lines audit on two processes writes exactly what one process writes.

The helper runs about half of the checks in its own process, on the same snapshot (PostgreSQL shares it; on
SQLite the journal heads the two processes read must match); a helper that fails, or that read another moment
of the ledger, costs time: this process then runs its checks itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger.cli import audit_lines, audit_parallel
from tests.conftest import Run

AS_OF = "2026-01-01"


@pytest.fixture
def adopted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Force the helper on a small ledger; record how many runs each adopted helper result held."""
    seen: list[int] = []
    adopt = audit_lines.Rendered.adopt

    def recording(self: audit_lines.Rendered, spill: Any, runs: Any, by_severity: Any, by_check: Any) -> None:
        runs = list(runs)
        seen.append(len(runs))
        adopt(self, spill, runs, by_severity, by_check)

    monkeypatch.setattr(audit_lines.Rendered, "adopt", recording)
    monkeypatch.setattr(audit_parallel, "PARALLEL_FROM", 0)
    monkeypatch.setattr(audit_parallel.os, "cpu_count", lambda: 2)
    return seen


def _audits(run: Run) -> dict[str, str]:
    out = {}
    for form in ("csv", "jsonl"):
        result = run("audit", "--as-of", AS_OF, "--fail-on", "never", "-f", form)
        assert result.exit_code == 0, result.stderr
        out[form] = result.stdout
    return out


def test_two_processes_write_what_one_writes(run: Run, seeded: Path, adopted: list[int],
                                             monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    two = _audits(run)
    assert len(adopted) == 2 and all(adopted), "the helper's lines were used, in both forms"
    monkeypatch.setattr(audit_parallel, "PARALLEL_FROM", 10**12)
    one = _audits(run)
    assert len(adopted) == 2  # (no helper this time)
    assert two == one
    assert one["csv"].count("\n") > 10


@pytest.mark.parametrize("how", ["failed", "another moment"])
def test_a_helper_that_failed_or_read_another_moment_is_not_used(
    run: Run, seeded: Path, adopted: list[int], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    if how == "failed":
        monkeypatch.setattr(audit_parallel, "_result", lambda _folder: None)
    else:  # a write committed between the two reads (SQLite): the heads differ
        from ledger.ops import helper

        saw = helper.saw

        def another_moment(folder: Path) -> tuple[int, str]:
            seen = saw(folder)
            assert seen is not None, "the helper itself worked"
            return seen[0] + 1, "0" * 64

        monkeypatch.setattr(helper, "saw", another_moment)
    redone = _audits(run)
    assert adopted == []
    monkeypatch.setattr(audit_parallel, "PARALLEL_FROM", 10**12)
    assert redone == _audits(run)


def test_the_split_balances_the_heavy_checks_and_keeps_plug_ins_here() -> None:
    from ledger.audit.registry import CheckInfo, Severity

    names = ["aliases", "chronology", "integrity", "overdue", "plugin:x", "single-origin", "unsourced"]
    checks = [CheckInfo(n, "f", Severity.INFO, "", lambda _s, _o: ()) for n in names]
    mine, theirs = audit_parallel.split(checks)
    assert sorted(mine + theirs) == list(range(len(names)))
    assert names.index("plugin:x") in mine
    sides = [{names[i] for i in side} for side in (mine, theirs)]
    heaviest = next(side for side in sides if "integrity" in side)  # 60 s at 1M against 14 s for the next two
    assert not heaviest & {"chronology", "single-origin"}
