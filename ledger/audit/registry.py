"""The check registry: ``@check(name, severity=..., family=...)`` registers a function
``(session, options) -> Iterable[Finding]``. Third parties register through the ``ledger.checks``
entry point. A check that raises becomes one ``error`` finding naming it; the others still run.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, NamedTuple

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
        return _RANK[self]


#: A constant table: the rank is read for every finding when sorting.
SEVERITY_RANK = _RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class Finding(NamedTuple):
    """One weakness of the record: which check, how bad, about what, in words a journalist reads.

    Immutable; a named tuple rather than a frozen dataclass because an audit builds one per finding
    (millions on a large ledger) and a frozen dataclass costs several times more to construct. Treat
    ``details`` as read-only: the default is one shared empty dict."""

    check: str
    severity: Severity
    record_type: str | None
    record_id: str | None
    message: str
    details: dict[str, Any] = {}  # noqa: RUF012  (never mutated; see the docstring)

    def sort_key(self) -> tuple[int, str, str, str, str]:
        """Deterministic order: severity, check, record, message."""
        return (_RANK[self.severity], self.check, self.record_type or "", self.record_id or "", self.message)


#: ``new_finding((check, severity, record_type, record_id, message, details))``: a Finding built in C, without the
#: named tuple's Python ``__new__`` (half the cost; for the checks that report hundreds of thousands).
new_finding: Callable[[tuple[str, Severity, str | None, str | None, str, dict[str, Any]]], Finding] = partial(
    tuple.__new__, Finding
)


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


def each_check(session: Session, options: AuditOptions, checks: list[CheckInfo]) -> Iterator[list[Finding]]:
    """Run the checks one by one and yield each one's findings (unsorted) as soon as it is done, so a caller
    can render them and let them go; a crashing check yields one error finding instead."""
    for info in checks:
        try:
            with session.begin_nested():
                found = list(info.fn(session, options))  # all or nothing: no half a check's findings
        except Exception as exc:
            found = [
                Finding(
                    info.name, Severity.ERROR, None, None, f"the {info.name} check failed: {type(exc).__name__}: {exc}"
                )
            ]
        yield found


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with Python's cyclic garbage collector off (as it was, after).

    An audit keeps up to millions of findings alive at once (tuples of text: no reference cycles), and each
    of the collector's passes over the older generations walks every one of them again: about a sixth of
    the audit's CPU at 100,000 concessions, more as the ledger grows. What the block leaves in cycles is
    collected once it is switched back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_audit(session: Session, options: AuditOptions, checks: list[CheckInfo]) -> list[Finding]:
    """Run the checks and return their findings, sorted; a crashing check becomes an error finding."""
    with collector_paused():
        findings = [f for found in each_check(session, options, checks) for f in found]
        return sorted(findings, key=Finding.sort_key)
