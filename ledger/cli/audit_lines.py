"""The audit as CSV or JSON Lines, rendered check by check.

Each check's findings are sorted and turned into output lines as soon as the check is done, then let go:
no list of every finding, no row dictionaries, no whole-document string. The lines come out in the
order ``run_audit`` sorts findings (severity, check, record, message), byte for byte what rendering the
sorted list would write.
"""

from __future__ import annotations

import codecs
import csv
import heapq
import io
import itertools
import json
import tempfile
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from operator import itemgetter
from typing import IO, Any, NamedTuple

from ledger.audit.registry import SEVERITY_RANK, Finding, Severity, collector_paused
from ledger.io.writers import FORMULA_START

#: The columns of the CSV form, in order (report.COLUMNS).
CSV_HEADER = "severity,check,record_type,record,message,details\n"
_first = itemgetter(0)
#: How the audit's output is sorted within a group: (record type, record ID, message).
Key = tuple[str, str, str]


class LineFormat(NamedTuple):
    """One output form: findings -> lines, and back from text to (sort key, line) when runs must be merged."""

    render: Callable[[list[Finding]], list[str]]
    key_of: Callable[[str], Key]


class _Sink:
    """What ``csv.writer`` writes to: ``write`` is a list's own ``append`` (no Python call per row), so the
    list gets one item per row, its line ending included."""

    __slots__ = ("write",)

    def __init__(self, lines: list[str]) -> None:
        self.write = lines.append


#: First characters that make a spreadsheet run a cell as a formula, and the apostrophe that escapes them
#: (io.writers.csv_text, inlined: it runs for two cells of every finding).
_UNSAFE = frozenset((*FORMULA_START, "'"))


def _encoder(settings: json.JSONEncoder) -> Callable[[Any], str]:
    """``settings.encode``, with the C encoder built once instead of once per call (``JSONEncoder.iterencode``
    builds it for every object): the same text, a third of the time per finding. Without the circular-reference
    check (findings' details are plain trees), which only changes the error a cyclic value would raise."""
    if c_make_encoder is None or settings.indent is not None:  # no C accelerator: the plain encoder
        return settings.encode
    assert not settings.ensure_ascii  # encode_basestring is the non-ASCII string encoder
    encoder = c_make_encoder(
        None, settings.default, encode_basestring, None, settings.key_separator, settings.item_separator,
        settings.sort_keys, settings.skipkeys, settings.allow_nan,
    )  # fmt: skip

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode


def csv_renderer(*, general: bool = False) -> LineFormat:
    """Findings -> CSV lines, as ``render_rows(..., OutputFormat.CSV)`` writes the audit's rows: every cell
    escaped like ``csv_text`` (the details cell is a JSON object, which starts with ``{``, so it never needs it).

    Lines are built by hand (``_csv_line``): the quoting ``csv.writer`` applies, a third of its time per row.
    ``general=True`` writes them through ``csv.writer`` instead: the reference a test compares the fast lines with."""
    details = _encoder(json.JSONEncoder(ensure_ascii=False, sort_keys=True))
    return LineFormat(_csv_writer_render(details) if general else _csv_fast_render(details), _csv_key)


def _csv_writer_render(details: Callable[[Any], str]) -> Callable[[list[Finding]], list[str]]:
    lines: list[str] = []
    writer = csv.writer(_Sink(lines), lineterminator="\n")
    unsafe = _UNSAFE

    def safe(text: str) -> str:
        return "'" + text if text[:1] in unsafe else text

    def render(findings: list[Finding]) -> list[str]:  # the severity is a StrEnum: written as its value
        names: dict[tuple[str, str | None], tuple[str, str]] = {}  # (check, record type): both escaped once
        rows = []
        for f in findings:
            fixed = names.get((f.check, f.record_type))
            if fixed is None:
                fixed = names[(f.check, f.record_type)] = (safe(f.check), safe(f.record_type or ""))
            record, message = f.record_id or "", f.message
            rows.append((f.severity, fixed[0], fixed[1], "'" + record if record[:1] in unsafe else record,
                         "'" + message if message[:1] in unsafe else message, details(f.details)))  # fmt: skip
        writer.writerows(rows)
        done = lines[:]
        lines.clear()
        return done

    return render


