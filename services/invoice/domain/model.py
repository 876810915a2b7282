"""The invoice, its lines, the business that issues it, and the PDF's life cycle."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.invoice.domain.deliveries import Delivery

# Crockford's base32 alphabet: digits and capitals without I, L, O, U (no look-alikes).
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
INVOICE_ID_LENGTH = 10


class PaymentStatus(StrEnum):
    """Whether the customer has paid."""

    PENDING = "pending"
    PAID = "paid"
    VOID = "void"


class PdfStatus(StrEnum):
    """Where the invoice's PDF is."""

    PENDING = "pending"
    RENDERING = "rendering"
    READY = "ready"
    FAILED = "failed"


class Channel(StrEnum):
    """Where a ready PDF can be sent."""

    EMAIL = "email"
    WHATSAPP = "whatsapp"


@dataclass(frozen=True)
class InvoiceLine:
    """One billed line; `amount` is quantity × unit_price rounded half-up to cents."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


@dataclass
class Business:
    """A business that bills its customers through SuoOps."""

    public_id: str
    name: str
    created_at: datetime
    id: int | None = None


@dataclass
class Invoice:
    """An invoice with its computed totals and the state of its PDF."""

    invoice_id: str
    business_id: int
    customer_name: str
    customer_email: str | None
    customer_phone: str | None
    currency: str
    lines: list[InvoiceLine]
    tax_rate: Decimal
    subtotal: Decimal
    tax: Decimal
    amount: Decimal
    due_date: date | None
    notes: str | None
    deliver: list[str]
    created_at: datetime
    updated_at: datetime
    status: str = PaymentStatus.PENDING.value
    pdf_status: str = PdfStatus.PENDING.value
    pdf_generation: int = 1
    pdf_attempts: int = 0
    pdf_error: str | None = None
    pdf_storage_key: str | None = None
    pdf_checksum: str | None = None
    pdf_updated_at: datetime | None = None
    id: int | None = field(default=None)
    # One per channel in `deliver`, made when the PDF becomes ready.
    deliveries: list[Delivery] = field(default_factory=list)


def new_invoice_id() -> str:
    """A fresh random invoice number: `INV-` and ten Crockford base32 characters."""
    return "INV-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(INVOICE_ID_LENGTH))


def new_business_id() -> str:
    """A fresh public business id."""
    return "biz_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16)).lower()


@dataclass(frozen=True)
class RenderedPdf:
    """A stored PDF for one render generation of an invoice."""

    generation: int
    storage_key: str
    checksum_sha256: str


def complete_render(invoice: Invoice, pdf: RenderedPdf, now: datetime) -> bool:
    """Record a finished render; False (and no change) when stale, duplicate or after a failure.

    Within a generation the status only moves forward: pending → rendering → ready or failed.
    """
    if pdf.generation != invoice.pdf_generation or invoice.pdf_status in _FINAL:
        return False
    invoice.pdf_status = PdfStatus.READY.value
    invoice.pdf_storage_key = pdf.storage_key
    invoice.pdf_checksum = pdf.checksum_sha256
    invoice.pdf_error = None
    invoice.pdf_attempts += 1
    invoice.pdf_updated_at = invoice.updated_at = now
    return True


def fail_render(
    invoice: Invoice, generation: int, error: str, attempts: int, final: bool, now: datetime
) -> bool:
    """Record a failed attempt; `final` moves the invoice to failed. False if nothing changed."""
    if generation != invoice.pdf_generation or invoice.pdf_status in _FINAL:
        return False
    if attempts < invoice.pdf_attempts or (attempts == invoice.pdf_attempts and not final):
        return False  # an older or repeated report of an attempt already counted
    invoice.pdf_attempts = attempts
    invoice.pdf_error = error[:MAX_ERROR_LENGTH]
    if final:
        invoice.pdf_status = PdfStatus.FAILED.value
    invoice.pdf_updated_at = invoice.updated_at = now
    return True


def wants_render(invoice: Invoice, generation: int) -> bool:
    """True while this generation still needs its PDF (a redelivered job may find it done)."""
    return generation == invoice.pdf_generation and invoice.pdf_status not in _FINAL


def start_render(invoice: Invoice, generation: int, now: datetime) -> bool:
    """Mark the current generation as being rendered; False when stale or already past it."""
    if generation != invoice.pdf_generation or invoice.pdf_status != PdfStatus.PENDING.value:
        return False
    invoice.pdf_status = PdfStatus.RENDERING.value
    invoice.pdf_updated_at = invoice.updated_at = now
    return True


def regenerate(invoice: Invoice, now: datetime) -> None:
    """Ask for a fresh PDF: a new generation that starts pending; older renders become stale."""
    invoice.pdf_generation += 1
    invoice.pdf_status = PdfStatus.PENDING.value
    invoice.pdf_attempts = 0
    invoice.pdf_error = None
    invoice.pdf_updated_at = invoice.updated_at = now


_FINAL = (PdfStatus.READY.value, PdfStatus.FAILED.value)
MAX_ERROR_LENGTH = 2000
