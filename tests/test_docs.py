"""Docs that cannot go stale: generated references match the code, and every shell example runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.cli import docs
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Install and test commands in the quickstart: they set up the machine, not the ledger.
SETUP = ("python3", "python", "pip", "pytest", ".", "source")


@pytest.mark.parametrize("name", sorted(docs.GENERATED))
def test_generated_docs_are_current(name: str) -> None:
    path = ROOT / name
    assert path.exists(), f"{name} is missing; generate it with: {docs.REGENERATE}"
    assert path.read_text(encoding="utf-8") == docs.GENERATED[name](), f"{name} is stale; run: {docs.REGENERATE}"


def test_cli_reference_names_every_command_and_option() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for needle in (
        "## `ledger balance`",
        "## `ledger report`",
        "`-q, --quiet`",
        "`--since <str>`",
        "### `ledger party add`",
    ):
        assert needle in text


def test_docs_check_mode_reports_a_stale_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docs, "ROOT", tmp_path)
    assert docs.main(["--check"]) == 1
    assert docs.main([]) == 0 and docs.main(["--check"]) == 0
    (tmp_path / "docs" / "checks.md").write_text("old\n", encoding="utf-8")
    assert docs.stale() == ["docs/checks.md"]


def test_checks_doc_keeps_its_hand_written_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docs, "ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "checks.md").write_text(f"# Checks\n\nprose\n\n{docs.BEGIN}\nold table\n{docs.END}\n\nmore\n")
    text = docs.checks_markdown()
    assert text.startswith("# Checks\n\nprose\n\n") and text.endswith(f"{docs.END}\n\nmore\n")
    assert "old table" not in text and "| `unpaired` | pairing |" in text


def shell_examples(path: Path) -> list[str]:
    """Each ```sh block as a script: lines that only set up the machine (venv, pip, pytest) dropped, and a
    quickstart line's setup steps before its first `ledger` command cut off."""
    blocks = re.findall(r"^```sh\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    scripts = []
    for block in blocks:
        lines = []
        for line in block.replace("\\\n", " ").splitlines():
            if line.split(maxsplit=1)[:1] and line.split()[0] in SETUP:
                steps = line.split(" && ")
                line = " && ".join(
                    steps[next((i for i, s in enumerate(steps) if s.startswith("ledger ")), len(steps)) :]
                )
            if line.strip():
                lines.append(line)
        scripts.append("\n".join(lines))
    return scripts


EXAMPLES = [(path, i, script) for path in DOCS for i, script in enumerate(shell_examples(path)) if script]
#: The audit exits 1 when it finds problems: that is it working, not the example failing.
PRELUDE = """set -euo pipefail
ledger() { local rc=0; command ledger "$@" || rc=$?; if [ "$rc" = 1 ] && [[ " $* " == *" audit "* ]]; then rc=0; fi
  return "$rc"; }
"""


def test_the_readme_has_runnable_examples() -> None:
    readme = [script for path, _, script in EXAMPLES if path.name == "README.md"]
    assert sum(script.count("ledger ") for script in readme) >= 20


@pytest.mark.parametrize(("path", "index", "script"), EXAMPLES, ids=[f"{p.name}-{i}" for p, i, _ in EXAMPLES])
def test_shell_examples_run(path: Path, index: int, script: str, tmp_path: Path) -> None:
    """Each block runs in bash, in a fresh folder (with seeds/ beside it) on a fresh ledger; a block that does
    not start with `ledger init` runs against the reference case (seeds/ imported)."""
    ledger = shutil.which("ledger", path=str(Path(sys.executable).parent)) or shutil.which("ledger")
    if ledger is None or shutil.which("bash") is None:
        pytest.skip("the examples need bash and the installed `ledger` command (pip install -e .)")
    work = tmp_path / "work"
    work.mkdir()
    (work / "seeds").symlink_to(ROOT / "seeds", target_is_directory=True)
    env = {**os.environ, "LEDGER_DB": str(work / "ledger.db"), "LEDGER_AUTHOR": "docs-test",
           "PATH": f"{Path(ledger).parent}{os.pathsep}{os.environ.get('PATH', '')}"}  # fmt: skip
    env.pop("NO_COLOR", None)
    setup = "" if script.startswith("ledger init") else "ledger -q init && ledger -q import seeds/belarus-us.yaml\n"
    result = subprocess.run(
        ["bash", "-x", "-c", PRELUDE + setup + script], cwd=work, env=env, capture_output=True, text=True, check=False
    )
    trace = "\n".join(result.stderr.splitlines()[-15:])
    assert result.returncode == 0, f"{path.name} block {index} failed:\n{trace}"
