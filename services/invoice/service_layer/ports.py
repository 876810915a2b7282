"""What the service layer needs from the outside world, beyond the unit of work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

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


class PdfStates(Protocol):
    """Reads an invoice and writes back its PDF state if it is unchanged since the read."""

    async def load(self, invoice_id: str) -> Invoice | None: ...

    async def save_pdf_state(
        self, invoice: Invoice, was_generation: int, was_status: str, was_attempts: int
    ) -> bool: ...
