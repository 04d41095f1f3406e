"""The built-in checks, imported for their registration side effect."""

from ledger.audit import evidence, integrity, pairing, sourcing  # noqa: F401
