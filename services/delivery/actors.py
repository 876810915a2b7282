"""The delivery jobs' Dramatiq actors: email, WhatsApp and webhook events.

Each job carries ids only; the worker claims the delivery from the invoice service (record
before send), sends, and reports. Temporary failures are retried with backoff (a Retry-After
is honoured by sending the job again with that delay); permanent ones fail at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from dramatiq.brokers.redis import RedisBroker
from dramatiq.message import Message, generate_unique_id
from dramatiq.middleware import CurrentMessage
from suoops.invoice.v1 import delivery_callback_pb2 as pb

from services.common.broker import declare_actor
from services.common.queues import (
    DEFAULT,
    EMAIL_SENDING,
    SEND_EMAIL_ACTOR,
    SEND_WEBHOOK_ACTOR,
    SEND_WHATSAPP_ACTOR,
    WHATSAPP_SENDING,
)
from services.common.settings import Settings
from services.delivery.content import invoice_email, pdf_filename, whatsapp_caption
from services.delivery.delivery_callbacks import DeliveryCallbacks
from services.delivery.errors import PermanentDeliveryError, TemporaryDeliveryError
from services.delivery.outlets import Outlets

log = logging.getLogger(__name__)
# Reporting a finished send is retried in place this many times: a lost report would send
# the message again.
REPORT_TRIES = 3
REPORT_BACKOFF_SECONDS = 0.5
# A server's Retry-After is honoured up to this long (a bad header must not park a job for days).
MAX_RETRY_AFTER_MS = 3_600_000


class RetryLater(Exception):
    """A temporary failure: the Retries middleware runs the job again after a backoff."""


def _current() -> tuple[Message[Any], int]:
    message = CurrentMessage.get_current_message()
    if message is None:
        raise RuntimeError("delivery actors need the CurrentMessage middleware")
    return message, int(message.options.get("retries", 0))


def _error_text(exc: Exception) -> str:
    if isinstance(exc, TemporaryDeliveryError | PermanentDeliveryError):
        return str(exc)[:1000]
    return f"{type(exc).__name__}: {exc}"[:1000]


def _report(call: Callable[[], bool]) -> None:
    """Report to the invoice service, trying again briefly: the job's retry is the last resort."""
    for attempt in range(1, REPORT_TRIES + 1):
        try:
            call()
            return
        except Exception as exc:
            if attempt == REPORT_TRIES:
                raise
            log.warning("report failed; trying again", extra={"error": type(exc).__name__})
            time.sleep(REPORT_BACKOFF_SECONDS * attempt)


class _Retrying:
    """Decides what follows a temporary failure: another try (when and how), or giving up."""

    def __init__(self, broker: RedisBroker, max_retries: int) -> None:
        self._broker = broker
        self.max_retries = max_retries

    def is_final(self, retries: int) -> bool:
        return retries >= self.max_retries

    def again(self, message: Message[Any], retries: int, exc: Exception) -> None:
        """Send the job again after the server's Retry-After, or let the middleware back off."""
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is None:
            raise RetryLater(_error_text(exc)) from None
        delay_ms = min(max(int(retry_after * 1000), 0), MAX_RETRY_AFTER_MS)
        self._broker.enqueue(
            message.copy(message_id=generate_unique_id(), options={"retries": retries + 1}),
            delay=delay_ms,
        )
        log.info(
            "delivery deferred as the server asked",
            extra={"actor": message.actor_name, "delay_ms": delay_ms, "retries": retries + 1},
        )


