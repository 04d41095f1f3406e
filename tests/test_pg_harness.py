"""The test PostgreSQL harness says why it cannot start a server instead of failing every test."""

from __future__ import annotations

import pwd

import pytest

from tests import pg


def test_a_user_other_than_root_needs_nothing_more(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg.os, "geteuid", lambda: 1000)
    assert pg.cannot_start() is None


def test_root_without_a_postgres_user_is_told_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> pwd.struct_passwd:
        raise KeyError(name)

    monkeypatch.setattr(pg.os, "geteuid", lambda: 0)
    monkeypatch.setattr(pg.pwd, "getpwnam", missing)
    assert "no 'postgres' operating-system user" in (pg.cannot_start() or "")


def test_root_finds_runuser_outside_path_or_is_told_so(monkeypatch: pytest.MonkeyPatch, tmp_path: pg.Path) -> None:
    monkeypatch.setattr(pg.os, "geteuid", lambda: 0)
    monkeypatch.setattr(pg.pwd, "getpwnam", lambda name: pwd.getpwuid(0))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(pg.Path, "exists", lambda self: str(self) == "/usr/sbin/runuser")
    assert pg.cannot_start() is None
    assert pg.PgServer(pg.Path("/bin"), root=tmp_path)._as_server_user("initdb")[0] == "/usr/sbin/runuser"
    monkeypatch.setattr(pg.Path, "exists", lambda self: False)
    assert "runuser" in (pg.cannot_start() or "")
