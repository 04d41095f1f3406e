"""The architecture of style.md, enforced: imports point one way, and the CLI starts light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "ledger"
#: Which of our layers each layer may import.
ALLOWED = {
    "errors": set(),
    "domain": {"errors"},
    "models": {"errors", "domain"},
    "schemas": {"errors", "domain"},
    "db": {"errors", "domain", "models"},
    "journal": {"errors", "domain", "models"},
    "io": {"errors", "domain", "schemas", "io"},
    "ops": {"errors", "domain", "models", "schemas", "db", "journal", "io", "ops"},
    "audit": {"errors", "domain", "models", "schemas", "db", "journal", "audit", "ops"},
    "cli": {"errors", "domain", "models", "schemas", "db", "journal", "io", "ops", "audit", "cli"},
}


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def test_imports_point_one_way() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        layer = _layer(path)
        if layer == "__init__":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ledger."):
                target = node.module.split(".")[1]
                if target not in ALLOWED[layer] and target != layer:
                    wrong.append(f"{path.relative_to(PACKAGE)} imports ledger.{target}")
    assert wrong == []


def test_help_does_not_import_the_database_stack() -> None:
    code = (
        "import sys; from ledger.cli.app import app; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'alembic')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
