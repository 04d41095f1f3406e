"""The built-in checks, imported for their registration side effect."""

from ledger.audit import claims, evidence, integrity, names, pairing, sourcing, timing, totals  # noqa: F401
