"""Benchmark `ledger` against the physical floor: raw drivers doing the same work on the same tables.

    python bench/run.py --rows 1000000        # default N
    python bench/run.py --quick               # N = 100,000
    python bench/run.py --quick --json out.json --only list --only help
    python bench/run.py --quick --postgres    # a throw-away PostgreSQL server from the machine's binaries
    python bench/run.py --quick --db postgresql+psycopg://user@host/db
    python bench/run.py --quick --independent-dates  # every date drawn independently (the figures before session 5)

Every measurement is a fresh process (the CLI as a user runs it; the baseline as a `python` script),
timed by wall clock, its peak RSS read from ``os.wait4``. Operations whose command does not exist in
the build being measured print ``n/a (command not in this build)``; their baseline is still measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import baselines  # noqa: E402
import generate  # noqa: E402

OPERATIONS = ("import", "audit", "audit-checks", "export-csv", "verify", "list", "help", "sql")
THREE_CHECKS = ("unpaired", "one-sided", "totals")
NOT_IN_BUILD = "n/a (command not in this build)"


@dataclass
class Run:
    """One process: wall seconds, peak RSS in MB, exit code and the end of its stderr."""

    seconds: float
    rss_mb: float
    exit_code: int
    cpu_seconds: float = 0.0
    stderr: str = ""
    timed_out: bool = False


@dataclass
class Row:
    """One line of the table."""

    operation: str
    rows: int
    ledger_s: float | None = None
    baseline_s: float | None = None
    ratio: float | None = None
    ledger_rss_mb: float | None = None
    baseline_rss_mb: float | None = None
    ledger_cpu_s: float | None = None
    baseline_cpu_s: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


#: GNU time reports the peak RSS of the process it runs. Linux carries the spawning process's high-water
#: mark into a child's ``ru_maxrss`` across exec, so a child spawned by this (larger) process would
#: report at least our own RSS; a child of the small ``time`` process reports its own.
GNU_TIME = "/usr/bin/time"


def measure(argv: list[str], workdir: Path, *, timeout: float, env: dict[str, str] | None = None) -> Run:
    """Run one fresh process to completion (stdout to a file); wall time, CPU time and peak RSS."""
    out, err, usage_file = workdir / "stdout.txt", workdir / "stderr.txt", workdir / "usage.txt"
    timed = Path(GNU_TIME).exists()
    command = [GNU_TIME, "-f", "%M %U %S", "-o", str(usage_file), *argv] if timed else argv
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env, start_new_session=True)
        try:
            process.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            timed_out = True
        seconds = time.perf_counter() - start
    tail = err.read_text(encoding="utf-8", errors="replace")[-400:]
    rss_mb, cpu = 0.0, 0.0
    if timed and not timed_out:
        fields = usage_file.read_text().split()[-3:]
        rss_mb, cpu = int(fields[0]) / 1024, float(fields[1]) + float(fields[2])
    return Run(seconds, rss_mb, process.returncode, cpu, tail, timed_out)


def best(argv: list[str], workdir: Path, *, repeat: int, timeout: float, env: dict[str, str] | None = None) -> Run:
    """The median of ``repeat`` runs after one warm-up run (the one run when repeat is 1)."""
    if repeat > 1:
        measure(argv, workdir, timeout=timeout, env=env)
    runs = [measure(argv, workdir, timeout=timeout, env=env) for _ in range(repeat)]
    runs.sort(key=lambda r: r.seconds)
    return runs[len(runs) // 2]


class Bench:
    """Holds the settings of one benchmark run and measures each operation."""

    def __init__(self, args: argparse.Namespace, workdir: Path, db_url: str | None) -> None:
        self.args, self.workdir, self.n = args, workdir, args.rows
        self.db_url = db_url
        self.postgres = db_url is not None
        script = Path(sys.executable).parent / "ledger"
        self.ledger = (
            [str(script)] if script.exists() else [sys.executable, "-c", "from ledger.cli.app import run; run()"]
        )
        self.env = {**os.environ, "LEDGER_AUTHOR": "bench"}
        # Measure what a user runs: with bytecode caches (a session may have turned them off).
        for name in ("LEDGER_DB", "PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME"):
            self.env.pop(name, None)
        self.rows: list[Row] = []

    # --- plumbing -----------------------------------------------------------------------------------

    def database(self, name: str) -> str:
        """A fresh, initialised ledger: a SQLite file in the work folder, or a new PostgreSQL database."""
        if self.db_url is not None:
            import pgserver

            target = pgserver.create_database(self.db_url, f"ledger_bench_{name}")
        else:
            target = str(self.workdir / f"{name}.db")
            for suffix in ("", "-wal", "-shm"):
                Path(target + suffix).unlink(missing_ok=True)
        self.cli(target, "init", check=True)
        return target

    def cli(self, database: str, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self.ledger, "--db", database, *args], capture_output=True, text=True, env=self.env)
        if check and done.returncode != 0:
            raise RuntimeError(f"ledger {' '.join(args)} failed: {done.stderr.strip()}")
        return done

    def has_command(self, *words: str) -> bool:
        """Whether this build of ledger has the (sub)command."""
        return self.help_of(*words) is not None

    def help_of(self, *words: str) -> str | None:
        """The (sub)command's --help text, or None when this build does not have it."""
        done = subprocess.run([*self.ledger, *words, "--help"], capture_output=True, text=True, env=self.env)
        return done.stdout if done.returncode == 0 else None

    def checks(self, database: str) -> list[str]:
        done = self.cli(database, "audit", "--list", "--format", "json")
        return [c["check"] for c in json.loads(done.stdout)] if done.returncode == 0 else []

    def ledger_run(self, database: str, *args: str, repeat: int = 1) -> Run:
        return best([*self.ledger, "--db", database, *args], self.workdir, repeat=repeat,
                    timeout=self.args.timeout, env=self.env)  # fmt: skip

    def baseline_run(self, *args: str, repeat: int = 1) -> Run:
        argv = [sys.executable, str(BENCH / "baselines.py"), *args]
        return best(argv, self.workdir, repeat=repeat, timeout=self.args.timeout, env=self.env)

    def record(self, row: Row, ledger: Run | None, baseline: Run | None) -> Row:
        if ledger is not None:
            row.ledger_s, row.ledger_rss_mb = round(ledger.seconds, 3), round(ledger.rss_mb, 1)
            row.ledger_cpu_s = round(ledger.cpu_seconds, 3)
            if ledger.timed_out:
                row.note = f"timeout (> {self.args.timeout:.0f} s)"
            elif ledger.exit_code not in (0,):
                row.note = f"failed (exit {ledger.exit_code}): {ledger.stderr.strip().splitlines()[-1:]}"
        if baseline is not None:
            row.baseline_s, row.baseline_rss_mb = round(baseline.seconds, 3), round(baseline.rss_mb, 1)
            row.baseline_cpu_s = round(baseline.cpu_seconds, 3)
            if baseline.exit_code != 0:
                row.note += f" baseline failed (exit {baseline.exit_code}): {baseline.stderr.strip()[-200:]}"
        if row.ledger_s and row.baseline_s and not row.note:
            row.ratio = round(row.ledger_s / row.baseline_s, 2)
        self.rows.append(row)
        print(format_row(row), flush=True)  # noqa: T201
        return row

    # --- operations ---------------------------------------------------------------------------------

    def run_import(self, jsonl: Path, read_db: str) -> None:
        """ledger import vs json.loads + executemany; the baseline's database becomes the read-side ledger."""
        ledger = None
        if "import" in self.selected:
            target = self.database("import")
            ledger = self.ledger_run(target, "import", str(jsonl))
        baseline = measure([sys.executable, str(BENCH / "rawload.py"), read_db, str(jsonl)], self.workdir,
                           timeout=max(self.args.timeout, 3600), env=self.env)  # fmt: skip
        if baseline.exit_code != 0:
            raise RuntimeError(f"populating the ledger failed: {baseline.stderr}")
        if "import" in self.selected:
            self.record(Row("import jsonl", self.n), ledger, baseline)

    def run_audit(self, database: str) -> None:
        available = self.checks(database)
        if "audit" in self.selected:
            ledger = self.ledger_run(database, "audit", "--fail-on", "never", "--format", "csv") if available else None
            row = Row("audit (all checks)", self.n, extra={"checks": available})
            row.note = "" if available else NOT_IN_BUILD
            self.record(row, ledger, self.baseline_run("audit", database))
        if "audit-checks" in self.selected:
            missing = [c for c in THREE_CHECKS if c not in available]
            args = [a for c in THREE_CHECKS for a in ("--check", c)]
            ledger = None if missing else self.ledger_run(database, "audit", *args, "--fail-on", "never", "-f", "csv")
            row = Row("audit unpaired+one-sided+totals", self.n)
            row.note = f"n/a (checks not in this build: {', '.join(missing)})" if missing else ""
            self.record(row, ledger, self.baseline_run("audit", database, ",".join(THREE_CHECKS)))
            if "unpaired" in available:
                ledger = self.ledger_run(database, "audit", "--check", "unpaired", "--fail-on", "never", "-f", "csv")
                self.record(Row("audit unpaired", self.n), ledger, self.baseline_run("audit", database, "unpaired"))

    def run_export(self, database: str) -> None:
        out = self.workdir / "export"
        ledger = None
        if self.has_command("export"):
            ledger = self.ledger_run(database, "export", "--format", "csv", "--output", str(out / "ledger"))
        row = Row("export csv", self.n, note="" if ledger else NOT_IN_BUILD)
        self.record(row, ledger, self.baseline_run("export-csv", database, str(out / "baseline")))

    def run_verify(self, database: str) -> None:
        """`ledger verify --chain-only` is the like-for-like row; `ledger verify` also checks every row against
        the journal's record digests; `--full-verify` adds `ledger verify --replay` (replays the journal)."""
        help_text = self.help_of("verify")
        if help_text is None:
            row = Row("verify journal", self.n, note=NOT_IN_BUILD)
            self.record(row, None, self.baseline_run("verify", database))
            return
        baseline = self.baseline_run("verify", database)
        if "--chain-only" in help_text:
            ledger = self.ledger_run(database, "verify", "--chain-only", "-f", "csv")
            self.record(Row("verify journal (--chain-only)", self.n), ledger, baseline)
        if "--replay" in help_text:
            ledger = self.ledger_run(database, "verify", "-f", "csv")
            row = Row("verify (chain + every row's digest)", self.n)
            self.record(row, ledger, baseline)
            if not row.note:
                row.note = "baseline hashes the journal only: the ledger also reads and hashes every row"
        if not self.args.full_verify:
            return
        replay = ("verify", "--replay") if "--replay" in help_text else ("verify",)
        ledger = self.ledger_run(database, *replay, "-f", "csv")
        row = Row("verify (chain + replay of the journal)", self.n)
        self.record(row, ledger, baseline)
        if not row.note:
            row.note = "baseline hashes only: different work"

    def run_list(self, database: str) -> None:
        ledger = self.ledger_run(database, "list", "--limit", "20", "--format", "csv", repeat=self.args.repeat)
        self.record(Row("list --limit 20 (new process)", self.n), ledger,
                    self.baseline_run("list", database, repeat=self.args.repeat))  # fmt: skip

    def run_help(self) -> None:
        ledger = best([*self.ledger, "--help"], self.workdir, repeat=self.args.repeat, timeout=60, env=self.env)
        floor = best(
            [sys.executable, "-c", "import sqlite3"], self.workdir, repeat=self.args.repeat, timeout=60, env=self.env
        )
        self.record(Row("--help (new process)", 0, extra=startup_imports(self.ledger, self.env)), ledger, floor)

    def run_sql(self, database: str) -> None:
        """A start-up-sized measurement at 100k (the query is ~0.2 s): the median of --repeat runs, as list."""
        ledger = None
        if self.has_command("sql"):
            ledger = self.ledger_run(database, "sql", baselines.SQL_AGGREGATE, "--format", "csv",
                                     repeat=self.args.repeat)  # fmt: skip
        row = Row("sql filtered aggregate on v_concessions", self.n, note="" if ledger else NOT_IN_BUILD)
        self.record(row, ledger, self.baseline_run("sql", database, repeat=self.args.repeat))

    def run(self) -> dict[str, Any]:
        self.selected = set(self.args.only or OPERATIONS)
        jsonl = self.workdir / f"ledger-{self.n}.jsonl"
        started = time.perf_counter()
        written = generate.write_jsonl(jsonl, self.n, realistic=not self.args.independent_dates)
        print(f"generated {jsonl.name}: {written} in {time.perf_counter() - started:.1f} s", flush=True)  # noqa: T201
        print(header(), flush=True)  # noqa: T201
        if "help" in self.selected:
            self.run_help()
        read_db = self.database("read")
        self.run_import(jsonl, read_db)
        if self.selected & {"audit", "audit-checks"}:
            self.run_audit(read_db)
        for name, step in (("export-csv", self.run_export), ("verify", self.run_verify), ("list", self.run_list),
                           ("sql", self.run_sql)):  # fmt: skip
            if name in self.selected:
                step(read_db)
        return {"rows": self.n, "records": written, "backend": "postgresql" if self.postgres else "sqlite",
                "results": [asdict(r) for r in self.rows]}  # fmt: skip


