"""Starts `suoops` processes for tests, with their output in log files (never a full pipe)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ProcessGroup:
    """Named child processes; each one's output goes to `<log_dir>/<name>.log`."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        full_env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/tmp"),
            "SUOOPS_DATA_DIR": "/nonexistent/suoops",
            **env,
        }
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", *args],
            env=full_env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes[name] = proc
        return proc

    def logs(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_port(self, name: str, port: int, timeout: float = 60.0) -> None:
        """Wait until the process listens on the port, or fail with its log."""
        proc = self.processes[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.logs(name)}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        raise TimeoutError(f"{name} did not listen on {port}:\n{self.logs(name)}")

    def wait_log(self, name: str, text: str, timeout: float = 60.0) -> None:
        """Wait until the process has logged `text`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.logs(name):
                return
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"{name} exited:\n{self.logs(name)}")
            time.sleep(0.05)
        raise TimeoutError(f"{name} never logged {text!r}:\n{self.logs(name)}")

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything it started (its render children too)."""
        proc = self.processes.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def stop(self, name: str, timeout: float = 20.0) -> int:
        """SIGTERM, wait, then SIGKILL the whole group if it does not stop."""
        proc = self.processes.pop(name)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # any orphaned children
        return proc.returncode

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)
