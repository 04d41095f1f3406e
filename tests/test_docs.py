"""Docs that cannot go stale: generated references match the code, and every shell example runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from ledger.cli import docs
from tests.conftest import ROOT, Run

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


def shell_examples(path: Path) -> list[list[str]]:
    """The `ledger` commands of each ```sh block, continuation lines joined, comments dropped."""
    blocks = re.findall(r"^```sh\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    out = []
    for block in blocks:
        commands = []
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            for segment in _split_on_and(words):
                if segment and segment[0] == "ledger":
                    commands.append(segment[1:])
                elif segment and segment[0] not in SETUP:
                    raise AssertionError(f"{path.name}: cannot run {' '.join(segment)!r} in the docs test")
        out.append(commands)
    return out


def _split_on_and(words: list[str]) -> list[list[str]]:
    segments: list[list[str]] = [[]]
    for word in words:
        if word == "&&":
            segments.append([])
        else:
            segments[-1].append(word)
    return segments


EXAMPLES = [(path, i, block) for path in DOCS for i, block in enumerate(shell_examples(path)) if block]


def test_the_readme_has_runnable_examples() -> None:
    assert sum(len(block) for path, _, block in EXAMPLES if path.name == "README.md") >= 20


@pytest.mark.parametrize(("path", "index", "commands"), EXAMPLES, ids=[f"{p.name}-{i}" for p, i, _ in EXAMPLES])
def test_shell_examples_run(
    path: Path, index: int, commands: list[list[str]], run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each block in a fresh folder (with seeds/ beside it) and a fresh ledger; a block that does not start
    with `ledger init` runs against the reference case (seeds/ imported). Every command exits 0 (the
    audit may exit 1: that is it reporting problems)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "seeds").symlink_to(ROOT / "seeds", target_is_directory=True)
    monkeypatch.chdir(work)
    if commands[0] != ["init"]:
        for args in (["init"], ["import", "seeds/belarus-us.yaml"]):
            assert run(*args, db=str(work / "ledger.db")).exit_code == 0
    for args in commands:
        result = run(*args, db=str(work / "ledger.db"))
        allowed = {0, 1} if args[-1:] == ["audit"] or "audit" in args[:1] else {0}
        assert result.exit_code in allowed, f"{path.name} block {index}: ledger {shlex.join(args)}\n{result.stderr}"
