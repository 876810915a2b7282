"""Helpers for tests that run processes: read their output as it comes, check pids are gone."""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import time
from typing import IO

import psutil


class LineReader:
    """Collects a process's output lines on a thread, so a test can wait for one."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self._queue.put(raw.decode("utf-8", "replace").rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first new line matching `pattern`; AssertionError (with the output) on timeout."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern!r}:\n" + self.text())
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"output ended before {pattern!r}:\n" + self.text())
            self.lines.append(line)
            match = regex.search(line)
            if match:
                return match

    def drain(self, timeout: float = 5.0) -> str:
        """Everything until the stream ends (after the process exited)."""
        self._thread.join(timeout)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return self.text()

    def text(self) -> str:
        """The lines read so far."""
        return "\n".join(self.lines)


def pid_gone(pid: int) -> bool:
    """Whether no live process has this pid (a zombie awaiting its reaper counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_all_gone(pids: list[int], timeout: float = 15.0) -> list[int]:
    """The pids still alive after waiting up to `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [pid for pid in pids if not pid_gone(pid)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def kill_leftovers(pids: list[int]) -> None:
    """Last-resort cleanup after a failed test: SIGKILL what is still alive."""
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()
