"""One base exception and a few subclasses, each carrying the exit code the CLI uses."""

from __future__ import annotations


class LedgerError(Exception):
    """An expected failure: the CLI prints its message and exits with ``exit_code``."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n{self.hint}"


class InvalidInput(LedgerError):
    """Input that fails validation: a bad value, an unknown reference, a malformed file."""

    exit_code = 3

    def __init__(self, message: str, *, hint: str | None = None, problems: list[str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []

    def __str__(self) -> str:
        lines = [self.message, *(f"  {p}" for p in self.problems)]
        if self.hint:
            lines.append(self.hint)
        return "\n".join(lines)


class NotFound(InvalidInput):
    """A record ID that does not exist; the message names the closest existing IDs."""


class DatabaseProblem(LedgerError):
    """The database is missing, locked, corrupt, un-migrated or newer than this code."""

    exit_code = 4


class AuditFailed(LedgerError):
    """The audit found problems at or above the ``--fail-on`` severity."""

    exit_code = 1
