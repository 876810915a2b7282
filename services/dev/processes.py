"""Starting helper processes in their own process group and stopping them for sure."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import IO, Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child between fork and exec: SIGTERM it if the parent dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def child_preexec() -> Callable[[], None] | None:
    """The preexec hook for our children: Linux can tie their life to ours, others cannot."""
    return _die_with_parent if sys.platform.startswith("linux") else None


def group_alive(pgid: int) -> bool:
    """Whether any process is left in the process group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def signal_group(pgid: int, sig: int) -> None:
    """Send a signal to a whole process group, if anything is left of it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def wait_group_gone(process: subprocess.Popen[bytes], deadline: float) -> bool:
    """Reap the leader and wait for the rest of its group; False if the deadline passes first."""
    while True:
        if process.poll() is not None and not group_alive(process.pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def stop_processes(processes: list[subprocess.Popen[bytes]], timeout: float) -> None:
    """SIGTERM every group (each child leads its own), wait up to `timeout`, then SIGKILL."""
    for process in processes:
        signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        if not wait_group_gone(process, deadline):
            signal_group(process.pid, signal.SIGKILL)
            wait_group_gone(process, time.monotonic() + 5.0)


def start_in_own_group(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    stdout: int | IO[Any] | None = None,
    stderr_pipe: bool = False,
    cwd: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start `argv` as the leader of a new session, so the terminal's Ctrl-C reaches only us."""
    if stderr_pipe:
        err: int | None = subprocess.PIPE
    else:
        err = subprocess.STDOUT if stdout is not None else None
    return subprocess.Popen(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=err,  # joined to stdout (one stream to prefix or to log) unless asked for apart
        start_new_session=True,
        # Only a prctl call runs between fork and exec: no lock is taken there.
        preexec_fn=child_preexec(),
    )


class OwnedServer:
    """An embedded server this stack started as its child process, and stops."""

    _process: subprocess.Popen[bytes] | None = None
    stop_timeout_seconds: float = 10.0

    def pid(self) -> int | None:
        """The server's pid, while it runs."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def alive(self) -> bool:
        """Whether the server we started still runs."""
        return self.pid() is not None

    def stop(self) -> None:
        """SIGTERM (the server saves what it keeps and exits), SIGKILL if it takes too long."""
        if self._process is not None:
            stop_processes([self._process], self.stop_timeout_seconds)
            self._process = None
