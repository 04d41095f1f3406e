"""Processes for the reliability battery: concurrent writers, a concurrent reader, a big import file.

Run as ``python -m tests.battery writer DB WORKER WRITES`` or ``python -m tests.battery reader DB STOPFILE``;
each prints one JSON object on its last line. Writers call the real Typer app in-process (one engine and
one transaction per command, exactly as the console script does) so 200 writes do not pay 200 start-ups.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Each group of four writes: two concessions (one each way), a link between them, an amendment.
GROUP = 4


def writer_commands(worker: int, writes: int) -> list[list[str]]:
    """The commands one writer runs: add, add, link, amend, repeated; exactly ``writes`` of them."""
    commands: list[list[str]] = []
    for i in range(writes):
        group, step = divmod(i, GROUP)
        a, b = f"w{worker}-g{group}-a", f"w{worker}-g{group}-b"
        if step == 0:
            summary = f"aid from worker {worker} group {group}"
            commands.append(["add", "--id", a, "--giver", "by", "--receiver", "us", "--kind", "aid",
                             "--summary", summary, "--status", "offered"])  # fmt: skip
        elif step == 1:
            summary = f"relief from worker {worker} group {group}"
            commands.append(["add", "--id", b, "--giver", "us", "--receiver", "by", "--kind", "sanctions_relief",
                             "--summary", summary, "--status", "promised"])  # fmt: skip
        elif step == 2:
            commands.append(["link", a, b])
        else:
            commands.append(["amend", a, "--set", f"summary=amended by worker {worker} group {group}"])
    return commands


def invoker() -> Callable[[list[str]], tuple[int, str, str]]:
    """Run `ledger ARGS` in this process, as the console script would; returns (exit code, stdout, stderr).

    The Typer app is turned into its command once (Typer rebuilds it on every call otherwise).
    """
    import typer

    from ledger.cli.app import app

    command = typer.main.get_command(app)

    def invoke(args: list[str]) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = command.main(args=args, prog_name="ledger", standalone_mode=False)
            except SystemExit as exc:
                code = exc.code
        return (code if isinstance(code, int) else 0), out.getvalue(), err.getvalue()

    return invoke


def writer(db: str, worker: int, writes: int) -> dict[str, Any]:
    """Run this worker's commands; report how many succeeded and every failure."""
    invoke = invoker()
    os.environ["LEDGER_AUTHOR"] = f"worker-{worker}"
    ok, failures = 0, []
    for args in writer_commands(worker, writes):
        code, _out, err = invoke(["--db", db, *args])
        if code == 0:
            ok += 1
        else:
            failures.append({"args": args, "exit": code, "stderr": err[-500:]})
    return {"worker": worker, "ok": ok, "failures": failures}


def partial_writes(rows: list[dict[str, Any]]) -> list[str]:
    """Signs of a half-applied write in a `ledger list --format json` snapshot."""
    by_id = {row["id"]: row for row in rows}
    problems = []
    for row in rows:
        for other in row.get("counterparts") or []:
            if other in by_id and row["id"] not in (by_id[other].get("counterparts") or []):
                problems.append(f"{row['id']} is linked to {other} but not the other way round")
        if row.get("exchanges") and not row.get("counterparts"):
            problems.append(f"{row['id']} is in an exchange with no counterpart")
    return problems


def reader(db: str, stop_file: str, pause: float = 0.5) -> dict[str, Any]:
    """Run `ledger list` and `ledger audit --check integrity` until the stop file appears."""
    invoke = invoker()
    snapshots, audits, problems, failures = 0, 0, [], []
    while not Path(stop_file).exists():
        code, out, err = invoke(["--db", db, "list", "--format", "json"])
        if code != 0:
            failures.append(f"list: exit {code}: {err[-300:]}")
        else:
            snapshots += 1
            problems += partial_writes(json.loads(out))
        code, out, err = invoke(["--db", db, "audit", "--check", "integrity", "--format", "json"])
        if code not in (0, 1):
            failures.append(f"audit: exit {code}: {err[-300:]}")
        else:
            audits += 1
            problems += [f"audit: {f['message']}" for f in json.loads(out or "[]")]
        time.sleep(pause)  # leave the cores to the writers: the audit replays the whole journal
    return {"snapshots": snapshots, "audits": audits, "problems": problems[:20], "failures": failures[:20]}


def big_import_file(path: Path, records: int) -> int:
    """Write a JSONL import of ``records`` records (2 parties, 1 source, the rest concessions); return the count."""
    lines = [
        {"type": "party", "id": "imp-a", "name": "Importland", "kind": "state"},
        {"type": "party", "id": "imp-b", "name": "Otherland", "kind": "state"},
        {"type": "source", "id": "imp-src", "title": "Generated source", "publisher": "Battery"},
    ]
    for i in range(records - len(lines)):
        lines.append({
            "type": "concession", "id": f"imp-{i}", "giver": "imp-a" if i % 2 else "imp-b",
            "receiver": "imp-b" if i % 2 else "imp-a", "kind": "aid", "summary": f"generated concession {i}",
            "status": "offered", "citations": [{"source": "imp-src", "quote": f"quote number {i}"}],
        })  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def main(argv: list[str]) -> None:
    """Dispatch ``writer`` / ``reader``; print the report as JSON."""
    if argv[0] == "writer":
        report = writer(argv[1], int(argv[2]), int(argv[3]))
    elif argv[0] == "reader":
        report = reader(argv[1], argv[2])
    else:
        raise SystemExit(f"unknown role {argv[0]!r}")
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