def register_delivery_actors(
    broker: RedisBroker, settings: Settings, callbacks: DeliveryCallbacks, outlets: Outlets
) -> None:
    """Declare the email, WhatsApp and webhook actors on this broker."""
    deliveries = _Retrying(broker, settings.delivery_max_retries)
    hooks = _Retrying(broker, settings.webhook_max_retries)

    def deliver(channel: str, payload: dict[str, Any], send: Callable[[Any], None]) -> None:
        message, retries = _current()
        invoice_id = str(payload["invoice_id"])
        claim = message.message_id
        started = callbacks.start_delivery(invoice_id, channel, claim)
        if not started.send:
            log.info(
                "delivery skipped: already sent, failed or being sent",
                extra={"invoice_id": invoice_id, "channel": channel},
            )
            return
        try:
            send(started)
        except PermanentDeliveryError as exc:
            error = _error_text(exc)
            _report(
                lambda: callbacks.delivery_failed(invoice_id, channel, claim, error, final=True)
            )
            log.warning(
                "delivery failed",
                extra={"invoice_id": invoice_id, "channel": channel, "error": error},
            )
            return
        except Exception as exc:  # temporary, or unexpected (storage, network): retry
            error, final = _error_text(exc), deliveries.is_final(retries)
            _report(
                lambda: callbacks.delivery_failed(invoice_id, channel, claim, error, final=final)
            )
            log.warning(
                "delivery attempt failed",
                extra={
                    "invoice_id": invoice_id,
                    "channel": channel,
                    "error": error,
                    "final": final,
                },
            )
            if not final:
                deliveries.again(message, retries, exc)
            return
        _report(lambda: callbacks.delivered(invoice_id, channel, claim))
        log.info("delivered", extra={"invoice_id": invoice_id, "channel": channel})

    def send_email(payload: dict[str, Any]) -> None:
        def send(started: pb.StartDeliveryResponse) -> None:
            if outlets.smtp is None:
                raise PermanentDeliveryError("email delivery is not configured (SMTP_URL)")
            invoice = started.invoice
            if not invoice.customer_email:
                raise PermanentDeliveryError("the invoice has no customer_email")
            pdf = outlets.read_pdf(started.pdf_storage_key)
            outlets.smtp.send(invoice_email(invoice, pdf, invoice.business.name))

        deliver("email", payload, send)

    def send_whatsapp(payload: dict[str, Any]) -> None:
        def send(started: pb.StartDeliveryResponse) -> None:
            if outlets.whatsapp is None:
                raise PermanentDeliveryError("WhatsApp delivery is not configured")
            invoice = started.invoice
            if not invoice.customer_phone:
                raise PermanentDeliveryError("the invoice has no customer_phone")
            if not started.pdf_url:
                raise TemporaryDeliveryError("no link to the PDF yet")
            outlets.whatsapp.send_document(
                invoice.customer_phone,
                started.pdf_url,
                pdf_filename(invoice),
                whatsapp_caption(invoice),
            )

        deliver("whatsapp", payload, send)

    def send_webhook(payload: dict[str, Any]) -> None:
        message, retries = _current()
        event_id = str(payload["event_id"])
        started = callbacks.start_webhook_attempt(event_id)
        if not started.send:
            log.info(
                "webhook event skipped: done or its webhook deleted", extra={"event_id": event_id}
            )
            return
        try:
            outlets.webhooks.post(started.url, started.body, started.secret, started.event_id)
        except PermanentDeliveryError as exc:
            error = _error_text(exc)
            _report(lambda: callbacks.webhook_failed(event_id, error, final=True))
            log.warning("webhook event refused", extra={"event_id": event_id, "error": error})
            return
        except Exception as exc:
            error, final = _error_text(exc), hooks.is_final(retries)
            _report(lambda: callbacks.webhook_failed(event_id, error, final=final))
            log.warning(
                "webhook attempt failed",
                extra={"event_id": event_id, "error": error, "final": final},
            )
            if not final:
                hooks.again(message, retries, exc)
            return
        _report(lambda: callbacks.webhook_sent(event_id))
        log.info("webhook event sent", extra={"event_id": event_id})

    delivery_options: dict[str, Any] = {
        "max_retries": settings.delivery_max_retries,
        "min_backoff": settings.delivery_min_backoff_ms,
        "max_backoff": settings.delivery_max_backoff_ms,
        "time_limit": int(settings.render_hard_limit_seconds * 1000),
    }
    declare_actor(broker, send_email, SEND_EMAIL_ACTOR, EMAIL_SENDING, **delivery_options)
    declare_actor(broker, send_whatsapp, SEND_WHATSAPP_ACTOR, WHATSAPP_SENDING, **delivery_options)
    declare_actor(
        broker,
        send_webhook,
        SEND_WEBHOOK_ACTOR,
        DEFAULT,
        max_retries=settings.webhook_max_retries,
        min_backoff=settings.webhook_min_backoff_ms,
        max_backoff=settings.webhook_max_backoff_ms,
        time_limit=int(settings.render_hard_limit_seconds * 1000),
    )
