"""The built-in checks, imported for their registration side effect."""

from ledger.audit import integrity, pairing, sourcing  # noqa: F401
