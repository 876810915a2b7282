"""The delivery actors on Dramatiq's stub broker: claim, send, report; retry or give up."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage
from suoops.invoice.v1 import delivery_callback_pb2 as pb
from suoops.invoice.v1 import invoice_pb2

from services.delivery.actors import register_delivery_actors
from services.delivery.errors import PermanentDeliveryError, TemporaryDeliveryError
from services.delivery.outlets import Outlets
from tests.conftest import make_settings

pytestmark = pytest.mark.unit
INVOICE = invoice_pb2.Invoice(
    invoice_id="INV-ACTOR00001",
    customer_email="ada@example.com",
    customer_phone="+2348012345678",
    currency="NGN",
    amount="5000.00",
    business=invoice_pb2.BusinessInfo(business_id="biz_1", name="Ada's Fabrics"),
)


class FakeCallbacks:
    """The invoice service's side: one pending delivery, claimable unless `sent`."""

    def __init__(self, send: bool = True) -> None:
        self.send = send
        self.calls: list[tuple[Any, ...]] = []

    def start_delivery(self, invoice_id: str, channel: str, claim: str) -> pb.StartDeliveryResponse:
        self.calls.append(("start", channel))
        if not self.send:
            return pb.StartDeliveryResponse(send=False)
        return pb.StartDeliveryResponse(
            send=True, invoice=INVOICE, pdf_storage_key="k.pdf", pdf_url="https://s3.test/k.pdf"
        )

    def delivered(self, invoice_id: str, channel: str, claim: str) -> bool:
        self.calls.append(("delivered", channel))
        return True

    def delivery_failed(
        self, invoice_id: str, channel: str, claim: str, error: str, *, final: bool
    ) -> bool:
        self.calls.append(("failed", channel, error, final))
        return True


class ScriptedSender:
    """Raises the scripted errors in turn, then succeeds; records what it was given."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.sent: list[Any] = []

    def _next(self, item: Any) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(item)

    def send(self, message: Any) -> None:
        self._next(message)

    def send_document(self, to: str, link: str, filename: str, caption: str) -> str:
        self._next((to, link, filename, caption))
        return "wamid.1"


class FakeS3:
    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        assert Key == "k.pdf"
        return {"Body": io.BytesIO(b"%PDF-1.7 stored")}


@pytest.fixture
def broker() -> Iterator[StubBroker]:
    stub = StubBroker()
    stub.add_middleware(CurrentMessage())
    dramatiq.set_broker(stub)
    yield stub
    stub.close()


def run(broker: StubBroker, callbacks: FakeCallbacks, sender: ScriptedSender, actor: str) -> None:
    settings = make_settings(DELIVERY_MAX_RETRIES="2", DELIVERY_MIN_BACKOFF_MS="10")
    outlets = Outlets(
        s3=FakeS3(),
        bucket="b",
        smtp=sender,
        whatsapp=sender,
        webhooks=None,  # type: ignore[arg-type]
    )
    register_delivery_actors(broker, settings, callbacks, outlets)  # type: ignore[arg-type]
    channel = "email" if actor == "send_email" else "whatsapp"
    broker.get_actor(actor).send({"invoice_id": INVOICE.invoice_id, "channel": channel})
    worker = dramatiq.Worker(broker, worker_timeout=10)
    worker.start()
    try:
        broker.join(broker.get_actor(actor).queue_name, fail_fast=False, timeout=10_000)
        worker.join()
    finally:
        worker.stop()


def test_an_email_carries_the_stored_pdf_and_is_reported_sent(broker: StubBroker) -> None:
    callbacks, smtp = FakeCallbacks(), ScriptedSender()
    run(broker, callbacks, smtp, "send_email")
    [message] = smtp.sent
    assert message.to == "ada@example.com" and message.attachment == b"%PDF-1.7 stored"
    assert message.attachment_name == "INV-ACTOR00001.pdf"
    assert callbacks.calls == [("start", "email"), ("delivered", "email")]


def test_a_job_for_a_delivery_already_sent_sends_nothing(broker: StubBroker) -> None:
    callbacks, smtp = FakeCallbacks(send=False), ScriptedSender()
    run(broker, callbacks, smtp, "send_email")
    assert smtp.sent == [] and callbacks.calls == [("start", "email")]


def test_a_permanent_error_fails_the_delivery_at_once(broker: StubBroker) -> None:
    callbacks = FakeCallbacks()
    whatsapp = ScriptedSender(PermanentDeliveryError("(#131026) Message undeliverable"))
    run(broker, callbacks, whatsapp, "send_whatsapp")
    assert whatsapp.sent == []
    assert callbacks.calls == [
        ("start", "whatsapp"),
        ("failed", "whatsapp", "(#131026) Message undeliverable", True),
    ]


def test_retry_after_sends_the_job_again_and_the_second_attempt_succeeds(
    broker: StubBroker,
) -> None:
    callbacks = FakeCallbacks()
    whatsapp = ScriptedSender(TemporaryDeliveryError("HTTP 429", retry_after=0.05))
    run(broker, callbacks, whatsapp, "send_whatsapp")
    [(to, link, filename, caption)] = whatsapp.sent
    assert (to, link, filename) == ("+2348012345678", "https://s3.test/k.pdf", "INV-ACTOR00001.pdf")
    assert "5,000.00" in caption
    assert callbacks.calls == [
        ("start", "whatsapp"),
        ("failed", "whatsapp", "HTTP 429", False),
        ("start", "whatsapp"),
        ("delivered", "whatsapp"),
    ]


def test_temporary_errors_stop_after_the_last_retry_with_the_delivery_failed(
    broker: StubBroker,
) -> None:
    callbacks = FakeCallbacks()
    smtp = ScriptedSender(*(TemporaryDeliveryError(f"451 busy {i}") for i in range(5)))
    run(broker, callbacks, smtp, "send_email")
    failures = [c for c in callbacks.calls if c[0] == "failed"]
    # Two retries after the first attempt: three tries, the last one final.
    assert failures == [
        ("failed", "email", "451 busy 0", False),
        ("failed", "email", "451 busy 1", False),
        ("failed", "email", "451 busy 2", True),
    ]
    assert smtp.sent == []