def startup_imports(ledger: list[str], env: dict[str, str]) -> dict[str, Any]:
    """What `ledger --help` imports (``-X importtime``): the heavy packages and the slowest top-level imports."""
    done = subprocess.run([*ledger, "--help"], capture_output=True, text=True,
                          env={**env, "PYTHONPROFILEIMPORTTIME": "1"})  # fmt: skip
    cumulative: dict[str, int] = {}
    seen: set[str] = set()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2 or "cumulative" in line:
            continue
        _, cum, name = line.removeprefix("import time:").split("|")
        seen.add(name.strip().split(".")[0])
        if not name[1:].startswith(" "):
            cumulative[name.strip()] = int(cum)
    packages = {name: name in seen for name in ("sqlalchemy", "alembic", "pydantic", "rich")}
    slowest = sorted(cumulative.items(), key=lambda kv: -kv[1])[:6]
    return {"imports": packages, "slowest_ms": {k: round(v / 1000, 1) for k, v in slowest}}


def header() -> str:
    cols = ("operation", "rows", "ledger s", "baseline s", "ratio", "ledger MB", "baseline MB", "cpu s", "note")
    return (
        f"{cols[0]:<40} {cols[1]:>9} {cols[2]:>9} {cols[3]:>10} {cols[4]:>6} {cols[5]:>9} {cols[6]:>11} "
        f"{cols[7]:>13}  {cols[8]}"
    )


