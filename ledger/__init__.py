"""ledger: a sourced, audited, append-only record of quid-pro-quo exchanges."""

__version__ = "0.1.0"