def _csv_cell(text: str) -> str:
    """One cell as ``csv.writer`` (minimal quoting, ``,`` and ``"``, line feed as line end) writes it: quoted
    when it holds a comma, a quote or a line feed, its quotes doubled; anything else (a lone carriage return
    included) as it is."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text:
        return '"' + text + '"'
    return text


def _csv_fast_render(details: Callable[[Any], str]) -> Callable[[list[Finding]], list[str]]:
    unsafe, cell = _UNSAFE, _csv_cell

    def prefix(f: Finding) -> str:
        """``severity,check,record type,`` escaped and quoted: the same for every finding of a group."""
        check, record_type = f.check, f.record_type or ""
        check = "'" + check if check[:1] in unsafe else check
        record_type = "'" + record_type if record_type[:1] in unsafe else record_type
        return f"{cell(str(f.severity))},{cell(check)},{cell(record_type)},"

    def render(findings: list[Finding]) -> list[str]:
        prefixes: dict[tuple[Severity, str, str | None], str] = {}
        cells: dict[int, str] = {}  # id(details) -> its cell: checks share one details object among many findings
        lines: list[str] = []
        add = lines.append
        for f in findings:
            head = prefixes.get((f.severity, f.check, f.record_type))
            if head is None:
                head = prefixes[(f.severity, f.check, f.record_type)] = prefix(f)
            record, message, text = f.record_id or "", f.message, cells.get(id(f.details))
            if record[:1] in unsafe:
                record = "'" + record
            if message[:1] in unsafe:
                message = "'" + message
            if text is None:  # (the findings hold their details while this runs: an id names one object)
                text = details(f.details)
                # _csv_cell, inlined (three cells of every finding): the details hold quotes unless empty
                if '"' in text:
                    text = '"' + text.replace('"', '""') + '"'
                elif "," in text:  # details that are not a dictionary, such as a list of numbers
                    text = '"' + text + '"'
                cells[id(f.details)] = text
            if '"' in message or "," in message or "\n" in message:
                message = cell(message)
            if '"' in record or "," in record or "\n" in record:
                record = cell(record)
            add(f"{head}{record},{message},{text}\n")
        return lines

    return render


def _plain(cell: str) -> str:
    """A cell's text without the apostrophe ``csv_renderer`` put before formula-looking text."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in _UNSAFE else cell


def _csv_key(line: str) -> Key:
    """The sort key of a line ``csv_renderer`` wrote. csv.writer quotes a cell holding a comma, a quote or a
    line feed (doubling its quotes) and writes any other cell as it is (a lone carriage return included), so
    the cells are read here rather than by ``csv.reader``, which would take a lone carriage return for the end
    of the row."""
    cells: list[str] = []
    at, end = 0, len(line) - 1  # the line ends with its line feed
    while len(cells) < 5:
        if line.startswith('"', at):
            parts, at = [], at + 1
            while True:
                close = line.index('"', at)
                if line.startswith('"', close + 1):
                    parts.append(line[at : close + 1])
                    at = close + 2
                else:
                    parts.append(line[at:close])
                    at = close + 1
                    break
            cells.append("".join(parts))
        else:
            comma = line.find(",", at, end)
            stop = comma if comma >= 0 else end
            cells.append(line[at:stop])
            at = stop
        at += 1  # the comma
    return _plain(cells[2]), _plain(cells[3]), _plain(cells[4])


