"""Import-file readers: strict parsing with file and line in every error."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.errors import InvalidInput
from ledger.io.readers import read


def _read(tmp_path: Path, name: str, text: str) -> object:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read(path).data


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &x 1\nb: *x\n", "1: YAML anchors and aliases"),
        ("a: 1\na: 2\n", ":2: duplicate key 'a'"),
        ("a: .nan\n", ":1: .nan is not allowed"),
        ("a: [1, 2\n", "not valid YAML"),
        ("---\na: 1\n---\nb: 2\n", "exactly one YAML document"),
    ],
)
def test_yaml_rejections(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        _read(tmp_path, "f.yaml", text)


def test_yaml_keeps_implicit_values_as_text(tmp_path: Path) -> None:
    data = _read(tmp_path, "f.yaml", "a: 5_000\nb: yes\nc: 2025-12-13\nd: 12\ne: true\nf: '12'\ng: ~\n")
    assert data == {"a": "5_000", "b": "yes", "c": "2025-12-13", "d": 12, "e": True, "f": "12", "g": None}


def test_yaml_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("concessions:\n  - id: a\n    quantity: 3\n", encoding="utf-8")
    document = read(path)
    assert document.line_of(("concessions", 0, "quantity")) == 3
    assert document.where(("concessions", 0, "quantity", "deeper")) == f"{path}:3: concessions[0].quantity.deeper"


@pytest.mark.parametrize(
    ("text", "message"),
    [('{"a": 1, "a": 2}', "duplicate key 'a'"), ('{"a": NaN}', "NaN is not allowed"), ('{"a": ', "not valid JSON")],
)
def test_json_rejections(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        _read(tmp_path, "f.json", text)


def test_jsonl_types_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_text('{"type": "party", "id": "by"}\n\n{"type": "party", "id": "us"}\n', encoding="utf-8")
    document = read(path)
    assert document.data == {"parties": [{"id": "by"}, {"id": "us"}]}
    assert document.line_of(("parties", 1)) == 3
    path.write_text('{"type": "bogus"}\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        read(path)
    assert f"{path}:1: type: 'bogus'" in str(error.value)


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        read(tmp_path / "missing.yaml")
    with pytest.raises(InvalidInput, match="cannot tell the format"):
        _read(tmp_path, "f.txt", "")
    (tmp_path / "latin.yaml").write_bytes(b"a: \xe9\n")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read(tmp_path / "latin.yaml")
