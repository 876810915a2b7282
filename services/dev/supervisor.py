"""A small process supervisor: start children, prefix their output, stop them all together."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import IO

from services.dev.processes import start_in_own_group, stop_processes

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class Child:
    """One process of the stack: its name (the output prefix), command line and readiness."""

    name: str
    argv: Sequence[str]
    ready: Callable[[], bool] | None = field(default=None, compare=False)


class StopRequested(Exception):
    """SIGINT, SIGTERM or SIGHUP arrived: stop everything."""


class ChildExited(Exception):
    """A child process ended while the stack was meant to run."""

    def __init__(self, name: str, returncode: int) -> None:
        if returncode < 0:
            how = f"was killed by {signal.Signals(-returncode).name}"
        else:
            how = f"exited with code {returncode}"
        super().__init__(f"{name} {how}")
        self.name = name
        self.returncode = returncode

    @property
    def exit_code(self) -> int:
        """What the supervisor exits with: the child's code, or 1 if it had none to give."""
        return self.returncode if self.returncode > 0 else 1


class Console:
    """Writes lines from several threads, each prefixed with the name of its source."""

    def __init__(self, stream: IO[str] | None = None, width: int = 10) -> None:
        self._stream = stream if stream is not None else sys.stdout
        self._lock = threading.Lock()
        self.width = width

    def line(self, name: str, text: str) -> None:
        """Write one line as `name | text`."""
        with self._lock, contextlib.suppress(OSError, ValueError):
            # A closed terminal must not stop us draining the children's pipes.
            self._stream.write(f"{name:<{self.width}}| {text}\n")
            self._stream.flush()

    def raw(self, text: str) -> None:
        """Write text as it is (the ready banner: meant to be copied from)."""
        with self._lock, contextlib.suppress(OSError, ValueError):
            self._stream.write(text)
            self._stream.flush()

    def say(self, text: str) -> None:
        """A line from the supervisor itself."""
        self.line("dev", text)


class Supervisor:
    """Runs children in their own process groups and stops every one of them on the way out."""

    def __init__(
        self,
        children: Sequence[Child],
        *,
        env: Mapping[str, str] | None = None,
        console: Console | None = None,
        stop_timeout: float = 10.0,
    ) -> None:
        self.children = list(children)
        if len({child.name for child in self.children}) != len(self.children):
            raise ValueError("child names must be unique")
        self.env = dict(os.environ if env is None else env)
        self.env.setdefault("PYTHONUNBUFFERED", "1")  # lines arrive as they are written
        self.console = console or Console()
        self.stop_timeout = stop_timeout
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._pumps: list[threading.Thread] = []

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start every child; each leads its own process group, out of reach of the terminal."""
        for child in self.children:
            process = start_in_own_group(list(child.argv), env=self.env, stdout=subprocess.PIPE)
            self._processes[child.name] = process
            self.console.say(f"started {child.name} (pid {process.pid})")
            assert process.stdout is not None
            pump = threading.Thread(
                target=self._pump, args=(child.name, process.stdout), daemon=True
            )
            pump.start()
            self._pumps.append(pump)

    def pids(self) -> dict[str, int]:
        """The pid of each child by name."""
        return {name: process.pid for name, process in self._processes.items()}

    def check(self) -> None:
        """Raise ChildExited if any child has ended."""
        for name, process in self._processes.items():
            code = process.poll()
            if code is not None:
                raise ChildExited(name, code)

    def wait_ready(self, timeout: float) -> None:
        """Wait until every child's readiness check passes; TimeoutError after `timeout`."""
        pending = [child for child in self.children if child.ready is not None]
        deadline = time.monotonic() + timeout
        while pending:
            self.check()
            pending = [child for child in pending if not _passes(child)]
            if pending and time.monotonic() > deadline:
                names = ", ".join(child.name for child in pending)
                raise TimeoutError(f"not ready after {timeout:.0f}s: {names}")
            if pending:
                time.sleep(0.2)

    def wait(self, also_alive: Mapping[str, Callable[[], bool]] | None = None) -> ChildExited:
        """Block until a child (or one of `also_alive`) ends; return which."""
        while True:
            try:
                self.check()
            except ChildExited as exited:
                return exited
            for name, alive in (also_alive or {}).items():
                if not alive():
                    return ChildExited(name, 1)
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM every child's group, SIGKILL what is left after the timeout; idempotent."""
        running = [p for p in self._processes.values() if p.poll() is None]
        if running:
            self.console.say(f"stopping {len(running)} process(es)")
        stop_processes(list(self._processes.values()), self.stop_timeout)
        for pump in self._pumps:
            pump.join(timeout=2)
        for process in self._processes.values():
            if process.stdout is not None:
                process.stdout.close()

    def _pump(self, name: str, stream: IO[bytes]) -> None:
        with contextlib.suppress(ValueError, OSError):
            for raw in iter(stream.readline, b""):
                self.console.line(name, raw.decode("utf-8", "replace").rstrip("\r\n"))


def _passes(child: Child) -> bool:
    try:
        return bool(child.ready and child.ready())
    except Exception:
        return False


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    # The first signal starts the shutdown; later ones must not cut that shutdown short.
    ignore_stop_signals()
    raise StopRequested(signal.Signals(signum).name)


def ignore_stop_signals() -> None:
    """Ignore SIGINT/SIGTERM/SIGHUP (while stopping everything)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


@contextlib.contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Inside the block SIGINT, SIGTERM and SIGHUP raise StopRequested (once); then restored."""
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def supervise(
    children: Sequence[Child],
    *,
    env: Mapping[str, str] | None = None,
    stop_timeout: float = 10.0,
) -> int:
    """Run the children until a signal (exit 0) or until one of them ends (non-zero)."""
    supervisor = Supervisor(children, env=env, stop_timeout=stop_timeout)
    with stop_signals_raise():
        try:
            supervisor.start()
            exited = supervisor.wait()
            supervisor.console.say(f"{exited}; stopping the others")
            return exited.exit_code
        except StopRequested as stop:
            supervisor.console.say(f"{stop}: stopping")
            return 0
        finally:
            ignore_stop_signals()
            supervisor.stop()
