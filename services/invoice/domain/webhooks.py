"""Webhooks: a business's endpoints, the events they subscribe to, and each event's attempts."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from services.invoice.domain.errors import FieldError, InvalidInput
from services.invoice.domain.model import Invoice, PdfStatus

PDF_READY = "invoice.pdf_ready"
PDF_FAILED = "invoice.pdf_failed"
DELIVERED = "invoice.delivered"
DELIVERY_FAILED = "invoice.delivery_failed"
EVENT_TYPES = (PDF_READY, PDF_FAILED, DELIVERED, DELIVERY_FAILED)
MAX_URL = 2048
MAX_ERROR_LENGTH = 2000


class EventStatus(StrEnum):
    """Where one event's delivery to one endpoint is."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass
class Webhook:
    """An endpoint a business registered; the secret signs every event sent to it."""

    webhook_id: str
    business_id: int
    url: str
    events: list[str]
    secret: str
    created_at: datetime
    deleted_at: datetime | None = None
    id: int | None = None


@dataclass
class WebhookEvent:
    """One event for one endpoint: the same id and body on every attempt."""

    event_id: str
    webhook_pk: int
    type: str
    invoice_id: str
    payload: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    status: str = EventStatus.PENDING.value
    attempts: int = 0
    last_error: str | None = None
    sent_at: datetime | None = None
    id: int | None = None


def new_webhook_id() -> str:
    return "wh_" + secrets.token_hex(12)


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def checked_registration(url: str, events: list[str]) -> tuple[str, list[str]]:
    """The url and events to register, or InvalidInput naming every bad field."""
    problems: list[FieldError] = []
    url = url.strip()
    try:
        parts = urlsplit(url)
        valid_url = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        valid_url = False
    if not valid_url or len(url) > MAX_URL or any(c.isspace() for c in url):
        problems.append(FieldError("url", "must be an http or https URL with a host"))
    if not events:
        problems.append(FieldError("events", "must name at least one event"))
    for index, event in enumerate(events):
        if event not in EVENT_TYPES:
            problems.append(
                FieldError(f"events[{index}]", f"must be one of {', '.join(EVENT_TYPES)}")
            )
    if problems:
        raise InvalidInput(problems)
    return url, list(dict.fromkeys(events))


def pdf_event_type(invoice: Invoice) -> str | None:
    """The event a PDF state announces: ready or (finally) failed; None otherwise."""
    if invoice.pdf_status == PdfStatus.READY.value:
        return PDF_READY
    if invoice.pdf_status == PdfStatus.FAILED.value:
        return PDF_FAILED
    return None


def delivery_event_type(delivery_status: str) -> str | None:
    """The event a delivery's new status announces."""
    return {"sent": DELIVERED, "failed": DELIVERY_FAILED}.get(delivery_status)


def event_body(event: WebhookEvent) -> bytes:
    """The exact bytes POSTed (and signed) on every attempt of the event."""
    created = event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        {"id": event.event_id, "type": event.type, "created_at": created, "data": event.payload},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def start_attempt(event: WebhookEvent, webhook: Webhook, now: datetime) -> bool:
    """Count an attempt; False when the event is done or its endpoint was deleted."""
    if event.status != EventStatus.PENDING.value:
        return False
    if webhook.deleted_at is not None:
        event.status = EventStatus.FAILED.value
        event.last_error = "the webhook was deleted"
        event.updated_at = now
        return False
    event.attempts += 1
    event.updated_at = now
    return True


def complete_attempt(event: WebhookEvent, now: datetime) -> bool:
    if event.status != EventStatus.PENDING.value:
        return False
    event.status = EventStatus.SENT.value
    event.sent_at = event.updated_at = now
    event.last_error = None
    return True


def fail_attempt(
    event: WebhookEvent, error: str, final: bool, now: datetime, window: timedelta | None = None
) -> bool:
    """Record a failed attempt; the last one (or one after the retry window) fails the event."""
    if event.status != EventStatus.PENDING.value:
        return False
    event.last_error = error[:MAX_ERROR_LENGTH]
    if final or (window is not None and now - event.created_at >= window):
        event.status = EventStatus.FAILED.value
    event.updated_at = now
    return True
