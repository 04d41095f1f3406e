"""The `ledger` command: a thin layer that parses options, calls one op or query, renders the result."""
