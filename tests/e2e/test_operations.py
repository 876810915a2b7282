"""Operations over the wire: metrics scraped from the processes, `suoops inspect` and `retry`."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families
from suoops.invoice.v1 import invoice_pb2 as pb

from tests.e2e.conftest import Stack
from tests.e2e.test_render_faults import create
from tests.support.s3_faults import S3FaultProxy

pytestmark = pytest.mark.e2e
CREATE = "/suoops.invoice.v1.InvoiceService/CreateInvoice"


@pytest.fixture
def s3_proxy(s3_endpoint: str) -> Iterator[S3FaultProxy]:
    proxy = S3FaultProxy(s3_endpoint)
    yield proxy
    proxy.close()


def scrape(port: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample a metrics endpoint serves, keyed by name and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def suoops(stack: Stack, *args: str) -> Any:
    """Run a `suoops` command with the stack's settings; its JSON output."""
    return json.loads(stack.cli(*args, "--json"))


def eventually(check: Callable[[], Any], timeout: float = 30) -> Any:
    """The first truthy result of `check`, polled until the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


def test_metrics_inspect_and_retry_after_one_failed_render(
    make_stack: Callable[..., Stack], s3_proxy: S3FaultProxy
) -> None:
    stack = make_stack(
        ("invoice", "worker"),
        S3_ENDPOINT_URL=s3_proxy.url,
        S3_MAX_ATTEMPTS="1",
        RENDER_MAX_RETRIES="0",
    )
    for invoice_id in (create(stack), create(stack)):
        stack.wait_for_pdf(invoice_id)
    s3_proxy.fail_all_puts = True
    failing = create(stack)
    stack.wait_for_pdf(failing, (pb.PDF_STATUS_FAILED,))

    failed = eventually(lambda: suoops(stack, "inspect", "failed"))
    assert [(f["invoice_id"], f["attempts"]) for f in failed] == [(failing, 1)]
    assert "503" in failed[0]["error"] or "ServiceUnavailable" in failed[0]["error"]

    worker = eventually(
        lambda: (
            (s := scrape(stack.env["WORKER_METRICS_PORT"]))
            and value(s, "queue_depth", queue="pdf_generation", state="dead") >= 1
            and value(
                s,
                "task_total",
                task="render_retries_exhausted",
                queue="pdf_generation",
                status="succeeded",
            )
            and s
        )
    )
    assert worker, "the worker's metrics never showed the dead letter"
    assert value(worker, "pdf_generation_success_total") == 2
    assert value(worker, "pdf_generation_failure_total") == 1
    assert value(worker, "pdf_render_seconds_count") >= 2
    render = {"task": "render_invoice", "queue": "pdf_generation"}
    assert value(worker, "task_total", **render, status="succeeded") == 2
    assert value(worker, "task_total", **render, status="failed") == 1
    assert value(worker, "task_duration_seconds_count", task="render_invoice") == 3
    assert value(worker, "queue_depth", queue="pdf_generation", state="ready") == 0

    invoice = scrape(stack.env["INVOICE_METRICS_PORT"])
    assert value(invoice, "grpc_server_requests_total", method=CREATE, code="OK") == 3
    assert value(invoice, "grpc_server_request_seconds_count", method=CREATE) == 3
    assert any(
        name == "grpc_server_requests_total" and "RenderCallbackService" in dict(labels)["method"]
        for name, labels in invoice
    )

    s3_proxy.fail_all_puts = False
    outcome = suoops(stack, "retry", failing)
    assert outcome == {"requeued": [failing], "skipped": [], "dead_letters_removed": 1}
    ready = stack.wait_for_pdf(failing)
    assert ready.pdf_generation == 2 and ready.error == ""
    assert suoops(stack, "inspect", "failed") == []

    stats = suoops(stack, "inspect", "stats")
    assert stats["workers_alive"] >= 1
    assert stats["queues"]["pdf_generation"]["dead"] == 0
    assert stats["renders_last_hour"]["failed"] == 1
    assert stats["renders_last_hour"]["ready"] >= 2
    assert isinstance(suoops(stack, "inspect", "active"), list)


def test_renderer_service_serves_its_rpc_metrics(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(("renderer",))
    with grpc.insecure_channel(stack.env["RENDERER_GRPC_ADDR"]) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(2):
            health.Check(health_pb2.HealthCheckRequest(), timeout=5)
    samples = scrape(stack.env["RENDERER_METRICS_PORT"])
    check = "/grpc.health.v1.Health/Check"
    assert value(samples, "grpc_server_requests_total", method=check, code="OK") == 2
    assert value(samples, "grpc_server_request_seconds_count", method=check) == 2
    assert value(samples, "pdf_generation_success_total") == 0
