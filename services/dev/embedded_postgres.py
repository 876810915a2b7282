"""PostgreSQL from the `pgserver` package, on a unix socket, its data kept under the data dir."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil
import psycopg
from psycopg import sql

DATABASE = "suoops"
USER = "postgres"  # pgserver's initdb makes this superuser, trusted on the socket
STOP_TIMEOUT_SECONDS = 60


class EmbeddedPostgres:
    """A private PostgreSQL server in `<data_dir>/pgdata`, reached over its unix socket."""

    def __init__(self, data_dir: Path, database: str = DATABASE) -> None:
        self.pgdata = (data_dir / "pgdata").resolve()
        self.database = database
        self._server: Any = None

    def start(self) -> str:
        """Start the server (or adopt one left running on this pgdata); return its URL."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        _forget_stale_pid_file(self.pgdata)
        postgres_server = _import_pgserver().PostgresServer
        # The constructor, not pgserver.get_server(): that caches one handle per pgdata in the
        # process, which would hand back a stopped server after stop() and start() again.
        # cleanup_mode=None: we stop the server ourselves (its own atexit stop is skipped
        # whenever a crashed earlier run left its pid in pgserver's handle list).
        self._server = postgres_server(self.pgdata, cleanup_mode=None)
        self._ensure_database()
        return self.url

    @property
    def socket_dir(self) -> Path:
        """The directory of the server's unix socket (pgdata unless that path is too long)."""
        return Path(self._info().socket_dir)

    @property
    def port(self) -> int:
        """The port in the socket's name (no TCP listener)."""
        return int(self._info().port or 5432)

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database, psycopg 3 over the unix socket."""
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql+psycopg://{USER}@/{self.database}?host={host}&port={self.port}"

    def connect(self, database: str | None = None) -> psycopg.Connection[Any]:
        """A plain psycopg connection (autocommit), for set-up and tests."""
        return psycopg.connect(
            host=str(self.socket_dir),
            port=self.port,
            user=USER,
            dbname=database or self.database,
            autocommit=True,
        )

    def pid(self) -> int | None:
        """The postmaster's pid, when it runs."""
        return _running_postmaster_pid(self.pgdata)

    def stop(self) -> None:
        """Fast shutdown (clients are cut off, data is flushed); safe to call when not running."""
        pid = _running_postmaster_pid(self.pgdata)
        self._server = None
        if pid is None:
            return
        pg_ctl = _bin_dir() / "pg_ctl"
        argv = [str(pg_ctl), "-D", str(self.pgdata), "-w", "-t", str(STOP_TIMEOUT_SECONDS)]
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            subprocess.run(
                [*argv, "-m", "fast", "stop"],
                user=_system_user(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=STOP_TIMEOUT_SECONDS + 10,
                check=True,
            )
        if _running_postmaster_pid(self.pgdata) is not None:
            _kill_postmaster(pid)

    def _info(self) -> Any:
        if self._server is None:
            raise RuntimeError("the embedded PostgreSQL is not started")
        return self._server.get_postmaster_info()

    def _ensure_database(self) -> None:
        with self.connect("postgres") as conn:
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)
            ).fetchone()
            if found is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))


def _import_pgserver() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset; pgserver copes.
        warnings.simplefilter("ignore")
        import pgserver
    return pgserver


def _bin_dir() -> Path:
    return Path(_import_pgserver().__file__).parent / "pginstall" / "bin"


def _system_user() -> str | None:
    # As root pgserver runs PostgreSQL as its own "pgserver" user (initdb refuses root).
    return "pgserver" if os.geteuid() == 0 else None


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        first = (pgdata / "postmaster.pid").read_text().splitlines()[0]
        return int(first)
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _running_postmaster_pid(pgdata: Path) -> int | None:
    pid = _postmaster_pid(pgdata)
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        return pid if process.is_running() and process.name() == "postgres" else None
    except psutil.Error:
        return None


def _forget_stale_pid_file(pgdata: Path) -> None:
    """A postmaster.pid naming a process that is not PostgreSQL (a reboot reused the pid)."""
    if _postmaster_pid(pgdata) is not None and _running_postmaster_pid(pgdata) is None:
        (pgdata / "postmaster.pid").unlink(missing_ok=True)


def _kill_postmaster(pid: int) -> None:
    """Immediate shutdown (SIGQUIT), then SIGKILL: crash recovery replays the WAL next start."""
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if not psutil.pid_exists(pid):
                return
            time.sleep(0.1)
