"""Webhooks over real processes: registered over REST, signed, retried with the same event id."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.conftest import Stack
from tests.support.webhook_receiver import ReceivedRequest, WebhookReceiver

pytestmark = pytest.mark.e2e
WAIT = 60.0


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as hooks:
        yield hooks


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Stack:
    # The receiver listens on 127.0.0.1: the operator's switch for tests allows it.
    return make_stack(("invoice", "gateway", "worker", "delivery"), WEBHOOK_ALLOW_PRIVATE="1")


def call(stack: Stack, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(
        method,
        stack.gateway_url + path,
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=10,
        **kwargs,
    )


def create_invoice(stack: Stack) -> str:
    response = call(stack, "POST", "/invoices", json={"customer_name": "Ada", "amount": "7000"})
    assert response.status_code == 201, response.text
    invoice_id: str = response.json()["invoice_id"]
    return invoice_id


def signature_is_valid(secret: str, request: ReceivedRequest) -> bool:
    """Checks SuoOps-Signature as a receiver would: HMAC-SHA256 of "<t>.<body>"."""
    header = request.header("SuoOps-Signature") or ""
    parts = dict(item.split("=", 1) for item in header.split(","))
    signed = parts["t"].encode() + b"." + request.body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def event_row(stack: Stack, event_id: str) -> tuple[Any, ...]:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT status, attempts, last_error FROM webhook_events WHERE event_id = %s",
            (event_id,),
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_a_signed_pdf_ready_event_arrives_a_third_time_after_two_500s(
    stack: Stack, receiver: WebhookReceiver
) -> None:
    created = call(
        stack, "POST", "/webhooks", json={"url": receiver.url, "events": ["invoice.pdf_ready"]}
    )
    assert created.status_code == 201, created.text
    webhook = created.json()
    assert webhook["url"] == receiver.url and webhook["events"] == ["invoice.pdf_ready"]
    secret = webhook["secret"]
    assert secret and webhook["webhook_id"].startswith("wh_")
    listed = call(stack, "GET", "/webhooks").json()["webhooks"]
    assert [w["webhook_id"] for w in listed] == [webhook["webhook_id"]]
    assert "secret" not in listed[0]

    receiver.answer_next(500, 500)
    invoice_id = create_invoice(stack)
    first, second, third = receiver.wait_for_requests(3, timeout=WAIT)
    assert [r.status for r in (first, second, third)] == [500, 500, 200]
    ids = {r.header("SuoOps-Event-Id") for r in (first, second, third)}
    assert len(ids) == 1
    [event_id] = ids
    assert event_id is not None and event_id.startswith("evt_")
    assert first.body == second.body == third.body
    for request in (first, second, third):
        assert signature_is_valid(secret, request)
    assert not signature_is_valid("whsec_wrong", third)
    event = third.json()
    assert event["id"] == event_id and event["type"] == "invoice.pdf_ready"
    assert event["created_at"].endswith("Z")
    assert event["data"]["invoice_id"] == invoice_id and event["data"]["pdf_status"] == "ready"
    assert event["data"]["amount"] == "7000.00"

    deadline = time.monotonic() + WAIT
    while event_row(stack, event_id)[0] != "sent":
        assert time.monotonic() < deadline, event_row(stack, event_id)
        time.sleep(0.05)
    assert event_row(stack, event_id) == ("sent", 3, None)
    for name in stack.started:
        assert secret not in stack.group.logs(name), f"the webhook secret is in the {name} log"

    deleted = call(stack, "DELETE", f"/webhooks/{webhook['webhook_id']}")
    assert deleted.status_code == 204
    assert call(stack, "GET", "/webhooks").json() == {"webhooks": []}
    again = call(stack, "DELETE", f"/webhooks/{webhook['webhook_id']}")
    assert again.status_code == 404


def test_bad_registrations_answer_422_and_private_receivers_are_refused(
    make_stack: Callable[..., Stack], receiver: WebhookReceiver
) -> None:
    stack = make_stack(("invoice", "gateway", "worker", "delivery"))  # private addresses refused
    response = call(
        stack, "POST", "/webhooks", json={"url": "ftp://files", "events": ["invoice.paid"]}
    )
    assert response.status_code == 422, response.text
    fields = [f["field"] for f in response.json()["error"]["fields"]]
    assert fields == ["url", "events[0]"]
    wrong_types = call(stack, "POST", "/webhooks", json={"url": 5, "events": "invoice.pdf_ready"})
    assert wrong_types.status_code == 422
    assert [f["field"] for f in wrong_types.json()["error"]["fields"]] == ["url", "events"]
    no_host = call(stack, "POST", "/webhooks", json={"url": "https://", "events": []})
    assert [f["field"] for f in no_host.json()["error"]["fields"]] == ["url", "events"]
    assert call(stack, "GET", "/webhooks").json() == {"webhooks": []}

    # Registering a loopback URL is allowed; sending to it is not (checked at send time).
    created = call(
        stack, "POST", "/webhooks", json={"url": receiver.url, "events": ["invoice.pdf_ready"]}
    )
    assert created.status_code == 201
    create_invoice(stack)
    deadline = time.monotonic() + WAIT
    while True:
        with psycopg.connect(stack.database_url) as conn:
            rows = conn.execute(
                "SELECT status, attempts, last_error FROM webhook_events"
            ).fetchall()
        if rows and rows[0][0] != "pending":
            break
        assert time.monotonic() < deadline, rows
        time.sleep(0.05)
    [(status, attempts, error)] = rows
    assert (status, attempts) == ("failed", 1)
    assert "private" in error.lower() or "loopback" in error.lower(), error
    assert receiver.requests == []
