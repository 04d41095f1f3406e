"""The audit's integrity check stays fast on a long journal: above the limit it skips the replay and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.audit import integrity
from tests.conftest import Run


def test_replay_is_skipped_above_the_limit_with_a_finding(
    run: Run, small: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(integrity, "REPLAY_LIMIT", 3)
    findings = run("audit", "--check", "integrity", "--format", "json").json()
    assert [(f["severity"], f["record_type"]) for f in findings] == [("info", "journal")]
    assert "ledger verify" in findings[0]["message"]
    monkeypatch.setattr(integrity, "REPLAY_LIMIT", 10_000)
    assert run("audit", "--check", "integrity", "--format", "json").json() == []
