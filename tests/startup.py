"""Run a `ledger` entry point in a new Python process and see which heavy modules it loaded."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable


def run_fresh(entry: str, argv: list[str], watched: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """Run ``entry``'s ``run()`` (``ledger.cli.quick`` or ``ledger.cli.app``) with ``argv`` after ``ledger`` in
    a new interpreter; a non-zero exit fails. Returns its output lines and which of the ``watched`` top-level
    modules it had imported by the end (sorted)."""
    code = (
        f"import sys; from {entry} import run\n"
        f"sys.argv = ['ledger', *{argv!r}]\n"
        "try:\n    run()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(watched)!r}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    *lines, loaded = done.stdout.splitlines()
    return lines, eval(loaded)  # noqa: S307  (the repr of a list of module names printed just above)
