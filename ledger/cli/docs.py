"""Generate the docs that must not go stale: docs/cli.md from the Typer app, docs/checks.md from the audit
registry. ``python -m ledger.cli.docs`` rewrites both; ``--check`` exits 1 naming any that differ.

Not imported by the app (it loads the audit), only run as a module and by the docs tests.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "python -m ledger.cli.docs"


def cli_markdown() -> str:
    """docs/cli.md: every command, argument and option, by Typer's own docs generator."""
    import typer
    from typer.cli import get_docs_for_click

    from ledger.cli.app import app

    command = typer.main.get_command(app)
    ctx = typer.Context(command, info_name="ledger")
    body = get_docs_for_click(obj=command, ctx=ctx, name="ledger", title="`ledger` command reference")
    header = f"<!-- Generated from the Typer app by `{REGENERATE}`; do not edit by hand. -->\n\n"
    return header + body.strip() + "\n"


def checks_markdown() -> str:
    """docs/checks.md: every built-in audit check, grouped by family, with its default severity and what it finds."""
    import ledger.audit.checks  # noqa: F401  (registers the built-in checks)
    from ledger.audit.registry import CHECKS

    lines = [
        f"<!-- Generated from the audit registry by `{REGENERATE}`; do not edit by hand. -->",
        "",
        "# Audit checks",
        "",
        "`ledger audit` runs every check below; `--check NAME` runs only some, `--skip NAME` leaves some out,",
        "`--fail-on` sets the severity that makes it exit 1, and `ledger audit --list` prints this table.",
        "Third-party checks register through the `ledger.checks` entry point and are not listed here.",
        "",
    ]
    builtin = [c for c in CHECKS.values() if c.family != "plugin"]
    for family in sorted({c.family for c in builtin}):
        lines += [f"## {family}", "", "| check | severity | finds |", "|---|---|---|"]
        for c in sorted((c for c in builtin if c.family == family), key=lambda c: c.name):
            doc = c.doc.replace("|", "\\|")
            lines.append(f"| `{c.name}` | {c.severity.value} | {doc} |")
        lines.append("")
    return "\n".join(lines)


GENERATED: dict[str, Callable[[], str]] = {"docs/cli.md": cli_markdown, "docs/checks.md": checks_markdown}


def stale() -> list[str]:
    """The generated docs whose file differs from what the code generates now."""
    out = []
    for name, generate in GENERATED.items():
        path = ROOT / name
        if not path.exists() or path.read_text(encoding="utf-8") != generate():
            out.append(name)
    return out


def main(argv: list[str]) -> int:
    """Rewrite the generated docs, or with ``--check`` report the stale ones."""
    if "--check" in argv:
        names = stale()
        for name in names:
            sys.stderr.write(f"{name} is stale; regenerate with: {REGENERATE}\n")
        return 1 if names else 0
    for name, generate in GENERATED.items():
        path = ROOT / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(generate(), encoding="utf-8")
        sys.stderr.write(f"wrote {name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
