"""Every command that writes ``-o FILE`` writes through a device or a named pipe instead of replacing it.

The atomic writers rename a temporary file over the target; done to ``/dev/null`` (a user silencing an
export) that turned the machine's /dev/null into a regular file. A named pipe stands in for the device
here, so a regression replaces a file in the test's folder, not the machine's /dev/null.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import threading
from pathlib import Path

import pytest

from tests.conftest import Run

AS_OF = "2026-06-01"
WRITERS = {
    "export jsonl": ("pipe.jsonl", ["export", "--format", "jsonl"]),
    "export json": ("pipe.json", ["export", "--format", "json"]),
    "export markdown": ("pipe.md", ["export", "--format", "markdown"]),
    "export csv zip": ("pipe.zip", ["export", "--format", "csv"]),
    "export plover": ("pipe.json", ["export", "--format", "plover"]),
    "export ftm": ("pipe.jsonl", ["export", "--format", "ftm"]),
    "audit table": ("pipe.txt", ["audit", "--fail-on", "never", "--as-of", AS_OF]),
    "audit csv": ("pipe.csv", ["audit", "-f", "csv", "--fail-on", "never", "--as-of", AS_OF]),
    "audit html": ("pipe.html", ["audit", "-f", "html", "--fail-on", "never", "--as-of", AS_OF]),
    "report markdown": ("pipe.md", ["report"]),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_output_to_a_named_pipe_is_written_through_not_replaced(
    run: Run, seeded: Path, tmp_path: Path, name: str
) -> None:
    if name == "export ftm" and importlib.util.find_spec("followthemoney") is None:
        pytest.skip("the ftm export needs the [ftm] extra")
    file_name, args = WRITERS[name]
    folder = tmp_path / "out"
    folder.mkdir()
    pipe = folder / file_name
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    result = run(*args, "-o", str(pipe))
    reader.join(timeout=30)
    if reader.is_alive():  # the command never opened the pipe: let the reader go (no reader left: ENXIO)
        with contextlib.suppress(OSError):
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=5)
    assert result.exit_code == 0, result.stderr
    assert pipe.is_fifo(), f"{name}: -o replaced the pipe with a regular file"
    assert received and received[0], f"{name}: nothing came through the pipe"
    assert [p.name for p in folder.iterdir()] == [file_name], "no temporary file left behind"
