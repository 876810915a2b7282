"""The scheduler over real processes: an email and a webhook event whose jobs Redis lost are
still sent, once each."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest
import redis

from services.common.queues import DEFAULT, EMAIL_SENDING, ready_key
from tests.e2e.conftest import Stack
from tests.support.smtp_server import SmtpTestServer
from tests.support.webhook_receiver import WebhookReceiver

pytestmark = pytest.mark.e2e
WAIT = 60.0
SWEEP_SECONDS = 1


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as hooks:
        yield hooks


def wait_until(what: str, done: Callable[[], bool], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def email_delivery(stack: Stack, invoice_id: str) -> dict[str, object]:
    response = httpx.get(
        f"{stack.gateway_url}/invoices/{invoice_id}",
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    [delivery] = response.json()["deliveries"]
    assert delivery["channel"] == "email"
    return dict(delivery)


def sweep_details(conn: psycopg.Connection) -> list[str]:
    """What each delivery sweep so far did."""
    rows = conn.execute(
        "SELECT detail FROM scheduled_runs WHERE job = 'sweep_stuck_deliveries' ORDER BY ran_at"
    ).fetchall()
    return [str(row[0]) for row in rows]


def requeued_counts(details: list[str]) -> tuple[int, int]:
    """Deliveries and webhook events queued again, over all those sweeps."""
    found = [re.match(r"requeued (\d+) delivery\(ies\) and (\d+) webhook", d) for d in details]
    counts = [(int(m[1]), int(m[2])) for m in found if m]
    assert len(counts) == len(details), details
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def test_an_email_and_an_event_whose_jobs_redis_lost_are_requeued_and_sent_once(
    make_stack: Callable[..., Stack],
    redis_url: str,
    smtp: SmtpTestServer,
    receiver: WebhookReceiver,
) -> None:
    stack = make_stack(
        ("invoice", "gateway", "worker"),
        SMTP_URL=smtp.url,
        WEBHOOK_ALLOW_PRIVATE="1",  # the receiver listens on 127.0.0.1
        DELIVERY_STUCK_AFTER_SECONDS="3",
        SWEEP_INTERVAL_SECONDS=str(SWEEP_SECONDS),
    )
    hook = httpx.post(
        stack.gateway_url + "/webhooks",
        json={"url": receiver.url, "events": ["invoice.pdf_ready"]},
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=10,
    )
    assert hook.status_code == 201, hook.text
    created = httpx.post(
        stack.gateway_url + "/invoices",
        json={
            "customer_name": "Lost Email",
            "customer_email": "adaeze@example.com",
            "amount": "4200",
            "deliver": ["email"],
        },
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    invoice_id = created.json()["invoice_id"]
    stack.wait_for_pdf(invoice_id)

    # The delivery worker is not running: the jobs are published, then Redis loses them.
    queue = redis.Redis.from_url(redis_url)
    lost = [ready_key(EMAIL_SENDING.name), ready_key(DEFAULT.name)]
    wait_until("both jobs in Redis", lambda: [queue.llen(key) for key in lost] == [1, 1])
    assert queue.delete(*lost, *(f"{key}.msgs" for key in lost)) == 4
    assert email_delivery(stack, invoice_id)["status"] == "pending"

    stack.start("delivery")
    stack.start("scheduler")
    [mail] = smtp.wait_for_messages(1, timeout=WAIT)
    assert mail.rcpt_tos == ["adaeze@example.com"]
    [event] = receiver.wait_for_requests(1, timeout=WAIT)
    assert event.json()["type"] == "invoice.pdf_ready"
    assert event.json()["data"]["invoice_id"] == invoice_id
    wait_until(
        "the delivery recorded as sent",
        lambda: email_delivery(stack, invoice_id)["status"] == "sent",
    )

    # Several more sweeps: what was sent is never queued again, so nothing arrives twice.
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        before = len(sweep_details(conn))
        wait_until("three more sweeps", lambda: len(sweep_details(conn)) >= before + 3)
        details = sweep_details(conn)
    assert requeued_counts(details) == (1, 1)  # each queued again once
    assert len(smtp.messages) == 1 and len(receiver.requests) == 1
    delivery = email_delivery(stack, invoice_id)
    assert delivery["status"] == "sent" and delivery["attempts"] == 1
