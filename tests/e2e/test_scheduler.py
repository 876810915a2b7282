"""The scheduler over real processes: a render whose message Redis lost is queued again."""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import psycopg
import pytest
import redis
from suoops.invoice.v1 import invoice_pb2 as pb

from services.common.queues import ready_key
from tests.e2e.conftest import Stack
from tests.support.processes import free_port

pytestmark = pytest.mark.e2e


def test_sweeper_requeues_a_render_lost_by_redis_once_with_two_schedulers(
    make_stack: Callable[..., Stack], redis_url: str
) -> None:
    stack = make_stack(("invoice",), RENDER_STUCK_AFTER_SECONDS="2", SWEEP_INTERVAL_SECONDS="2")
    with grpc.insecure_channel(stack.invoice_addr) as channel:
        invoice = (
            stack.stub(channel)
            .CreateInvoice(
                pb.CreateInvoiceRequest(customer_name="Lost Message", amount="700"),
                metadata=stack.metadata,
            )
            .invoice
        )
    queue = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 10
    while queue.llen(ready_key("pdf_generation")) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert queue.llen(ready_key("pdf_generation")) == 1  # its message, lost by Redis next
    queue.delete(ready_key("pdf_generation"), "dramatiq:pdf_generation.msgs")
    stack.start("scheduler", "scheduler-a")
    stack.start("scheduler", "scheduler-b", SCHEDULER_METRICS_PORT=str(free_port()))
    stack.start("worker")
    ready = stack.wait_for_pdf(invoice.invoice_id, timeout=60)
    assert ready.pdf_status == pb.PDF_STATUS_READY
    with psycopg.connect(stack.database_url) as conn:
        periods = conn.execute(
            "SELECT period, count(*) FROM scheduled_runs WHERE job = 'sweep_stuck_renders'"
            " GROUP BY period HAVING count(*) > 1"
        ).fetchall()
    assert periods == []  # never two runs of one period
    logs = stack.group.logs("scheduler-a") + stack.group.logs("scheduler-b")
    assert '"ran": false' in logs and '"ran": true' in logs
