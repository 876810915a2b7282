"""`suoops dev` end to end: the real stack from an empty data directory, over HTTP, then Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from tests.integration.dev.helpers import LineReader, kill_leftovers, wait_all_gone

pytestmark = pytest.mark.e2e

START_TIMEOUT = 300  # a first run initialises PostgreSQL and applies every migration
UNSET = ("DATABASE_URL", "REDIS_URL", "S3_ENDPOINT_URL", "INTERNAL_TOKEN")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stack_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET and not k.startswith("AWS_")}
    env.update(
        SUOOPS_DATA_DIR=str(data_dir),
        GATEWAY_PORT=str(_free_port()),
        INVOICE_GRPC_ADDR=f"127.0.0.1:{_free_port()}",
        RENDERER_GRPC_ADDR=f"127.0.0.1:{_free_port()}",
        INVOICE_METRICS_PORT=str(_free_port()),
        RENDERER_METRICS_PORT=str(_free_port()),
        WORKER_METRICS_PORT=str(_free_port()),
        SCHEDULER_METRICS_PORT=str(_free_port()),
    )
    return env


class Stack:
    """`suoops dev` in its own process group, as a terminal runs it."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.gateway = f"http://127.0.0.1:{env['GATEWAY_PORT']}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "dev"],
            env=env,
            cwd=data_dir.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        self.output = LineReader(self.process.stdout)
        self.pids: list[int] = []

    def wait_for_token(self) -> str:
        """The demo token from the ready banner; then note every process the stack runs."""
        token = self.output.wait_for(r"TOKEN=(\S+)", timeout=START_TIMEOUT).group(1)
        self.pids = [p.pid for p in psutil.Process(self.process.pid).children(recursive=True)]
        postmaster = self.data_dir / "pgdata" / "postmaster.pid"
        self.pids.append(int(postmaster.read_text().splitlines()[0]))
        return token

    def ctrl_c(self) -> int:
        """SIGINT to the foreground group, as Ctrl-C does; the exit code."""
        os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout=120)
        self.output.drain()
        return code


@pytest.fixture
def stacks() -> Iterator[list[Stack]]:
    """Stacks started by a test; whatever a failure left running is stopped, then killed."""
    started: list[Stack] = []
    yield started
    for stack in started:
        if stack.process.poll() is None:
            os.killpg(stack.process.pid, signal.SIGTERM)
            stack.process.wait(timeout=120)
        kill_leftovers(stack.pids)


def test_make_run_serves_the_api_keeps_its_data_and_stops_on_ctrl_c(
    tmp_path: Path, stacks: list[Stack]
) -> None:
    data_dir = tmp_path / ".suoops"
    env = _stack_env(data_dir)
    first = Stack(data_dir, env)
    stacks.append(first)
    token = first.wait_for_token()
    assert f"gateway   {first.gateway}" in first.output.text()
    dashboard = _dashboard_url(first)
    with httpx.Client(follow_redirects=True, timeout=30) as browser:
        page = browser.get(dashboard)
    assert page.status_code == 200 and page.url.path == "/admin", page.text
    assert "<html" in page.text.lower()

    created = httpx.post(
        f"{first.gateway}/invoices/",
        headers={"Authorization": f"Bearer {token}"},
        json={"customer_name": "Ada Obi", "amount": "50000"},
        timeout=30,
    )

    assert created.status_code == 201, created.text
    invoice = created.json()
    assert re.fullmatch(r"INV-[0-9A-Z]{6,}", invoice["invoice_id"])
    assert invoice["status"] == "pending"
    assert invoice["pdf_status"] == "pending"
    assert invoice["amount"] == "50000.00"

    # A second terminal in the same folder, with none of the variables set, finds the stack.
    second_terminal = {k: v for k, v in env.items() if k != "SUOOPS_DATA_DIR"}
    other = subprocess.run(
        [sys.executable, "-m", "services.cli.main", "create-business", "Second Terminal"],
        env=second_terminal,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert other.returncode == 0, other.stderr
    listed = httpx.get(
        f"{first.gateway}/invoices",
        headers={"Authorization": f"Bearer {other.stdout.strip()}"},
        timeout=30,
    )
    assert listed.status_code == 200 and listed.json()["invoices"] == []

    assert first.ctrl_c() == 0, first.output.text()
    assert wait_all_gone(first.pids) == [], first.output.text()

    # Run it again: same demo token, and the invoice is still there.
    second = Stack(data_dir, env)
    stacks.append(second)
    assert second.wait_for_token() == token
    assert _dashboard_url(second) == dashboard
    fetched = httpx.get(
        f"{second.gateway}/invoices/{invoice['invoice_id']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["invoice_id"] == invoice["invoice_id"]
    assert second.ctrl_c() == 0, second.output.text()
    assert wait_all_gone(second.pids) == [], second.output.text()


def _dashboard_url(stack: Stack) -> str:
    """The operator's dashboard link from the ready banner."""
    found = re.search(r"dashboard (\S+/admin\?token=\S+)", stack.output.text())
    assert found, stack.output.text()
    return found.group(1)
