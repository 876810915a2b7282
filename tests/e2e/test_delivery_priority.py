"""The delivery queues have their own workers: a render backlog never holds an email up."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest
import redis

from services.common.queues import PDF_GENERATION, ready_key
from tests.e2e.conftest import Stack
from tests.support.smtp_server import SmtpTestServer

pytestmark = pytest.mark.e2e
BACKLOG = 500


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


def not_ready_count(stack: Stack) -> int:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM invoices WHERE pdf_status <> 'ready'").fetchone()
    assert row is not None
    return int(row[0])


def test_an_email_for_a_ready_invoice_goes_out_while_500_renders_wait(
    make_stack: Callable[..., Stack], smtp: SmtpTestServer
) -> None:
    stack = make_stack(("invoice", "gateway", "renderer", "delivery"), SMTP_URL=smtp.url)
    # The render pool is deliberately slow: one process, a second a PDF.
    stack.start(
        "worker",
        RENDERER_FACTORY="tests.support.renderers:SlowRenderer",
        SLOW_RENDER_SECONDS="1",
    )
    headers = {"Authorization": f"Bearer {stack.token}"}
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=10) as client:
        for index in range(BACKLOG):
            response = client.post(
                "/invoices", json={"customer_name": f"Backlog {index}", "amount": "100"}
            )
            assert response.status_code == 201, response.text
        queue = redis.Redis.from_url(stack.env["REDIS_URL"])
        deadline = time.monotonic() + 60
        while queue.llen(ready_key(PDF_GENERATION.name)) < BACKLOG - 50:
            assert time.monotonic() < deadline, "the render backlog never reached the queue"
            time.sleep(0.05)

        # Rendered synchronously (by the renderer service): ready when the call returns.
        created = client.post(
            "/invoices",
            params={"async_pdf": "false"},
            json={
                "customer_name": "Priority Customer",
                "customer_email": "vip@example.com",
                "amount": "250000",
                "deliver": ["email"],
            },
        )
    assert created.status_code == 201, created.text
    invoice = created.json()
    assert invoice["pdf_status"] == "ready"
    ready_at = time.monotonic()

    [mail] = smtp.wait_for_messages(1, timeout=60)
    waited = time.monotonic() - ready_at
    assert mail.rcpt_tos == ["vip@example.com"]
    still_waiting = not_ready_count(stack)
    depth = queue.llen(ready_key(PDF_GENERATION.name))
    print(
        f"email sent {waited * 1000:.0f} ms after the PDF was ready;"
        f" {still_waiting} renders not yet done, {depth} still queued"
    )
    # The email did not wait for the backlog: most of it is still there.
    assert still_waiting >= BACKLOG - 100 and depth > 0
