"""Faults in the render pipeline lose nothing and duplicate nothing."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator

import boto3
import grpc
import psutil
import pytest
import redis
from suoops.invoice.v1 import invoice_pb2 as pb

from services.common.queues import dead_key
from tests.conftest import S3_TEST_CREDENTIALS
from tests.e2e.conftest import Stack
from tests.support.processes import free_port
from tests.support.s3_faults import S3FaultProxy

pytestmark = pytest.mark.e2e


def create(stack: Stack, name: str = "Chidi Okeke") -> str:
    request = pb.CreateInvoiceRequest(customer_name=name, amount="12500")
    with grpc.insecure_channel(stack.invoice_addr) as channel:
        return str(
            stack.stub(channel)
            .CreateInvoice(request, metadata=stack.metadata, timeout=30)
            .invoice.invoice_id
        )


def stored_pdfs(stack: Stack, invoice_id: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=stack.env["S3_ENDPOINT_URL"], **_s3_credentials())
    listing = s3.list_objects_v2(Bucket=stack.env["S3_BUCKET"], Prefix="invoices/")
    return [o["Key"] for o in listing.get("Contents", []) if f"/{invoice_id}/" in o["Key"]]


def _s3_credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": S3_TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        "region_name": S3_TEST_CREDENTIALS["AWS_REGION"],
    }


def test_worker_killed_mid_render_still_produces_the_pdf_once(
    make_stack: Callable[..., Stack],
) -> None:
    slow = {
        "RENDERER_FACTORY": "tests.support.renderers:SlowRenderer",
        "SLOW_RENDER_SECONDS": "3",
        "WORKER_HEARTBEAT_TIMEOUT_MS": "2000",
        "WORKER_MAINTENANCE_PER_MILLION": "1000000",
    }
    stack = make_stack(("invoice",), **slow)
    stack.start("worker", "doomed-worker")
    invoice_id = create(stack)
    stack.wait_for_pdf(invoice_id, (pb.PDF_STATUS_RENDERING,))
    stack.group.kill("doomed-worker")  # SIGKILL the worker and its render process mid-render
    stack.start("worker", "second-worker", SLOW_RENDER_SECONDS="0")
    ready = stack.wait_for_pdf(invoice_id, timeout=90)
    assert ready.pdf_status == pb.PDF_STATUS_READY
    assert stored_pdfs(stack, invoice_id) == [
        f"invoices/{_business_key(ready)}/{invoice_id}/g1.pdf"
    ]


def test_queued_renders_run_below_the_worker_priority(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        ("invoice",), RENDERER_FACTORY="tests.support.renderers:SlowRenderer", RENDER_NICE="7"
    )
    stack.start("worker", "worker", SLOW_RENDER_SECONDS="2")
    stack.wait_for_pdf(create(stack), (pb.PDF_STATUS_RENDERING,))

    worker = psutil.Process(stack.group.processes["worker"].pid)
    deadline = time.monotonic() + 10
    while (
        lowered := {p.nice() for p in worker.children(recursive=True)} - {worker.nice()}
    ) == set():
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)

    assert lowered == {worker.nice() + 7}  # the render processes; the fork server stays put


def _business_key(info: pb.PdfStatusInfo) -> str:
    return info.pdf_url.split("/invoices/", 1)[1].split("/", 1)[0]


@pytest.fixture
def own_redis() -> Iterator[tuple[str, Callable[[], None], Callable[[], None]]]:
    """A Redis server this test owns: its URL, and ways to stop and restart it."""
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        procs.append(
            subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise TimeoutError("redis did not start")

    def stop() -> None:
        procs[-1].terminate()
        procs[-1].wait(10)

    start()
    yield f"redis://127.0.0.1:{port}/0", stop, start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()


def test_invoice_created_while_redis_is_down_gets_its_pdf_after(
    make_stack: Callable[..., Stack],
    own_redis: tuple[str, Callable[[], None], Callable[[], None]],
) -> None:
    url, stop_redis, start_redis = own_redis
    stack = make_stack(("invoice", "worker"), REDIS_URL=url)
    stop_redis()
    invoice_id = create(stack)  # answered although Redis is down: the job waits in the outbox
    assert stack.wait_for_pdf(invoice_id, (pb.PDF_STATUS_PENDING,)).pdf_status == 1
    time.sleep(1.0)
    start_redis()
    assert stack.wait_for_pdf(invoice_id, timeout=90).pdf_url


@pytest.fixture
def s3_proxy(s3_endpoint: str) -> Iterator[S3FaultProxy]:
    proxy = S3FaultProxy(s3_endpoint)
    yield proxy
    proxy.close()


def test_s3_failing_twice_then_working_ends_ready(
    make_stack: Callable[..., Stack], s3_proxy: S3FaultProxy
) -> None:
    stack = make_stack(("invoice", "worker"), S3_ENDPOINT_URL=s3_proxy.url, S3_MAX_ATTEMPTS="1")
    s3_proxy.fail_next_puts = 2
    invoice_id = create(stack)
    ready = stack.wait_for_pdf(invoice_id)
    assert s3_proxy.failed_puts == 2
    assert ready.attempts == 3, stack.group.logs("worker")
    assert len(stored_pdfs(stack, invoice_id)) == 1


def test_s3_failing_always_fails_with_a_dead_letter_then_regenerates(
    make_stack: Callable[..., Stack], s3_proxy: S3FaultProxy, redis_url: str
) -> None:
    stack = make_stack(
        ("invoice", "worker"),
        S3_ENDPOINT_URL=s3_proxy.url,
        S3_MAX_ATTEMPTS="1",
        RENDER_MAX_RETRIES="2",
    )
    s3_proxy.fail_all_puts = True
    invoice_id = create(stack)
    failed = stack.wait_for_pdf(invoice_id, (pb.PDF_STATUS_FAILED,))
    assert failed.attempts == 3
    assert "ServiceUnavailable" in failed.error or "503" in failed.error
    assert redis.Redis.from_url(redis_url).zcard(dead_key("pdf_generation")) >= 1
    s3_proxy.fail_all_puts = False
    with grpc.insecure_channel(stack.invoice_addr) as channel:
        stack.stub(channel).RegeneratePdf(
            pb.RegeneratePdfRequest(invoice_id=invoice_id), metadata=stack.metadata
        )
    ready = stack.wait_for_pdf(invoice_id)
    assert ready.pdf_generation == 2 and ready.error == ""


def test_render_stuck_past_the_hard_limit_is_killed_and_fails(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(
        ("invoice", "worker"),
        RENDERER_FACTORY="tests.support.renderers:SlowRenderer",
        SLOW_RENDER_SECONDS="120",
        RENDER_SOFT_LIMIT_SECONDS="1",
        RENDER_HARD_LIMIT_SECONDS="2",
        RENDER_MAX_RETRIES="0",
    )
    invoice_id = create(stack)
    failed = stack.wait_for_pdf(invoice_id, (pb.PDF_STATUS_FAILED,), timeout=60)
    assert "hard limit" in failed.error
    assert failed.attempts == 1
    log = stack.group.logs("worker")
    assert "soft time limit" in log
