"""The dev supervisor, run as a real process over tiny children: it stops every one of them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest

from services.dev.supervisor import Child, Supervisor
from tests.integration.dev.helpers import LineReader, kill_leftovers, wait_all_gone

pytestmark = pytest.mark.integration

SLEEPER = "import os, time; print('pid', os.getpid(), flush=True); time.sleep(600)"
# A child with a grandchild in its process group: both must go.
PARENT = textwrap.dedent(
    """
    import os, subprocess, sys, time
    kid = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print("pid", os.getpid(), flush=True)
    print("pid", kid.pid, flush=True)
    time.sleep(600)
    """
)
STUBBORN = textwrap.dedent(
    """
    import os, signal, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("pid", os.getpid(), flush=True)
    time.sleep(600)
    """
)
CRASHER = "import os, sys, time; print('pid', os.getpid(), flush=True); time.sleep(1); sys.exit(3)"

SUPERVISOR = textwrap.dedent(
    """
    import sys
    from services.dev.supervisor import Child, supervise
    codes = sys.argv[2:]
    children = [Child(f"c{i}", [sys.executable, "-c", code]) for i, code in enumerate(codes)]
    sys.exit(supervise(children, stop_timeout=float(sys.argv[1])))
    """
)


class Run:
    """A supervisor process and the pids its children reported."""

    def __init__(self, codes: list[str], expected_pids: int, stop_timeout: float = 5.0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SUPERVISOR, str(stop_timeout), *codes],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        self.output = LineReader(self.process.stdout)
        self.pids = [
            int(self.output.wait_for(r"^c\d+\s*\| pid (\d+)$", timeout=30).group(1))
            for _ in range(expected_pids)
        ]

    def exit_code(self, timeout: float = 30) -> int:
        """Wait for the supervisor to end."""
        code = self.process.wait(timeout=timeout)
        self.output.drain()
        return code


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    """Supervisor runs of one test; anything left alive is killed afterwards."""
    started: list[Run] = []
    yield started
    for run in started:
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        kill_leftovers(run.pids)


def test_sigterm_stops_every_child_and_grandchild_then_exits_zero(runs: list[Run]) -> None:
    run = Run([SLEEPER, SLEEPER, PARENT], expected_pids=4)
    runs.append(run)
    assert wait_all_gone(run.pids, timeout=0.5) == run.pids  # all running

    run.process.send_signal(signal.SIGTERM)

    assert run.exit_code() == 0
    assert wait_all_gone(run.pids) == []


def test_ctrl_c_to_the_terminal_group_stops_every_child(runs: list[Run]) -> None:
    run = Run([SLEEPER, PARENT], expected_pids=3)
    runs.append(run)

    os.killpg(run.process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C

    assert run.exit_code() == 0
    assert wait_all_gone(run.pids) == []


def test_crashing_child_stops_the_others_and_exits_non_zero(runs: list[Run]) -> None:
    run = Run([SLEEPER, CRASHER, PARENT], expected_pids=4)
    runs.append(run)

    assert run.exit_code() == 3
    assert wait_all_gone(run.pids) == []
    assert "c1 exited with code 3" in run.output.text()


def test_child_ignoring_sigterm_is_killed_after_the_timeout(runs: list[Run]) -> None:
    run = Run([STUBBORN, SLEEPER], expected_pids=2, stop_timeout=1.0)
    runs.append(run)

    run.process.send_signal(signal.SIGTERM)

    assert run.exit_code() == 0
    assert wait_all_gone(run.pids) == []


def test_output_lines_carry_the_child_name(runs: list[Run]) -> None:
    run = Run([SLEEPER], expected_pids=1)
    runs.append(run)
    run.process.send_signal(signal.SIGTERM)
    run.exit_code()

    assert any(line.startswith("c0") and "| pid" in line for line in run.output.lines)


def test_wait_ready_returns_once_every_check_passes(tmp_path: object) -> None:
    marker = os.path.join(str(tmp_path), "up")
    code = (
        f"import pathlib, time; time.sleep(0.3); pathlib.Path({marker!r}).touch(); time.sleep(60)"
    )
    child = Child("slow", [sys.executable, "-c", code], ready=lambda: os.path.exists(marker))
    with Supervisor([child]) as supervisor:
        supervisor.start()
        supervisor.wait_ready(timeout=30)
        pid = supervisor.pids()["slow"]
    assert wait_all_gone([pid]) == []


def test_wait_ready_fails_fast_when_a_child_dies_during_start_up() -> None:
    child = Child("dies", [sys.executable, "-c", "raise SystemExit(5)"], ready=lambda: False)
    with Supervisor([child]) as supervisor:
        supervisor.start()
        with pytest.raises(Exception, match="dies exited with code 5"):
            supervisor.wait_ready(timeout=30)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_children_die_with_a_supervisor_killed_by_sigkill(runs: list[Run]) -> None:
    run = Run([SLEEPER, SLEEPER], expected_pids=2)
    runs.append(run)

    run.process.kill()  # no chance to clean up

    run.exit_code()
    assert wait_all_gone(run.pids) == []
