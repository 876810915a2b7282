"""Handlers for invoices: create (idempotent, with its render job), read and list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.common.queues import PDF_GENERATION, RENDER_INVOICE_ACTOR
from services.invoice.domain.errors import (
    AlreadyExists,
    FieldError,
    InvalidInput,
    NotFound,
    ResourceExhausted,
)
from services.invoice.domain.model import Invoice, PaymentStatus, PdfStatus, new_invoice_id
from services.invoice.domain.rules import InvoiceDraft, check_invoice
from services.invoice.service_layer.pagination import (
    check_page_size,
    decode_page_token,
    encode_page_token,
)
from services.invoice.service_layer.ports import DuplicateInvoiceNumber, InvoiceCreator, NewInvoice
from services.invoice.service_layer.unit_of_work import UnitOfWork

RENDER_ACTOR = RENDER_INVOICE_ACTOR
MAX_IDEMPOTENCY_KEY = 255


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Created:
    """The outcome of a create: the invoice, and whether an earlier answer was replayed."""

    invoice: Invoice
    replayed: bool


@dataclass(frozen=True)
class Page:
    """One page of a newest-first listing."""

    invoices: list[Invoice]
    next_page_token: str


async def create_invoice(
    uow: UnitOfWork,
    creator: InvoiceCreator,
    business_id: int,
    draft: InvoiceDraft,
    *,
    idempotency_key: str = "",
    request_hash: str = "",
    render_delay: timedelta = timedelta(0),
    render_backlog: int = 0,
    render_backlog_cap: int = 0,
    clock: Callable[[], datetime] = utc_now,
    new_id: Callable[[], str] = new_invoice_id,
) -> Created:
    """Save a new invoice and its render job in one transaction, or replay a keyed earlier one.

    `render_delay` holds the job back, giving a synchronous render its chance first.
    """
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidInput(
            [FieldError("idempotency_key", f"must be at most {MAX_IDEMPOTENCY_KEY} characters")]
        )
    checked = check_invoice(draft)
    if idempotency_key:
        replay = await _replay(uow, business_id, idempotency_key, request_hash)
        if replay is not None:
            return replay
    if render_backlog_cap and render_backlog >= render_backlog_cap:
        raise ResourceExhausted(
            f"{render_backlog} renders are waiting; try again shortly", retry_after_seconds=5
        )
    for _ in range(3):
        now = clock()
        invoice = Invoice(
            invoice_id=new_id(),
            business_id=business_id,
            customer_name=checked.customer_name,
            customer_email=checked.customer_email,
            customer_phone=checked.customer_phone,
            currency=checked.currency,
            lines=checked.lines,
            tax_rate=checked.tax_rate,
            subtotal=checked.subtotal,
            tax=checked.tax,
            amount=checked.amount,
            due_date=checked.due_date,
            notes=checked.notes,
            deliver=checked.deliver,
            created_at=now,
            updated_at=now,
            status=PaymentStatus.PENDING.value,
            pdf_status=PdfStatus.PENDING.value,
            pdf_updated_at=now,
        )
        new = NewInvoice(
            invoice,
            PDF_GENERATION.name,
            RENDER_ACTOR,
            job_available_at=now + render_delay,
            key=idempotency_key or None,
            request_hash=request_hash if idempotency_key else None,
        )
        try:
            saved = await creator.save(new)
        except DuplicateInvoiceNumber:
            continue  # a random invoice number met an existing one: draw another
        if saved:
            return Created(invoice, replayed=False)
        break
    else:
        raise RuntimeError("could not draw a free invoice number")
    # A concurrent request with the same key was saved first: answer as it did.
    replay = await _replay(uow, business_id, idempotency_key, request_hash)
    if replay is None:
        raise AlreadyExists("a request with this idempotency key is still in flight")
    return replay


async def _replay(uow: UnitOfWork, business_id: int, key: str, request_hash: str) -> Created | None:
    async with uow:
        stored = await uow.idempotency_keys.find(business_id, key)
        if stored is None:
            return None
        if stored.request_hash != request_hash:
            raise AlreadyExists("this idempotency key was used with a different request")
        invoice = await uow.invoices.get(business_id, stored.invoice_id)
    if invoice is None:
        raise AlreadyExists("a request with this idempotency key is still in flight")
    return Created(invoice, replayed=True)


async def get_invoice(uow: UnitOfWork, business_id: int, invoice_id: str) -> Invoice:
    """One of the business's invoices."""
    async with uow:
        invoice = await uow.invoices.get(business_id, invoice_id)
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}")
    return invoice


async def list_invoices(
    uow: UnitOfWork,
    business_id: int,
    *,
    page_size: int = 0,
    page_token: str = "",
    status: str | None = None,
    pdf_status: str | None = None,
) -> Page:
    """The business's invoices, newest first, one page at a time."""
    size = check_page_size(page_size)
    before = decode_page_token(page_token)
    async with uow:
        rows = await uow.invoices.list_newest_first(
            business_id, before_pk=before, limit=size + 1, status=status, pdf_status=pdf_status
        )
    more = len(rows) > size
    rows = rows[:size]
    token = encode_page_token(rows[-1].id) if more and rows[-1].id is not None else ""
    return Page(rows, token)
