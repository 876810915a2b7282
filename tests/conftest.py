"""Shared fixtures: a fresh PostgreSQL database per run, settings, the invoice app, processes."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import redis

from services.common.settings import Settings
from services.invoice.adapters.change_events import ChangeListener
from services.invoice.adapters.migrate import upgrade_to_head
from services.invoice.bootstrap import InvoiceApp, build_app
from services.invoice.service_layer import businesses

ROOT = Path(__file__).resolve().parent.parent
# The PostgreSQL server the tests make their databases on (CI and this machine run one).
PG_ADMIN_URL = os.environ.get("SUOOPS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
NO_ENV_FILE = Path("/nonexistent/suoops-env")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


def create_database() -> str:
    """A new, migrated database with a fresh name; returns its URL."""
    name = f"suoops_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade_to_head(url)
    except Exception:
        drop_database(url)
        raise
    return url


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A database made for this run (and this xdist worker), migrated, dropped at the end."""
    url = create_database()
    try:
        yield url
    finally:
        drop_database(url)


def make_settings(**env: str) -> Settings:
    """Settings from exactly these variables, never from the caller's shell or .suoops/env."""
    return Settings.from_env(env, env_file=NO_ENV_FILE)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(DATABASE_URL=database_url, INTERNAL_TOKEN="test-internal-token")


@pytest.fixture
async def invoice_app(settings: Settings) -> AsyncIterator[InvoiceApp]:
    app = build_app(settings)
    yield app
    await app.close()


@asynccontextmanager
async def listening(listener: ChangeListener, wait: float = 5.0) -> AsyncIterator[ChangeListener]:
    """The change listener running, and listening, for the block; stopped after it."""
    stop = asyncio.Event()
    task = asyncio.create_task(listener.run(stop))
    try:
        await asyncio.wait_for(listener.listening.wait(), wait)
        yield listener
    finally:
        stop.set()
        await task


@dataclass(frozen=True)
class Tenant:
    """A business made for one test, with its bearer token."""

    business_id: int
    public_id: str
    name: str
    token: str


@pytest.fixture
async def business(invoice_app: InvoiceApp) -> Tenant:
    return await new_business(invoice_app, "Ada's Fabrics")


async def new_business(app: InvoiceApp, name: str) -> Tenant:
    created, token = await businesses.create_business(app.unit_of_work(), name)
    assert created.id is not None
    return Tenant(created.id, created.public_id, created.name, token)


def count_rows(database_url: str, table: str) -> int:
    """How many rows a table holds, read over a separate connection."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Wait until something accepts connections on the port, or fail with the process's output."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"process exited with {proc.returncode}:\n{out}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {timeout}s")


def start_process(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `suoops ...` as a real process with exactly the given settings."""
    full_env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SUOOPS_DATA_DIR": "/nonexistent/suoops",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", *args],
        env=full_env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """SIGTERM and wait; SIGKILL if it does not stop in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis database number this run (this xdist worker) holds alone, emptied around it.

    Numbers 1 to 15 are claimed with SET NX in database 0, so concurrent test runs on one
    machine never share a queue.
    """
    base = os.environ.get("SUOOPS_TEST_REDIS_URL", "redis://127.0.0.1:6379")
    claims = redis.Redis.from_url(f"{base}/0")
    token = uuid.uuid4().hex
    index = next(
        (
            n
            for n in range(1, 16)
            if claims.set(f"suoops:test-db-claim:{n}", token, nx=True, ex=7200)
        ),
        None,
    )
    if index is None:
        raise RuntimeError("every Redis database number 1-15 is claimed by other test runs")
    url = f"{base}/{index}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()
        if claims.get(f"suoops:test-db-claim:{index}") == token.encode():
            claims.delete(f"suoops:test-db-claim:{index}")
        claims.close()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client of this run's Redis database, emptied before and after the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on a free port, spoken to over HTTP like any S3 API."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


S3_TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-access-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",
    "AWS_REGION": "us-east-1",
}
