"""The audit: named checks over the database, each yielding findings with a severity."""

from ledger.audit.registry import CHECKS, AuditOptions, CheckInfo, Finding, Severity, check, run_audit

__all__ = ["CHECKS", "AuditOptions", "CheckInfo", "Finding", "Severity", "check", "run_audit"]
