"""The built-in checks, imported for their registration side effect."""

from ledger.audit import claims, integrity, names, pairing, sourcing, timing, totals  # noqa: F401
