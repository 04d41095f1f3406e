"""Read import files (YAML, TOML, JSON, JSONL) into plain data, remembering the line of every value.

Parsing is strict: YAML anchors and aliases, duplicate keys, NaN and Infinity are errors, and YAML's
implicit conversions (``yes`` -> True, ``1_000`` -> 1000, ``2025-12-13`` -> a date) are not applied:
such values stay text, so validation reports them instead of silently changing them.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.errors import InvalidInput

Location = tuple[str | int, ...]
FORMATS = ("yaml", "toml", "json", "jsonl", "csv")
_SUFFIXES = {
    ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
    ".csv": "csv", ".zip": "csv",
}  # fmt: skip
#: JSONL ``type`` values and the section of the ledger file they go to.
JSONL_SECTIONS = {
    "source": "sources",
    "party": "parties",
    "alias": "aliases",
    "concession": "concessions",
    "exchange": "exchanges",
    "link": "links",
    "total": "totals",
    "claim": "claims",
    "citation": "citations",
}
MAX_FILE_BYTES = 2 * 1024**3


@dataclass
class Document:
    """Parsed content of one file, with the line where each value starts (1-based)."""

    name: str
    data: Any
    lines: dict[Location, int] = field(default_factory=dict)

    def line_of(self, location: Location) -> int | None:
        """The line of the value at ``location``, or of its nearest enclosing value."""
        for end in range(len(location), -1, -1):
            line = self.lines.get(tuple(location[:end]))
            if line is not None:
                return line
        return None

    def where(self, location: Location) -> str:
        """``file:line: section[3].field`` for messages."""
        line = self.line_of(location)
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in location).lstrip(".")
        return f"{self.name}:{line}: {path}" if line else f"{self.name}: {path}"


def detect_format(path: Path, given: str | None) -> str:
    """The format named by ``--format`` or by the file's extension."""
    if given:
        if given not in FORMATS:
            raise InvalidInput(f"unknown format {given!r}; use one of: {', '.join(FORMATS)}")
        return given
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(f"{path}: cannot tell the format from the extension; pass --format ({', '.join(FORMATS)})")
    return fmt


def read(path: Path, fmt: str | None = None, *, record_type: str | None = None) -> Document:
    """Parse one import file; errors name the file and line. CSV takes its record type from the file name."""
    fmt = detect_format(path, fmt)
    if fmt == "csv":
        from ledger.io.tables import read_csv

        return read_csv(path, record_type)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(f"{path}: larger than the {MAX_FILE_BYTES // 1024**3} GiB import limit")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text (byte {exc.start})") from None
    name = str(path)
    if fmt == "yaml":
        return _read_yaml(name, text)
    if fmt == "toml":
        try:
            return Document(name, tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInput(f"{name}: not valid TOML ({exc})") from None
    if fmt == "json":
        return Document(name, _json(name, text, 1), {(): 1})
    return _read_jsonl(name, text)


# --- JSON ----------------------------------------------------------------------------------------


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) < len(pairs):  # a key repeats: name the first one that does
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed (numbers must be finite)")


def _json(name: str, text: str, first_line: int) -> Any:
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{name}:{first_line + exc.lineno - 1}:{exc.colno}: not valid JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"{name}:{first_line}: {exc}") from None


def _read_jsonl(name: str, text: str) -> Document:
    sections: dict[str, list[Any]] = {}
    lines: dict[Location, int] = {}
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = _json(name, line, number)
        except InvalidInput as exc:
            problems.append(exc.message)
            continue
        kind = record.pop("type", None) if isinstance(record, dict) else None
        section = JSONL_SECTIONS.get(kind) if isinstance(kind, str) else None
        if section is None:
            problems.append(f"{name}:{number}: type: {kind!r} is not one of {', '.join(JSONL_SECTIONS)}")
            continue
        items = sections.setdefault(section, [])
        lines[(section, len(items))] = number
        items.append(record)
    if problems:
        raise InvalidInput(f"{name}: cannot read every line:", problems=problems)
    return Document(name, sections, lines)


def stream_jsonl(path: Path) -> Iterator[tuple[int, str | None, Any, int]]:
    """Lines of a JSONL file one at a time: (line, type, record or the InvalidInput it raised, bytes read)."""
    name = str(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        position = 0
        for number, raw in enumerate(handle, start=1):
            position += len(raw)
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                yield number, None, InvalidInput(f"{name}:{number}: not UTF-8 text (byte {exc.start})"), position
                continue
            if not line.strip():
                continue
            try:
                record = _json(name, line, number)
            except InvalidInput as exc:
                yield number, None, exc, position
                continue
            kind = record.pop("type", None) if isinstance(record, dict) else None
            if not isinstance(kind, str) or kind not in JSONL_SECTIONS:
                problem = InvalidInput(f"{name}:{number}: type: {kind!r} is not one of {', '.join(JSONL_SECTIONS)}")
                yield number, None, problem, position
                continue
            yield number, kind, record, position


# --- YAML ----------------------------------------------------------------------------------------

_INT = re.compile(r"^[-+]?[0-9]+$")
_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")
_NOT_FINITE = re.compile(r"^[-+]?\.(inf|Inf|INF|nan|NaN|NAN)$")


def _read_yaml(name: str, text: str) -> Document:
    import yaml

    lines: dict[Location, int] = {}
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark is not None else name
        raise InvalidInput(f"{where}: not valid YAML ({exc.problem})") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{name}: not valid YAML ({exc})") from None
    if len(nodes) != 1:
        raise InvalidInput(f"{name}: expected exactly one YAML document, found {len(nodes)}")
    _check_no_anchors(name, text)
    return Document(name, _yaml_value(name, nodes[0], (), lines), lines)


def _check_no_anchors(name: str, text: str) -> None:
    import yaml

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            line = event.start_mark.line + 1 if event.start_mark is not None else "?"
            raise InvalidInput(f"{name}:{line}: YAML anchors and aliases (&{anchor} / *{anchor}) are not allowed")


def _yaml_value(name: str, node: Any, location: Location, lines: dict[Location, int]) -> Any:
    import yaml

    lines[location] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                raise InvalidInput(f"{name}:{key_node.start_mark.line + 1}: mapping keys must be plain text")
            if key in out:
                raise InvalidInput(f"{name}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
            out[key] = _yaml_value(name, value_node, (*location, key), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_value(name, item, (*location, i), lines) for i, item in enumerate(node.value)]
    return _yaml_scalar(name, node)


def _yaml_scalar(name: str, node: Any) -> Any:
    value: str = node.value
    if node.style is not None or node.tag == "tag:yaml.org,2002:str":
        return value
    if value in ("", "~", "null", "Null", "NULL"):
        return None
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    if _INT.match(value):
        return int(value)
    if _NOT_FINITE.match(value):
        raise InvalidInput(f"{name}:{node.start_mark.line + 1}: {value} is not allowed (numbers must be finite)")
    if _FLOAT.match(value):
        return float(value)
    return value
