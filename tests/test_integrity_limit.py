"""The audit's integrity check on journals written before record digests (schema 0004_5): it replays them,
up to a limit above which it skips the replay and says so; digested journals never need the replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.audit import integrity
from ledger.ops import rebuild, state
from tests.conftest import SEEDS, Run


def test_an_undigested_journal_is_replayed_up_to_the_limit(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("init").exit_code == 0
    with monkeypatch.context() as patch:
        patch.setattr(state, "state_of", lambda *_: None)
        assert run("import", str(SEEDS)).exit_code == 0
    monkeypatch.setattr(integrity, "REPLAY_LIMIT", 3)
    findings = run("audit", "--check", "integrity", "--format", "json").json()
    assert [(f["severity"], f["record_type"]) for f in findings] == [("info", "journal")]
    assert "predate record digests" in findings[0]["message"] and "ledger verify" in findings[0]["message"]
    monkeypatch.setattr(integrity, "REPLAY_LIMIT", 10_000)
    assert run("audit", "--check", "integrity", "--format", "json").json() == []


def test_a_digested_journal_is_checked_without_a_replay(run: Run, small: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_replay(*_: object) -> None:
        raise AssertionError("the integrity check replayed a journal whose entries all carry digests")

    monkeypatch.setattr(rebuild, "check", no_replay)
    assert run("audit", "--check", "integrity", "--format", "json").json() == []
    assert run("verify").exit_code == 0
