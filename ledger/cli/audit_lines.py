"""The audit as CSV or JSON Lines, rendered check by check.

Each check's findings are sorted and turned into output lines as soon as the check is done, then let go:
no list of every finding, no row dictionaries, no whole-document string. The lines come out in the
order ``run_audit`` sorts findings (severity, check, record, message), byte for byte what rendering the
sorted list would write.
"""

from __future__ import annotations

import csv
import heapq
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from ledger.audit.registry import Finding, Severity
from ledger.io.writers import FORMULA_START

#: The columns of the CSV form, in order (report.COLUMNS).
CSV_HEADER = "severity,check,record_type,record,message,details\n"
_first = itemgetter(0)


class _Lines(list[str]):
    """A list that ``csv.writer`` writes to: one item per row, its line ending included."""

    def write(self, text: str) -> None:
        self.append(text)


#: First characters that make a spreadsheet run a cell as a formula, and the apostrophe that escapes them
#: (io.writers.csv_text, inlined: it runs for two cells of every finding).
_UNSAFE = frozenset((*FORMULA_START, "'"))


def csv_renderer() -> Callable[[list[Finding]], list[str]]:
    """Findings -> CSV lines, as ``render_rows(..., OutputFormat.CSV)`` writes the audit's rows: every cell
    escaped like ``csv_text`` (the details cell is a JSON object, which starts with ``{``, so it never needs it)."""
    lines = _Lines()
    writer = csv.writer(lines, lineterminator="\n")
    details = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
    unsafe = _UNSAFE

    def safe(text: str) -> str:
        return "'" + text if text[:1] in unsafe else text

    def render(findings: list[Finding]) -> list[str]:
        lines.clear()
        names: dict[tuple[str, str | None], tuple[str, str]] = {}  # (check, record type): both escaped once
        rows = []
        for f in findings:
            fixed = names.get((f.check, f.record_type))
            if fixed is None:
                fixed = names[(f.check, f.record_type)] = (safe(f.check), safe(f.record_type or ""))
            record, message = f.record_id or "", f.message
            rows.append((f.severity.value, fixed[0], fixed[1], "'" + record if record[:1] in unsafe else record,
                         "'" + message if message[:1] in unsafe else message, details(f.details)))  # fmt: skip
        writer.writerows(rows)
        return list(lines)

    return render


def jsonl_renderer() -> Callable[[list[Finding]], list[str]]:
    """Findings -> JSON Lines, as ``render_rows(..., OutputFormat.JSONL)`` writes the audit's rows."""
    encode = json.JSONEncoder(ensure_ascii=False, default=str).encode

    def render(findings: list[Finding]) -> list[str]:
        return [
            encode({"severity": f.severity.value, "check": f.check, "record_type": f.record_type,
                    "record": f.record_id, "message": f.message, "details": f.details}) + "\n"
            for f in findings
        ]  # fmt: skip

    return render


@dataclass
class Rendered:
    """The audit's lines, grouped by (severity rank, check), and the counts the summary line needs."""

    runs: dict[tuple[int, str], list[tuple[list[tuple[str, str, str]], list[str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    by_severity: Counter[Severity] = field(default_factory=Counter)
    by_check: Counter[str] = field(default_factory=Counter)

    def lines(self) -> Iterator[str]:
        """Every line in the audit's order; a group filled by more than one run is merged (stably)."""
        for group in sorted(self.runs):
            runs = self.runs[group]
            if len(runs) == 1:
                yield from runs[0][1]
            else:
                merged = heapq.merge(*(zip(keys, lines, strict=True) for keys, lines in runs), key=_first)
                yield from (line for _key, line in merged)

    def fails_at(self, rank: int) -> bool:
        """Whether a finding at this rank (0 error, 1 warning, 2 info) or more severe exists."""
        return any(group[0] <= rank for group in self.runs)


def render_checks(batches: Iterable[list[Finding]], render: Callable[[list[Finding]], list[str]]) -> Rendered:
    """Render each check's findings (from ``registry.each_check``) into lines, grouped for the output order."""
    out = Rendered()
    for found in batches:
        groups: dict[tuple[int, str], list[Finding]] = defaultdict(list)
        for f in sorted(found, key=Finding.sort_key):
            groups[(f.severity.rank, f.check)].append(f)
        for group, findings in groups.items():
            keys = [(f.record_type or "", f.record_id or "", f.message) for f in findings]
            out.runs[group].append((keys, render(findings)))
            out.by_severity[findings[0].severity] += len(findings)
            out.by_check[group[1]] += len(findings)
    return out


def write_lines(chunks: Iterable[str], write: Callable[[str], Any], *, size: int = 5_000) -> None:
    """Write the lines in chunks of ``size`` (one write call per chunk)."""
    chunk: list[str] = []
    for line in chunks:
        chunk.append(line)
        if len(chunk) >= size:
            write("".join(chunk))
            chunk.clear()
    if chunk:
        write("".join(chunk))
