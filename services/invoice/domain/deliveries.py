"""Deliveries of a ready PDF to the customer: one per channel, sent once, recorded before send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.invoice.domain.model import Invoice, PdfStatus

MAX_ERROR_LENGTH = 2000


class DeliveryStatus(StrEnum):
    """Where one delivery is."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass
class Delivery:
    """Sending the invoice's PDF over one channel; `claim` names the job allowed to send it."""

    invoice_pk: int
    channel: str
    created_at: datetime
    updated_at: datetime
    status: str = DeliveryStatus.PENDING.value
    attempts: int = 0
    error: str | None = None
    sent_at: datetime | None = None
    claim: str | None = None
    claimed_at: datetime | None = None
    id: int | None = None


def channels_to_deliver(invoice: Invoice) -> list[str]:
    """The channels that get a delivery now: those asked for, once the PDF is ready."""
    if invoice.pdf_status != PdfStatus.READY.value:
        return []
    return list(dict.fromkeys(invoice.deliver))


def claim(delivery: Delivery, token: str, now: datetime, lease: timedelta) -> bool:
    """Take the right to send (record before send); False when sent, failed or held by another.

    The same token may claim again (a retried job keeps its message id), and a claim older
    than the lease is taken over (its holder died mid-send).
    """
    if delivery.status != DeliveryStatus.PENDING.value:
        return False
    held = delivery.claim is not None and delivery.claim != token
    if held and delivery.claimed_at is not None and now - delivery.claimed_at < lease:
        return False
    delivery.claim = token
    delivery.claimed_at = now
    delivery.attempts += 1
    delivery.updated_at = now
    return True


def complete(delivery: Delivery, token: str, now: datetime) -> bool:
    """Record the send; False (no change) unless this token holds the claim."""
    if delivery.status != DeliveryStatus.PENDING.value or delivery.claim != token:
        return False
    delivery.status = DeliveryStatus.SENT.value
    delivery.sent_at = delivery.updated_at = now
    delivery.error = None
    delivery.claim = None
    return True


def fail(delivery: Delivery, token: str, error: str, final: bool, now: datetime) -> bool:
    """Record a failed attempt and let the claim go; `final` moves the delivery to failed."""
    if delivery.status != DeliveryStatus.PENDING.value or delivery.claim != token:
        return False
    delivery.error = error[:MAX_ERROR_LENGTH]
    delivery.claim = None
    delivery.claimed_at = None
    if final:
        delivery.status = DeliveryStatus.FAILED.value
    delivery.updated_at = now
    return True