def format_row(row: Row) -> str:
    def num(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    note = row.note
    if row.extra.get("imports"):
        heavy = [k for k, v in row.extra["imports"].items() if v]
        note = (note + " imports: " + (", ".join(heavy) if heavy else "no sqlalchemy/alembic/pydantic/rich")).strip()
    return (
        f"{row.operation:<40} {row.rows:>9,} {num(row.ledger_s, '.3f'):>9} {num(row.baseline_s, '.3f'):>10} "
        f"{num(row.ratio, '.2f'):>6} {num(row.ledger_rss_mb, '.0f'):>9} {num(row.baseline_rss_mb, '.0f'):>11} "
        f"{num(row.ledger_cpu_s, '.2f'):>6}/{num(row.baseline_cpu_s, '.2f'):<6}  {note}"
    )


def machine() -> dict[str, Any]:
    """The machine the figures ran on."""
    info: dict[str, Any] = {"nproc": os.cpu_count(), "python": platform.python_version(),
                            "sqlite": sqlite3.sqlite_version, "platform": platform.platform()}  # fmt: skip
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("model name"))
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["ram_gb"] = round(int(mem) / 1024**2, 1)
    except (OSError, StopIteration, IndexError):
        pass
    return info


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="concessions in the synthetic ledger")
    parser.add_argument("--quick", action="store_true", help="100,000 concessions")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--db", help="a PostgreSQL URL (postgresql+psycopg://...) instead of SQLite files")
    parser.add_argument("--postgres", action="store_true", help="start a throw-away PostgreSQL server")
    parser.add_argument("--only", action="append", choices=OPERATIONS, help="measure only this operation (repeat)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a ledger command is stopped")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the start-up measurements (median)")
    parser.add_argument(
        "--full-verify", action="store_true", help="also time the full `ledger verify` (replays the whole journal)"
    )
    parser.add_argument("--workdir", type=Path, help="keep the generated files here (default: a temporary folder)")
    parser.add_argument("--realistic-dates", action="store_true",
                        help="the default (kept for old command lines): sources published after the events they "
                        "report, exchanges dated in order (bench/generate.py)")  # fmt: skip
    parser.add_argument("--independent-dates", action="store_true",
                        help="draw every date independently, as the figures before the fifth session did: about "
                        "half of the concessions then contradict a date they are compared with")  # fmt: skip
    args = parser.parse_args(argv)
    if args.quick:
        args.rows = 100_000
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; print the table; return (and optionally write) the figures."""
    args = parse(argv)
    server = None
    db_url = args.db
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            if args.postgres and db_url is None:
                import pgserver

                server = pgserver.Server().start()
                db_url = server.url
            report = {"machine": machine(), "command": " ".join(["python", "bench/run.py", *(argv or sys.argv[1:])])}
            if server is not None:
                report["machine"]["postgresql"] = server.version()
            report |= Bench(args, workdir, db_url).run()
        finally:
            if server is not None:
                server.stop()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
