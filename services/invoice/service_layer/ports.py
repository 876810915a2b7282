"""What the service layer needs from the outside world, beyond the unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from services.invoice.domain.model import Invoice


class DuplicateInvoiceNumber(Exception):
    """The random invoice number is taken: draw another."""


@dataclass
class NewInvoice:
    """An invoice to save, with its render job and its idempotency key, if any."""

    invoice: Invoice
    queue: str
    actor: str
    job_available_at: datetime
    key: str | None = None
    request_hash: str | None = None


class InvoiceCreator(Protocol):
    """Saves a new invoice, its job and its key atomically."""

    async def save(self, new: NewInvoice) -> bool:
        """Save (setting `invoice.id`); False when the idempotency key was already held."""
        ...


@dataclass(frozen=True)
class PdfFollowUps:
    """What a PDF state change sets going with it, atomically: deliveries and a webhook event."""

    channels: list[str] = field(default_factory=list)
    event_type: str | None = None


# A webhook event's `data`: the invoice as the API shows it, given its business's public id
# and name.
DescribeInvoice = Callable[[Invoice, str, str], dict[str, Any]]


class PdfStates(Protocol):
    """Reads an invoice and writes back its PDF state if it is unchanged since the read."""

    async def load(self, invoice_id: str) -> Invoice | None: ...

    async def save_pdf_state(
        self,
        invoice: Invoice,
        was_generation: int,
        was_status: str,
        was_attempts: int,
        follow_ups: PdfFollowUps | None = None,
    ) -> bool: ...
