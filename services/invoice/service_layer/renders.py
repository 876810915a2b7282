"""Handlers for an invoice's PDF: renders reported done or failed, and regeneration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.common.queues import PDF_GENERATION
from services.invoice.adapters.change_events import notify_in_transaction
from services.invoice.domain import deliveries, model, webhooks
from services.invoice.domain.errors import NotFound, Unavailable
from services.invoice.domain.model import Invoice, RenderedPdf
from services.invoice.service_layer.events import InvoiceChanged
from services.invoice.service_layer.invoices import RENDER_ACTOR, utc_now
from services.invoice.service_layer.ports import PdfFollowUps, PdfStates
from services.invoice.service_layer.unit_of_work import UnitOfWork

# Concurrent changes to one invoice's PDF state are rare; after this many, give up.
MAX_RACES = 5


def render_job_payload(invoice: Invoice) -> dict[str, object]:
    """The outbox payload asking for the invoice's current PDF generation."""
    return {
        "invoice_pk": invoice.id,
        "invoice_id": invoice.invoice_id,
        "generation": invoice.pdf_generation,
    }


def pdf_change(invoice: Invoice) -> InvoiceChanged:
    """The change event announcing the invoice's current PDF state."""
    return InvoiceChanged(
        invoice.invoice_id, invoice.business_id, invoice.pdf_generation, invoice.pdf_status
    )


def follow_ups_of(invoice: Invoice) -> PdfFollowUps:
    """What the invoice's new PDF state sets going: deliveries when ready, and its event."""
    return PdfFollowUps(
        channels=deliveries.channels_to_deliver(invoice),
        event_type=webhooks.pdf_event_type(invoice),
    )


async def _change_pdf_state(
    store: PdfStates,
    invoice_id: str,
    change: Callable[[Invoice], bool],
    held: Invoice | None = None,
) -> tuple[bool, Invoice]:
    """Apply a domain change to the invoice's PDF state, again on fresh data after a race.

    `held` is the caller's own copy of the invoice, tried first instead of reading it: the
    write lands only if the stored PDF state is still the one that copy shows, and anything
    else is decided again on the invoice as stored.
    """
    for _ in range(MAX_RACES):
        invoice, read = (held, False) if held is not None else (await store.load(invoice_id), True)
        held = None
        if invoice is None:
            raise NotFound(f"no invoice {invoice_id}")
        was = (invoice.pdf_generation, invoice.pdf_status, invoice.pdf_attempts)
        if not change(invoice):
            if read:
                return False, invoice
            continue
        if await store.save_pdf_state(invoice, *was, follow_ups_of(invoice)):
            return True, invoice
    raise Unavailable(f"the PDF state of {invoice_id} kept changing; try again")


async def complete_render(
    store: PdfStates,
    invoice_id: str,
    pdf: RenderedPdf,
    clock: Callable[[], datetime] = utc_now,
    held: Invoice | None = None,
) -> tuple[bool, Invoice]:
    """Record a stored PDF, with its deliveries and event; a duplicate or stale report changes
    nothing (returns False). `held`: the caller's copy of the invoice, when it has one (the
    synchronous render saved it a moment ago), saves reading it again."""
    return await _change_pdf_state(
        store, invoice_id, lambda invoice: model.complete_render(invoice, pdf, clock()), held
    )


async def fail_render(
    store: PdfStates,
    invoice_id: str,
    *,
    generation: int,
    error: str,
    attempts: int,
    final: bool,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[bool, Invoice]:
    """Record a failed attempt; the final one moves the invoice to failed (and says so)."""
    return await _change_pdf_state(
        store,
        invoice_id,
        lambda invoice: model.fail_render(invoice, generation, error, attempts, final, clock()),
    )


async def start_render(
    store: PdfStates, invoice_id: str, generation: int, clock: Callable[[], datetime] = utc_now
) -> tuple[bool, bool]:
    """Mark the generation as rendering (a worker picked it up).

    Returns whether the state changed, and whether the render is still wanted.
    """
    applied, invoice = await _change_pdf_state(
        store, invoice_id, lambda invoice: model.start_render(invoice, generation, clock())
    )
    return applied, model.wants_render(invoice, generation)


async def regenerate_pdf(
    uow: UnitOfWork, business_id: int, invoice_id: str, clock: Callable[[], datetime] = utc_now
) -> Invoice:
    """Start a new PDF generation and queue its render, in one transaction."""
    async with uow:
        invoice = await uow.invoices.get_for_update(invoice_id, business_id)
        if invoice is None:
            raise NotFound(f"no invoice {invoice_id}")
        now = clock()
        model.regenerate(invoice, now)
        await uow.outbox.add(
            PDF_GENERATION.name, RENDER_ACTOR, render_job_payload(invoice), available_at=now
        )
        # In the transaction: watchers hear of the new generation exactly when it commits.
        await notify_in_transaction(uow.session, pdf_change(invoice))
        await uow.commit()
    return invoice


async def release_render_job(uow: UnitOfWork, invoice_id: str) -> None:
    """A synchronous render did not finish: let the queued job go out now."""
    async with uow:
        await uow.outbox.release(RENDER_ACTOR, invoice_id)
        await uow.commit()
