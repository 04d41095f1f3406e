"""The built-in checks, imported for their registration side effect."""

from ledger.audit import evidence, pairing, sourcing  # noqa: F401
