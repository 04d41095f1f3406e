"""A throw-away PostgreSQL server for the test session, started from the machine's own binaries.

``PgServer.start()`` runs ``initdb`` into a fresh temporary directory and ``pg_ctl start`` on a free
port of 127.0.0.1 (and a unix socket in the same directory). When the tests run as root the server
runs as the ``postgres`` operating-system user, which owns the directory. Host connections need a
password (scram-sha-256), so a test can prove that a wrong password gives a clean error.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

PASSWORD = "s3cret-test-pw"
SUPERUSER = "postgres"


def find_bin_dir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres: PATH first, then the Debian layout."""
    on_path = shutil.which("initdb")
    candidates = [Path(on_path).parent] if on_path else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for directory in candidates:
        if all((directory / name).exists() for name in ("initdb", "pg_ctl", "postgres")):
            return directory
    return None


def _runuser() -> str | None:
    """``runuser``, which lives in sbin: a user's PATH often lacks it."""
    sbin = (p for p in ("/usr/sbin/runuser", "/sbin/runuser") if Path(p).exists())
    return shutil.which("runuser") or next(sbin, None)


def cannot_start() -> str | None:
    """Why no server can be started here (None when one can): PostgreSQL refuses to run as root, so root
    needs the ``postgres`` operating-system user and ``runuser`` to run it as that user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        return f"running as root, and there is no {SUPERUSER!r} operating-system user to run the server as"
    if _runuser() is None:
        return "running as root, and runuser (to run the server as postgres) is not in PATH, /usr/sbin or /sbin"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """One running server; ``url(name)`` names a database on it."""

    bin_dir: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ledger-pg-")))
    port: int = field(default_factory=_free_port)
    _names: count[int] = field(default_factory=count)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _as_server_user(self, *args: str) -> list[str]:
        if os.geteuid() == 0:
            return [_runuser() or "runuser", "-u", SUPERUSER, "--", *args]
        return list(args)

    def start(self, attempts: int = 3) -> PgServer:
        """initdb and start, retrying on a busy machine; RuntimeError with the server's log when it never comes up."""
        for attempt in range(attempts):
            try:
                return self._start()
            except RuntimeError:
                self.stop()
                if attempt == attempts - 1:
                    raise
                self.root, self.port = Path(tempfile.mkdtemp(prefix="ledger-pg-")), _free_port()
        raise AssertionError("unreachable")

    def _start(self) -> PgServer:
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, SUPERUSER, SUPERUSER)
            shutil.chown(pwfile, SUPERUSER, SUPERUSER)
        self._check(
            str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "-E", "UTF8", "--locale=C",
            "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
        )  # fmt: skip
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        self._check(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip
        return self

    def _check(self, *args: str) -> None:
        done = subprocess.run(self._as_server_user(*args), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise RuntimeError(f"{' '.join(args[:1])} failed ({done.returncode}): {done.stderr}{done.stdout}\n{log}")

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        with contextlib.suppress(Exception):
            subprocess.run(
                self._as_server_user(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"),
                capture_output=True,
                check=False,
                timeout=60,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres", *, password: str = PASSWORD) -> str:
        """A SQLAlchemy URL (psycopg 3) for one database on this server."""
        return f"postgresql+psycopg://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, password=PASSWORD, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql.encode())

    def create_database(self, name: str | None = None, *, template: str = "template0") -> str:
        """A new database, empty or a copy of ``template`` (a file-level copy: fast); returns its name."""
        name = name or f"t{os.getpid()}_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        return name

    def drop_database(self, name: str) -> None:
        """Drop a test's database, disconnecting anyone still on it."""
        with contextlib.suppress(Exception):
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