def jsonl_renderer(*, general: bool = False) -> LineFormat:
    """Findings -> JSON Lines, as ``render_rows(..., OutputFormat.JSONL)`` writes the audit's rows.

    The fixed start of a line (severity, check, record type) is encoded once per group and the record and
    message as strings; ``general=True`` encodes a dictionary per finding instead (the reference of a test)."""
    encode = _encoder(json.JSONEncoder(ensure_ascii=False, default=str))

    def general_render(findings: list[Finding]) -> list[str]:
        return [
            encode({"severity": f.severity, "check": f.check, "record_type": f.record_type,
                    "record": f.record_id, "message": f.message, "details": f.details}) + "\n"
            for f in findings
        ]  # fmt: skip

    def render(findings: list[Finding]) -> list[str]:
        prefixes: dict[tuple[Severity, str, str | None], str] = {}
        encoded: dict[int, str] = {}  # id(details) -> its JSON (see the CSV form)
        lines: list[str] = []
        add, text = lines.append, encode_basestring
        for f in findings:
            head = prefixes.get((f.severity, f.check, f.record_type))
            if head is None:
                head = prefixes[(f.severity, f.check, f.record_type)] = encode(
                    {"severity": f.severity, "check": f.check, "record_type": f.record_type}
                )[:-1]  # without its closing brace
            record, message = f.record_id, f.message  # (anything but text, such as None, as the encoder writes it)
            found = encoded.get(id(f.details))
            if found is None:
                found = encoded[id(f.details)] = encode(f.details)
            add(
                f'{head}, "record": {text(record) if record.__class__ is str else encode(record)}, "message": '
                f'{text(message) if message.__class__ is str else encode(message)}, "details": {found}}}\n'
            )
        return lines

    return LineFormat(general_render if general else render, _jsonl_key)


def _jsonl_key(line: str) -> Key:
    """The sort key of a line ``jsonl_renderer`` wrote."""
    row = json.loads(line)
    return row["record_type"] or "", row["record"] or "", row["message"]


class Run(NamedTuple):
    """Where one check's sorted lines of one group lie: in which spill file, from where, how long each line is."""

    order: int  # the check's position in the audit's list of checks: runs of a group merge in this order
    spill: int  # 0: this process's spill file; 1, 2...: another process's (Rendered.adopt)
    start: int
    size: int
    lengths: array[int]  # characters per line: enough to cut a run back into lines


