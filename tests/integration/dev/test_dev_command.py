"""`suoops dev` itself, with stand-in children: embedded services, env file, banner, clean stop.

The real invoice service and gateway are exercised by tests/e2e/test_dev_stack.py; here the
subcommands and children are small stand-ins so the orchestration is tested on its own.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from services.common.settings import Settings
from services.dev.embedded_redis import EmbeddedRedis
from tests.integration.dev.helpers import LineReader, kill_leftovers, wait_all_gone

pytestmark = pytest.mark.integration

# Stands in for `suoops migrate`: proves each URL works from another process, counts the runs.
FAKE_MIGRATE = textwrap.dedent(
    """
    import os
    import boto3, redis, sqlalchemy as sa
    engine = sa.create_engine(os.environ["DATABASE_URL"])
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS runs (n int)"))
        conn.execute(sa.text("INSERT INTO runs VALUES (1)"))
        runs = conn.execute(sa.text("SELECT count(*) FROM runs")).scalar()
    engine.dispose()
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    redis_runs = client.incr("runs")
    s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"], region_name="us-east-1")
    s3.head_bucket(Bucket=os.environ["S3_BUCKET"])
    print("migrated", runs, redis_runs, flush=True)
    """
)

DEV_WITH_STAND_INS = textwrap.dedent(
    """
    import argparse, os, sys
    import services.cli.dev as dev
    from services.dev.readiness import http_ok
    from services.dev.supervisor import Child

    codes = {
        "migrate": sys.argv[1],
        "create-business": "print('demo-token-123')",
        "create-operator": "print('operator-token-456')",
    }
    dev.suoops_argv = lambda *args: [sys.executable, "-c", codes[args[0]], *args[1:]]
    port = os.environ["GATEWAY_PORT"]
    web = [sys.executable, "-m", "http.server", port, "--bind", "127.0.0.1"]
    worker = [sys.executable, "-c", sys.argv[2]]
    dev.stack_children = lambda settings: [
        Child("gateway", web, http_ok(f"http://127.0.0.1:{port}/")),
        Child("worker", worker),
    ]
    sys.exit(dev.run(argparse.Namespace()))
    """
)
SLEEPING_WORKER = "import time; time.sleep(600)"
CRASHING_WORKER = "import sys, time; time.sleep(2); sys.exit(4)"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DevRun:
    """`suoops dev` (with stand-ins) as a process in its own group, like in a terminal."""

    def __init__(self, data_dir: Path, worker: str, **env: str) -> None:
        environ = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "S3_ENDPOINT_URL", "INTERNAL_TOKEN")
            and not k.startswith("AWS_")
        }
        environ.update(
            SUOOPS_DATA_DIR=str(data_dir),
            GATEWAY_PORT=str(_free_port()),
            INVOICE_GRPC_ADDR=f"127.0.0.1:{_free_port()}",
            RENDERER_GRPC_ADDR=f"127.0.0.1:{_free_port()}",
            **{f"{role}_METRICS_PORT": str(_free_port()) for role in ("INVOICE", "RENDERER")},
            **{f"{role}_METRICS_PORT": str(_free_port()) for role in ("WORKER", "SCHEDULER")},
            **env,
        )
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            [sys.executable, "-c", DEV_WITH_STAND_INS, FAKE_MIGRATE, worker],
            env=environ,
            cwd=data_dir.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        self.output = LineReader(self.process.stdout)
        self.pids: list[int] = []

    def note_pids(self) -> None:
        """Every process the run started: its descendants and the (daemonized) postmaster."""
        self.pids = [p.pid for p in psutil.Process(self.process.pid).children(recursive=True)]
        postmaster = self.data_dir / "pgdata" / "postmaster.pid"
        if postmaster.exists():
            self.pids.append(int(postmaster.read_text().splitlines()[0]))

    def ctrl_c(self) -> int:
        """Ctrl-C as the terminal sends it (to the foreground group); the exit code."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.wait()

    def wait(self) -> int:
        """Wait for the run to end; the exit code."""
        code = self.process.wait(timeout=90)
        self.output.drain()
        return code


