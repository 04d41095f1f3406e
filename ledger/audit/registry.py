"""The check registry: ``@check(name, severity=..., family=...)`` registers a function
``(session, options) -> Iterable[Finding]``. Third parties register through the ``ledger.checks``
entry point. A check that raises becomes one ``error`` finding naming it; the others still run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from ledger.errors import InvalidInput


class Severity(StrEnum):
    """How bad a finding is, from most to least severe."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for error, 1 for warning, 2 for info."""
        return list(Severity).index(self)


@dataclass(frozen=True)
class Finding:
    """One weakness of the record: which check, how bad, about what, in words a journalist reads."""

    check: str
    severity: Severity
    record_type: str | None
    record_id: str | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def sort_key(self) -> tuple[int, str, str, str, str]:
        """Deterministic order: severity, check, record, message."""
        return (self.severity.rank, self.check, self.record_type or "", self.record_id or "", self.message)


@dataclass(frozen=True)
class AuditOptions:
    """Settings every check may read."""

    as_of: dt.date = field(default_factory=dt.date.today)
    promise_window_days: int = 90


CheckFn = Callable[[Session, AuditOptions], Iterable[Finding]]


@dataclass(frozen=True)
class CheckInfo:
    """A registered check."""

    name: str
    family: str
    severity: Severity
    doc: str
    fn: CheckFn


CHECKS: dict[str, CheckInfo] = {}


def check(name: str, *, severity: Severity, family: str) -> Callable[[CheckFn], CheckFn]:
    """Register an audit check under ``name`` with its default severity and family."""

    def register(fn: CheckFn) -> CheckFn:
        doc = " ".join((fn.__doc__ or "").split())
        CHECKS[name] = CheckInfo(name, family, severity, doc, fn)
        return fn

    return register


def load_checks() -> dict[str, CheckInfo]:
    """The built-in checks plus any registered through the ``ledger.checks`` entry point."""
    from importlib.metadata import entry_points

    import ledger.audit.checks  # noqa: F401  (registers the built-in checks)

    for entry in entry_points(group="ledger.checks"):
        try:
            entry.load()
        except Exception as exc:  # a broken plug-in must not stop the audit
            CHECKS[f"plugin:{entry.name}"] = CheckInfo(
                f"plugin:{entry.name}", "plugin", Severity.ERROR, f"failed to load: {exc}", lambda _s, _o: ()
            )
    return CHECKS


def select_checks(only: Iterable[str] = (), skip: Iterable[str] = ()) -> list[CheckInfo]:
    """The checks to run, in name order; unknown names are an error listing the known ones."""
    checks = load_checks()
    only, skip = list(only), list(skip)
    unknown = [n for n in [*only, *skip] if n not in checks]
    if unknown:
        raise InvalidInput(f"unknown check(s): {', '.join(unknown)}; known: {', '.join(sorted(checks))}")
    names = only or sorted(checks)
    return [checks[n] for n in sorted(names) if n not in skip]


def run_audit(session: Session, options: AuditOptions, checks: list[CheckInfo]) -> list[Finding]:
    """Run the checks and return their findings, sorted; a crashing check becomes an error finding."""
    findings: list[Finding] = []
    for info in checks:
        try:
            with session.begin_nested():
                found = list(info.fn(session, options))  # all or nothing: no half a check's findings
            findings.extend(found)
        except Exception as exc:
            findings.append(
                Finding(
                    info.name, Severity.ERROR, None, None, f"the {info.name} check failed: {type(exc).__name__}: {exc}"
                )
            )
    return sorted(findings, key=Finding.sort_key)
