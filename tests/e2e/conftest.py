"""A running stack of real processes for the end-to-end tests."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc

from services.invoice.bootstrap import build_app
from services.invoice.service_layer import businesses
from tests.conftest import (
    ROOT,
    S3_TEST_CREDENTIALS,
    create_database,
    drop_database,
    make_settings,
)
from tests.support.processes import ProcessGroup, free_port

ROLE_ARGS = {
    "invoice": ["serve", "invoice"],
    "gateway": ["serve", "gateway"],
    "renderer": ["serve", "renderer"],
    "worker": ["worker"],
    "delivery": ["worker", "--queues", "email_sending", "whatsapp_sending", "default"],
    "scheduler": ["serve", "scheduler"],
}


@dataclass
class Stack:
    """Processes sharing one environment, and a business to call them as."""

    group: ProcessGroup
    env: dict[str, str]

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

    token: str = ""
    business_name: str = ""
    started: list[str] = field(default_factory=list)

    @property
    def invoice_addr(self) -> str:
        return self.env["INVOICE_GRPC_ADDR"]

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"

    @property
    def metadata(self) -> tuple[tuple[str, str]]:
        return (("authorization", f"Bearer {self.token}"),)

    def start(self, role: str, name: str | None = None, **env: str) -> None:
        """Start a role (optionally a second copy under another name, with extra settings)."""
        name = name or role
        if role == "delivery":
            # Its own metrics port: it runs beside the render worker.
            env = {"WORKER_METRICS_PORT": str(free_port()), **env}
        self.group.start(name, ROLE_ARGS[role], {**self.env, **env})
        if role == "invoice":
            self.group.wait_port(name, int(self.invoice_addr.rsplit(":", 1)[1]))
        elif role == "gateway":
            self.group.wait_port(name, int(self.env["GATEWAY_PORT"]))
        elif role == "renderer":
            self.group.wait_port(name, int(self.env["RENDERER_GRPC_ADDR"].rsplit(":", 1)[1]))
        elif role in ("worker", "delivery"):
            self.group.wait_log(name, "worker consuming")
        elif role == "scheduler":
            self.group.wait_log(name, "scheduler running")
        self.started.append(name)

    def cli(self, *args: str) -> str:
        """Run a `suoops` command with the stack's settings; what it printed (it must succeed)."""
        env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "SUOOPS_DATA_DIR": "/nonexistent/suoops"}
        done = subprocess.run(
            [sys.executable, "-m", "services.cli.main", *args],
            env={**env, **self.env},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stub(self, channel: grpc.Channel) -> invoice_pb2_grpc.InvoiceServiceStub:
        return invoice_pb2_grpc.InvoiceServiceStub(channel)

    def wait_for_pdf(
        self,
        invoice_id: str,
        statuses: tuple[int, ...] = (pb.PDF_STATUS_READY,),
        timeout: float = 60,
    ) -> pb.PdfStatusInfo:
        """Poll GetPdfStatus until the PDF reaches one of the statuses."""
        deadline = time.monotonic() + timeout
        with grpc.insecure_channel(self.invoice_addr) as channel:
            stub = self.stub(channel)
            while True:
                info = stub.GetPdfStatus(
                    pb.GetPdfStatusRequest(invoice_id=invoice_id), metadata=self.metadata, timeout=5
                ).pdf
                if info.pdf_status in statuses:
                    return info
                if time.monotonic() > deadline:
                    logs = {n: self.group.logs(n)[-3000:] for n in self.started}
                    raise AssertionError(f"PDF of {invoice_id} stuck at {info}; logs: {logs}")
                time.sleep(0.05)


def new_token(database_url: str, name: str) -> str:
    """A business made straight in the database, and its token."""

    async def make() -> str:
        app = build_app(make_settings(DATABASE_URL=database_url))
        try:
            _, token = await businesses.create_business(app.unit_of_work(), name)
            return token
        finally:
            await app.close()

    return asyncio.run(make())


def stack_env(database_url: str, redis_url: str, s3_endpoint: str, **extra: str) -> dict[str, str]:
    """Settings for one stack: its own ports, bucket and internal token; quick retries."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_BUCKET": f"suoops-test-{uuid.uuid4().hex[:10]}",
        **S3_TEST_CREDENTIALS,
        "INVOICE_GRPC_ADDR": f"127.0.0.1:{free_port()}",
        "RENDERER_GRPC_ADDR": f"127.0.0.1:{free_port()}",
        "GATEWAY_PORT": str(free_port()),
        "INVOICE_METRICS_PORT": str(free_port()),
        "RENDERER_METRICS_PORT": str(free_port()),
        "WORKER_METRICS_PORT": str(free_port()),
        "SCHEDULER_METRICS_PORT": str(free_port()),
        "INTERNAL_TOKEN": uuid.uuid4().hex,
        "RENDER_MIN_BACKOFF_MS": "200",
        "RENDER_MAX_BACKOFF_MS": "1000",
        "DELIVERY_MIN_BACKOFF_MS": "200",
        "DELIVERY_MAX_BACKOFF_MS": "1000",
        "WEBHOOK_MIN_BACKOFF_MS": "200",
        "WEBHOOK_MAX_BACKOFF_MS": "1000",
        "RENDER_PROCESSES": "1",
        "WORKER_THREADS": "2",
        "WORKER_POLL_MS": "20",
        "LOG_LEVEL": "INFO",
        **extra,
    }


@pytest.fixture
def make_stack(redis_url: str, s3_endpoint: str, tmp_path: Path) -> Iterator[object]:
    """Build stacks inside a test, each on a database of its own (so no earlier test's
    unpublished jobs land in its queue); every process is stopped and database dropped."""
    import redis

    groups: list[ProcessGroup] = []
    databases: list[str] = []
    # A clean queue for each test: no job of an earlier test's stack is left to pick up.
    redis.Redis.from_url(redis_url).flushdb()

    def build(roles: tuple[str, ...], **env: str) -> Stack:
        group = ProcessGroup(tmp_path)
        groups.append(group)
        databases.append(create_database())
        stack = Stack(group, stack_env(databases[-1], redis_url, s3_endpoint, **env))
        stack.business_name = f"Shop {uuid.uuid4().hex[:6]}"
        stack.token = new_token(stack.database_url, stack.business_name)
        for role in roles:
            stack.start(role)
        return stack

    yield build
    for group in groups:
        group.stop_all()
    for url in databases:
        drop_database(url)