@pytest.fixture
def runs() -> Iterator[list[DevRun]]:
    """The runs of one test; whatever a failure left behind is killed."""
    started: list[DevRun] = []
    yield started
    for run in started:
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGTERM)
            run.process.wait(timeout=90)
        kill_leftovers(run.pids)


def test_dev_starts_everything_writes_the_env_file_and_stops_it_all(
    tmp_path: Path, runs: list[DevRun]
) -> None:
    data_dir = tmp_path / "data"
    run = DevRun(data_dir, SLEEPING_WORKER)
    runs.append(run)

    assert run.output.wait_for(r"migrate\s*\| migrated (\d+) (\d+)", timeout=120).groups() == (
        "1",
        "1",
    )
    assert run.output.wait_for(r"TOKEN=(\S+)", timeout=60).group(1) == "demo-token-123"
    assert "/admin?token=operator-token-456" in run.output.text()
    assert (data_dir / "operator_token").read_text().strip() == "operator-token-456"
    run.note_pids()
    env_file = data_dir / "env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    settings = Settings.from_env({"SUOOPS_DATA_DIR": str(data_dir)})
    assert settings.database_url and settings.database_url.startswith("postgresql+psycopg://")
    assert settings.redis_url and settings.redis_url.startswith("redis://")
    assert settings.s3_endpoint_url and settings.s3_endpoint_url.startswith("http://127.0.0.1:")
    assert settings.internal_token
    assert len(run.pids) >= 5  # postgres, redis, moto, the web stand-in, the worker

    assert run.ctrl_c() == 0, run.output.text()
    assert wait_all_gone(run.pids) == [], run.output.text()

    # The second run finds the data of the first: PostgreSQL, Redis and the bucket.
    again = DevRun(data_dir, SLEEPING_WORKER)
    runs.append(again)
    assert again.output.wait_for(r"migrate\s*\| migrated (\d+) (\d+)", timeout=120).groups() == (
        "2",
        "2",
    )
    again.output.wait_for(r"TOKEN=", timeout=60)
    again.note_pids()
    assert Settings.from_env({"SUOOPS_DATA_DIR": str(data_dir)}).internal_token == (
        settings.internal_token
    )
    again.process.send_signal(signal.SIGTERM)
    assert again.wait() == 0, again.output.text()
    assert wait_all_gone(again.pids) == [], again.output.text()


def test_a_crashing_child_stops_the_stack_and_given_urls_start_nothing(
    tmp_path: Path, runs: list[DevRun]
) -> None:
    external = EmbeddedRedis(tmp_path / "external")
    redis_url = external.start()
    try:
        data_dir = tmp_path / "data"
        run = DevRun(data_dir, CRASHING_WORKER, REDIS_URL=redis_url)
        runs.append(run)
        run.output.wait_for(r"started worker", timeout=120)
        run.note_pids()

        assert run.wait() == 4, run.output.text()
        assert "worker exited with code 4" in run.output.text()
        assert wait_all_gone(run.pids) == [], run.output.text()
        assert not (data_dir / "redis").exists()
        assert Settings.from_env({"SUOOPS_DATA_DIR": str(data_dir)}).redis_url == redis_url
        assert external.alive()  # not ours to stop
    finally:
        external.stop()


def test_a_second_dev_on_the_same_data_dir_is_refused(tmp_path: Path, runs: list[DevRun]) -> None:
    data_dir = tmp_path / "data"
    first = DevRun(data_dir, SLEEPING_WORKER)
    runs.append(first)
    first.output.wait_for(r"TOKEN=", timeout=120)
    first.note_pids()

    second = DevRun(data_dir, SLEEPING_WORKER)
    runs.append(second)
    assert second.wait() == 1, second.output.text()
    assert "another `suoops dev` is running" in second.output.text()

    assert first.process.poll() is None
    assert first.ctrl_c() == 0, first.output.text()
    assert wait_all_gone(first.pids) == []
