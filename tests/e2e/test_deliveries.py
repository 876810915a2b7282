"""Email and WhatsApp delivery over real processes, against local servers of each protocol."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import psycopg
import pytest
import redis
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker

from services.common.queues import BROKER_NAMESPACE, EMAIL_SENDING, SEND_EMAIL_ACTOR
from tests.conftest import S3_TEST_CREDENTIALS
from tests.e2e.conftest import Stack
from tests.support.smtp_server import SmtpTestServer
from tests.support.tls import make_certificate
from tests.support.whatsapp_api import WhatsAppTestApi

pytestmark = pytest.mark.e2e
WAIT = 60.0
PHONE = "+2348012345678"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpTestServer]:
    certificate = make_certificate(tmp_path)
    with SmtpTestServer(
        mode="starttls", certificate=certificate, credentials=("mailer", "s3cret pass")
    ) as server:
        yield server


@pytest.fixture
def whatsapp() -> Iterator[WhatsAppTestApi]:
    with WhatsAppTestApi(token="wa-test-token") as api:
        yield api


@pytest.fixture
def stack(
    make_stack: Callable[..., Stack], smtp: SmtpTestServer, whatsapp: WhatsAppTestApi
) -> Stack:
    return make_stack(
        ("invoice", "gateway", "worker", "delivery"),
        SMTP_URL=smtp.url,
        SMTP_FROM="Invoices <invoices@shop.test>",
        WHATSAPP_API_URL=whatsapp.api_url,
        WHATSAPP_PHONE_NUMBER_ID=whatsapp.phone_number_id,
        WHATSAPP_TOKEN="wa-test-token",
    )


def create_invoice(stack: Stack, deliver: list[str]) -> dict[str, Any]:
    response = httpx.post(
        stack.gateway_url + "/invoices",
        json={
            "customer_name": "Ngozi Eze",
            "customer_email": "ngozi@example.com",
            "customer_phone": PHONE,
            "lines": [{"description": "Ankara fabric", "quantity": "3", "unit_price": "12500"}],
            "deliver": deliver,
        },
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def get_invoice(stack: Stack, invoice_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{stack.gateway_url}/invoices/{invoice_id}",
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for_deliveries(
    stack: Stack, invoice_id: str, done: Callable[[dict[str, dict[str, Any]]], bool]
) -> dict[str, dict[str, Any]]:
    """Poll the REST invoice until its deliveries (by channel) satisfy `done`."""
    deadline = time.monotonic() + WAIT
    while True:
        deliveries = {d["channel"]: d for d in get_invoice(stack, invoice_id)["deliveries"]}
        if done(deliveries):
            return deliveries
        if time.monotonic() > deadline:
            logs = {n: stack.group.logs(n)[-3000:] for n in stack.started}
            raise AssertionError(f"deliveries of {invoice_id} stuck at {deliveries}; {logs}")
        time.sleep(0.1)


def all_finished(deliveries: dict[str, dict[str, Any]]) -> bool:
    return bool(deliveries) and all(d["status"] != "pending" for d in deliveries.values())


def stored_pdf(stack: Stack, invoice_id: str) -> bytes:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT pdf_storage_key FROM invoices WHERE invoice_id = %s", (invoice_id,)
        ).fetchone()
    assert row is not None and row[0]
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.env["S3_ENDPOINT_URL"],
        region_name=S3_TEST_CREDENTIALS["AWS_REGION"],
        aws_access_key_id=S3_TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    data: bytes = s3.get_object(Bucket=stack.env["S3_BUCKET"], Key=row[0])["Body"].read()
    return data


def test_ready_pdf_reaches_the_inbox_and_whatsapp_and_shows_as_sent(
    stack: Stack, smtp: SmtpTestServer, whatsapp: WhatsAppTestApi
) -> None:
    invoice = create_invoice(stack, ["whatsapp", "email"])
    invoice_id = invoice["invoice_id"]
    assert invoice["deliveries"] == []

    [mail] = smtp.wait_for_messages(1, timeout=WAIT)
    assert mail.rcpt_tos == ["ngozi@example.com"] and smtp.logins == ["mailer"]
    [(filename, content_type, attachment)] = mail.attachments()
    assert (filename, content_type) == (f"{invoice_id}.pdf", "application/pdf")
    assert attachment == stored_pdf(stack, invoice_id)
    assert invoice_id in mail.body("plain") and invoice_id in mail.body("html")

    [document] = whatsapp.wait_for_documents(1, timeout=WAIT)
    assert document["to"] == PHONE.lstrip("+") and document["type"] == "document"
    assert document["document"]["filename"] == f"{invoice_id}.pdf"
    assert "37,500.00" in document["document"]["caption"]
    pdf_link = document["document"]["link"]
    fetched = httpx.get(pdf_link, timeout=10)
    assert fetched.status_code == 200 and fetched.content == attachment
    assert whatsapp.requests[0].headers["Authorization"] == "Bearer wa-test-token"

    deliveries = wait_for_deliveries(
        stack, invoice_id, lambda d: len(d) == 2 and all(x["status"] == "sent" for x in d.values())
    )
    for delivery in deliveries.values():
        assert delivery["attempts"] == 1 and delivery["error"] is None
        assert delivery["sent_at"] is not None
    for name in stack.started:  # the SMTP password and the WhatsApp token stay secret
        assert "s3cret" not in stack.group.logs(name) and "wa-test-token" not in stack.group.logs(
            name
        )


def test_temporary_failures_are_retried_and_retry_after_is_honoured(
    stack: Stack, smtp: SmtpTestServer, whatsapp: WhatsAppTestApi
) -> None:
    smtp.answer_next(451, "4.3.0 Mailbox busy, try again later")
    whatsapp.answer_next(429, retry_after="2")
    invoice_id = create_invoice(stack, ["email", "whatsapp"])["invoice_id"]

    first_seen = _wait_for_request_count(whatsapp, 1)
    second_seen = _wait_for_request_count(whatsapp, 2)
    # The backoff in this stack is 0.2 to 1 s: only the server's Retry-After explains 2 s.
    assert second_seen - first_seen >= 1.9
    smtp.wait_for_messages(1, timeout=WAIT)
    whatsapp.wait_for_documents(1, timeout=WAIT)
    deliveries = wait_for_deliveries(
        stack, invoice_id, lambda d: len(d) == 2 and all(x["status"] == "sent" for x in d.values())
    )
    assert deliveries["email"]["attempts"] == 2 and deliveries["whatsapp"]["attempts"] == 2
    assert smtp.attempts == 2
    refused, accepted = whatsapp.requests
    assert (refused.status, accepted.status) == (429, 200)


def _wait_for_request_count(whatsapp: WhatsAppTestApi, count: int) -> float:
    deadline = time.monotonic() + WAIT
    while len(whatsapp.requests) < count:
        assert time.monotonic() < deadline, f"fewer than {count} WhatsApp requests"
        time.sleep(0.02)
    return time.monotonic()


def test_permanent_failures_fail_at_once_with_the_servers_text(
    stack: Stack, smtp: SmtpTestServer, whatsapp: WhatsAppTestApi
) -> None:
    smtp.answer_next(550, "5.1.1 No such user here")
    whatsapp.answer_next(400, message="(#131026) Message undeliverable")
    invoice_id = create_invoice(stack, ["email", "whatsapp"])["invoice_id"]

    deliveries = wait_for_deliveries(stack, invoice_id, lambda d: len(d) == 2 and all_finished(d))
    email, sent_by_whatsapp = deliveries["email"], deliveries["whatsapp"]
    assert email["status"] == "failed" and email["attempts"] == 1
    assert "550 5.1.1 No such user here" in email["error"]
    assert sent_by_whatsapp["status"] == "failed" and sent_by_whatsapp["attempts"] == 1
    assert "(#131026) Message undeliverable" in sent_by_whatsapp["error"]
    assert smtp.attempts == 1 and len(whatsapp.requests) == 1


def test_a_duplicate_delivery_job_sends_once(
    stack: Stack, smtp: SmtpTestServer, whatsapp: WhatsAppTestApi
) -> None:
    invoice_id = create_invoice(stack, ["email"])["invoice_id"]
    smtp.wait_for_messages(1, timeout=WAIT)
    wait_for_deliveries(stack, invoice_id, all_finished)
    # The same job again, twice, as a redelivering queue would.
    client = redis.Redis.from_url(stack.env["REDIS_URL"])
    for _ in range(2):
        _enqueue(client, {"invoice_id": invoice_id, "channel": "email"})
    stack.group.wait_log("delivery", "delivery skipped")
    deadline = time.monotonic() + WAIT
    while stack.group.logs("delivery").count("delivery skipped") < 2:
        assert time.monotonic() < deadline, "the duplicate jobs never ran"
        time.sleep(0.05)
    assert len(smtp.messages) == 1 and smtp.attempts == 1
    [email] = get_invoice(stack, invoice_id)["deliveries"]
    assert email["status"] == "sent" and email["attempts"] == 1


def _enqueue(client: redis.Redis, payload: dict[str, Any]) -> None:
    """Put a send_email job on the queue the way Dramatiq's Redis broker does."""
    broker = RedisBroker(client=client, namespace=BROKER_NAMESPACE)
    broker.enqueue(
        Message(
            queue_name=EMAIL_SENDING.name,
            actor_name=SEND_EMAIL_ACTOR,
            args=(payload,),
            kwargs={},
            options={},
        )
    )
