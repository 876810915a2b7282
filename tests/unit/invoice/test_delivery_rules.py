"""The delivery and webhook rules on their own: claims, outcomes, events, registration."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from services.invoice.domain import deliveries, webhooks
from services.invoice.domain.deliveries import Delivery
from services.invoice.domain.errors import InvalidInput
from services.invoice.domain.model import Invoice
from services.invoice.domain.webhooks import Webhook, WebhookEvent

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def invoice(pdf_status: str, deliver: list[str]) -> Invoice:
    return Invoice(
        invoice_id="INV-TEST000001",
        business_id=1,
        customer_name="Ada",
        customer_email="ada@example.com",
        customer_phone="+2348012345678",
        currency="NGN",
        lines=[],
        tax_rate=Decimal(0),
        subtotal=Decimal(1),
        tax=Decimal(0),
        amount=Decimal(1),
        due_date=None,
        notes=None,
        deliver=deliver,
        created_at=NOW,
        updated_at=NOW,
        pdf_status=pdf_status,
    )


def delivery() -> Delivery:
    return Delivery(invoice_pk=1, channel="email", created_at=NOW, updated_at=NOW)


def test_only_a_ready_pdf_is_delivered_once_per_channel() -> None:
    assert deliveries.channels_to_deliver(invoice("ready", ["email", "whatsapp", "email"])) == [
        "email",
        "whatsapp",
    ]
    assert deliveries.channels_to_deliver(invoice("rendering", ["email"])) == []
    assert deliveries.channels_to_deliver(invoice("failed", ["email"])) == []


def test_a_claim_held_by_another_job_is_refused_until_its_lease_ends() -> None:
    d = delivery()
    assert deliveries.claim(d, "a", NOW, LEASE)
    assert not deliveries.claim(d, "b", NOW + timedelta(minutes=5), LEASE)
    assert deliveries.claim(d, "a", NOW + timedelta(minutes=5), LEASE)  # its own retry
    assert deliveries.claim(d, "b", NOW + timedelta(minutes=16), LEASE)
    assert d.claim == "b" and d.attempts == 3


def test_only_the_claim_holder_completes_and_a_sent_delivery_is_never_claimed_again() -> None:
    d = delivery()
    deliveries.claim(d, "a", NOW, LEASE)
    assert not deliveries.complete(d, "b", NOW)
    assert deliveries.complete(d, "a", NOW)
    assert (d.status, d.sent_at, d.claim) == ("sent", NOW, None)
    assert not deliveries.claim(d, "c", NOW + timedelta(days=1), LEASE)
    assert not deliveries.fail(d, "a", "late", True, NOW)


def test_a_temporary_failure_frees_the_claim_and_a_final_one_fails_with_the_text() -> None:
    d = delivery()
    deliveries.claim(d, "a", NOW, LEASE)
    assert deliveries.fail(d, "a", "451 busy", False, NOW)
    assert (d.status, d.claim, d.error) == ("pending", None, "451 busy")
    assert deliveries.claim(d, "b", NOW, LEASE)
    assert deliveries.fail(d, "b", "550 no such user", True, NOW)
    assert (d.status, d.error, d.attempts) == ("failed", "550 no such user", 2)


def test_pdf_and_delivery_states_name_their_events() -> None:
    assert webhooks.pdf_event_type(invoice("ready", [])) == "invoice.pdf_ready"
    assert webhooks.pdf_event_type(invoice("failed", [])) == "invoice.pdf_failed"
    assert webhooks.pdf_event_type(invoice("rendering", [])) is None
    assert webhooks.delivery_event_type("sent") == "invoice.delivered"
    assert webhooks.delivery_event_type("failed") == "invoice.delivery_failed"
    assert webhooks.delivery_event_type("pending") is None


def test_the_event_body_is_the_same_bytes_every_time() -> None:
    event = WebhookEvent(
        event_id="evt_1",
        webhook_pk=1,
        type="invoice.pdf_ready",
        invoice_id="INV-1",
        payload={"invoice_id": "INV-1", "customer_name": "Adébáyọ̀ 🎉"},
        created_at=NOW,
        updated_at=NOW,
    )
    body = webhooks.event_body(event)
    assert body == webhooks.event_body(event)
    assert json.loads(body) == {
        "id": "evt_1",
        "type": "invoice.pdf_ready",
        "created_at": "2026-11-28T12:00:00Z",
        "data": {"invoice_id": "INV-1", "customer_name": "Adébáyọ̀ 🎉"},
    }


def test_a_deleted_webhook_gives_its_pending_event_up() -> None:
    hook = Webhook("wh_1", 1, "https://x.test", ["invoice.pdf_ready"], "s", NOW, deleted_at=NOW)
    event = WebhookEvent("evt_1", 1, "invoice.pdf_ready", "INV-1", {}, NOW, NOW)
    assert not webhooks.start_attempt(event, hook, NOW)
    assert event.status == "failed" and event.last_error == "the webhook was deleted"


@pytest.mark.parametrize(
    ("url", "events", "fields"),
    [
        ("ftp://x.test/hook", ["invoice.pdf_ready"], ["url"]),
        ("https:///nohost", ["invoice.pdf_ready"], ["url"]),
        ("https://x.test:99999/", ["invoice.pdf_ready"], ["url"]),
        ("https://x.test/a b", ["invoice.pdf_ready"], ["url"]),
        ("https://x.test/", [], ["events"]),
        ("https://x.test/", ["invoice.pdf_ready", "invoice.paid"], ["events[1]"]),
    ],
)
def test_a_bad_registration_names_each_field(
    url: str, events: list[str], fields: list[str]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        webhooks.checked_registration(url, events)
    assert [f.field for f in caught.value.fields] == fields


def test_a_good_registration_keeps_each_event_once() -> None:
    url, events = webhooks.checked_registration(
        " http://hooks.example:8080/in?x=1 ", ["invoice.delivered", "invoice.delivered"]
    )
    assert (url, events) == ("http://hooks.example:8080/in?x=1", ["invoice.delivered"])


def test_a_webhook_event_is_given_up_once_its_retry_window_closes() -> None:
    event = WebhookEvent("evt_1", 1, "invoice.pdf_ready", "INV-1", {}, NOW, NOW)
    window = timedelta(hours=24)
    assert webhooks.fail_attempt(event, "503", False, NOW + timedelta(hours=23), window)
    assert event.status == "pending"
    assert webhooks.fail_attempt(event, "503", False, NOW + timedelta(hours=24), window)
    assert event.status == "failed" and event.last_error == "503"
