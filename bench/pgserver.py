"""A throw-away PostgreSQL server from the machine's own binaries, on a free port of 127.0.0.1.

Run as root, the server runs as the ``postgres`` OS user (PostgreSQL refuses to run as root). The data
directory lives in a temporary folder and is removed when the server stops.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise RuntimeError(
            f"{name} not found: install PostgreSQL server binaries or pass --db postgresql+psycopg://..."
        )
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """Start with ``start()``, stop with ``stop()``; ``url`` is the SQLAlchemy URL of its ``postgres`` database."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="ledger-bench-pg-"))
        self.data = self.directory / "data"
        self.port = _free_port()
        self.user: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.user, *args], check=True, capture_output=True, text=True)

    def start(self) -> Server:
        """initdb (trust auth, UTF-8) and start; returns self."""
        if self.user:
            shutil.chown(self.directory, "postgres")
        self._run(_binary("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C")  # fmt: skip
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(_binary("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"),
                  "-w", "start")  # fmt: skip
        return self

    def version(self) -> str:
        """The server's version string."""
        out = subprocess.run([_binary("pg_ctl"), "--version"], capture_output=True, text=True, check=False)
        return out.stdout.strip()

    def stop(self) -> None:
        """Stop the server and remove its files."""
        try:
            self._run(_binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def create_database(url: str, name: str) -> str:
    """Create (or re-create) database ``name`` on the server of ``url``; returns its URL."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"