@dataclass
class Rendered:
    """The audit's lines, spilled to a temporary file run by run, grouped by (severity rank, check), and the
    counts the summary line needs. Memory holds only where each run lies in the file."""

    key_of: Callable[[str], Key]
    spill: IO[bytes] = field(default_factory=lambda: tempfile.TemporaryFile())  # noqa: SIM115  (closed by close())
    runs: dict[tuple[int, str], list[Run]] = field(default_factory=lambda: defaultdict(list))
    by_severity: Counter[Severity] = field(default_factory=Counter)
    by_check: Counter[str] = field(default_factory=Counter)
    others: list[IO[bytes]] = field(default_factory=list)  # spill files another process wrote (adopt)

    def add(self, group: tuple[int, str], pieces: Iterable[list[str]], order: int = 0) -> None:
        """Append one run (sorted lines, given a batch at a time) of a group to the spill file."""
        start, lengths = self.spill.seek(0, io.SEEK_END), array("L")
        for lines in pieces:
            self.spill.write("".join(lines).encode("utf-8"))
            lengths.extend(map(len, lines))
        self.runs[group].append(Run(order, 0, start, self.spill.tell() - start, lengths))

    def adopt(self, spill: IO[bytes], runs: Iterable[tuple[tuple[int, str], Run]], by_severity: dict[str, int],
              by_check: dict[str, int]) -> None:  # fmt: skip
        """Take over the runs another process rendered into ``spill`` (their ``spill`` fields are ignored)."""
        self.others.append(spill)
        for group, run in runs:
            self.runs[group].append(run._replace(spill=len(self.others)))
        self.by_severity.update({Severity(name): count for name, count in by_severity.items()})
        self.by_check.update(by_check)

    def _bytes(self, run: Run, chunk: int = 1 << 20) -> Iterator[bytes]:
        spill, size = self.spill if run.spill == 0 else self.others[run.spill - 1], run.size
        spill.seek(run.start)
        while size > 0:
            data = spill.read(min(chunk, size))
            if not data:
                return
            size -= len(data)
            yield data

    def _read(self, run: Run) -> Iterator[str]:
        decoder = codecs.getincrementaldecoder("utf-8")()
        for data in self._bytes(run):
            yield decoder.decode(data)
        yield decoder.decode(b"", final=True)

    def chunks(self) -> Iterator[str]:
        """The text of every line in the audit's order, in pieces of about a megabyte; a group filled by more
        than one run (a check that reports under another check's name) is merged stably by the sort key, its
        runs taken in the order of the checks that wrote them."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        for data in self.byte_chunks():
            yield decoder.decode(data)
        yield decoder.decode(b"", final=True)

    def byte_chunks(self) -> Iterator[bytes]:
        """``chunks``, encoded as UTF-8: a group of one run is copied from the spill file as it lies there (no
        decoding and encoding again of most of the output)."""
        for group in sorted(self.runs):
            runs = sorted(self.runs[group], key=_first)
            if len(runs) == 1:
                yield from self._bytes(runs[0])
                continue
            merged = heapq.merge(*(self._keyed(run) for run in runs), key=_first)
            yield "".join(line for _key, line in merged).encode("utf-8")

    def _keyed(self, run: Run) -> Iterator[tuple[Key, str]]:
        text, at = "".join(self._read(run)), 0
        for length in run.lengths:
            line = text[at : at + length]
            at += length
            yield self.key_of(line), line

    def close(self) -> None:
        """Remove the spill files."""
        self.spill.close()
        for spill in self.others:
            spill.close()

    def fails_at(self, rank: int) -> bool:
        """Whether a finding at this rank (0 error, 1 warning, 2 info) or more severe exists."""
        return any(group[0] <= rank for group in self.runs)


def render_checks(
    batches: Iterable[list[Finding]],
    form: LineFormat,
    *,
    batch: int = 20_000,
    orders: Iterable[int] | None = None,
    out: Rendered | None = None,
) -> Rendered:
    """Render each check's findings (from ``registry.each_check``) into lines, grouped for the output order,
    and spill them (into ``out`` when given). ``orders``: each check's position in the audit's list of checks
    (by default 0, 1, 2...). Each group's findings are sorted and let go ``batch`` at a time as they are
    rendered."""
    out, rank = out if out is not None else Rendered(form.key_of), SEVERITY_RANK
    with collector_paused():  # (the checks run as ``batches`` is read)
        for order, found in zip(itertools.count() if orders is None else orders, batches, strict=False):
            groups: dict[tuple[int, str], list[Finding]] = defaultdict(list)
            for f in found:
                groups[(rank[f.severity], f.check)].append(f)
            found.clear()  # the caller's list: each group's findings go as they are rendered
            for group in list(groups):
                findings = _sorted(groups.pop(group))  # the unsorted list goes: the sorted one goes batch by batch
                out.by_severity[findings[0].severity] += len(findings)
                out.by_check[group[1]] += len(findings)
                out.add(group, _rendered(findings, form.render, batch), order)
    return out


#: A group's order (severity and check are the group's): record type, record ID, message, read in C.
_IN_GROUP = itemgetter(2, 3, 4)


def _sorted(findings: list[Finding]) -> list[Finding]:
    """One group's findings in ``Finding.sort_key`` order. Sorted by the fields themselves, which is the same
    order whenever it succeeds (a None is then only ever compared with a None, as "" with ""); a None beside
    text stops it with a TypeError, and the findings, left untouched, are sorted by ``sort_key``."""
    try:
        return sorted(findings, key=_IN_GROUP)
    except TypeError:
        return sorted(findings, key=Finding.sort_key)


def _rendered(findings: list[Finding], render: Callable[[list[Finding]], list[str]], batch: int) -> Iterator[list[str]]:
    """The findings' lines, ``batch`` findings at a time, dropping each batch of findings once rendered."""
    while findings:
        yield render(findings[:batch])
        del findings[:batch]
