"""Starts real SuoOps processes on a fresh database for a benchmark, and tears them down."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "SUOOPS_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@dataclass
class Stack:
    """The processes of one benchmark run and how to reach them."""

    database_url: str
    env: dict[str, str]
    token: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def invoice_addr(self) -> str:
        return self.env["INVOICE_GRPC_ADDR"]

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    def pid(self, role: str) -> int:
        return self.processes[role].pid

    def start(self, role: str, *args: str, **env: str) -> subprocess.Popen[bytes]:
        """Start one more process of a role (`worker` or `serve ROLE`)."""
        argv = ["worker", *args] if role == "worker" else ["serve", role, *args]
        proc = _suoops(
            argv, {**self.env, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.processes[role] = proc
        if role == "renderer":
            _wait_port(int(self.env["RENDERER_GRPC_ADDR"].rsplit(":", 1)[1]), proc)
        return proc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _suoops(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # type: ignore[call-overload]
        [sys.executable, "-m", "services.cli.main", *args], env=env, cwd=ROOT, **kwargs
    )


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open")


@contextmanager
def s3_server() -> Iterator[str]:
    """A moto S3 server in its own process (so it does not share the benchmark's GIL)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def running_stack(
    roles: tuple[str, ...] = ("invoice", "gateway"), **extra_env: str
) -> Iterator[Stack]:
    """A fresh database, migrated, one business, and the given `suoops serve` roles running."""
    name = f"suoops_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SUOOPS_DATA_DIR": "/nonexistent/suoops",
        "DATABASE_URL": url,
        "INVOICE_GRPC_ADDR": f"127.0.0.1:{free_port()}",
        "GATEWAY_PORT": str(free_port()),
        "RENDERER_GRPC_ADDR": f"127.0.0.1:{free_port()}",
        "WORKER_METRICS_PORT": str(free_port()),
        "INTERNAL_TOKEN": uuid.uuid4().hex,
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        **extra_env,
    }
    stack = Stack(url, env)
    try:
        subprocess.run(
            [sys.executable, "-m", "services.cli.main", "migrate"], env=env, cwd=ROOT, check=True
        )
        stack.token = subprocess.run(
            [sys.executable, "-m", "services.cli.main", "create-business", "Bench Shop"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for role in roles:
            argv = ["worker"] if role == "worker" else ["serve", role]
            stack.processes[role] = _suoops(argv, env)
        if "invoice" in roles:
            _wait_port(int(env["INVOICE_GRPC_ADDR"].rsplit(":", 1)[1]), stack.processes["invoice"])
        if "gateway" in roles:
            _wait_port(int(env["GATEWAY_PORT"]), stack.processes["gateway"])
        if "renderer" in roles:
            _wait_port(
                int(env["RENDERER_GRPC_ADDR"].rsplit(":", 1)[1]), stack.processes["renderer"]
            )
        yield stack
    finally:
        for proc in stack.processes.values():
            proc.terminate()
        for proc in stack.processes.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
