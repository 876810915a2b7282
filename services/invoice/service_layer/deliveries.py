"""Handlers for the delivery workers: claim a delivery before sending it, then report it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from services.invoice.adapters.change_events import notify_in_transaction
from services.invoice.domain import deliveries, webhooks
from services.invoice.domain.deliveries import Delivery
from services.invoice.domain.errors import NotFound
from services.invoice.domain.model import Invoice
from services.invoice.service_layer.events import InvoiceChanged
from services.invoice.service_layer.invoices import utc_now
from services.invoice.service_layer.ports import DescribeInvoice
from services.invoice.service_layer.unit_of_work import UnitOfWork


def _delivery(invoice: Invoice, channel: str) -> Delivery:
    for delivery in invoice.deliveries:
        if delivery.channel == channel:
            return delivery
    raise NotFound(f"no {channel} delivery for invoice {invoice.invoice_id}")


async def _locked_invoice(uow: UnitOfWork, invoice_id: str) -> Invoice:
    invoice = await uow.invoices.get_for_update(invoice_id)
    if invoice is None:
        raise NotFound(f"no invoice {invoice_id}")
    return invoice


async def _announce(uow: UnitOfWork, invoice: Invoice) -> None:
    """Watchers hear of the delivery change exactly when it commits."""
    await notify_in_transaction(
        uow.session,
        InvoiceChanged(
            invoice.invoice_id, invoice.business_id, invoice.pdf_generation, invoice.pdf_status
        ),
    )


async def start_delivery(
    uow: UnitOfWork,
    invoice_id: str,
    channel: str,
    claim: str,
    lease: timedelta,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[Invoice, Delivery] | None:
    """Claim the delivery for this job (recorded before anything is sent); None: skip it."""
    async with uow:
        invoice = await _locked_invoice(uow, invoice_id)
        delivery = _delivery(invoice, channel)
        if not deliveries.claim(delivery, claim, clock(), lease):
            return None
        await _announce(uow, invoice)
        await uow.commit()
    return invoice, delivery


async def finish_delivery(
    uow: UnitOfWork,
    invoice_id: str,
    channel: str,
    claim: str,
    describe: DescribeInvoice,
    *,
    error: str | None = None,
    final: bool = True,
    clock: Callable[[], datetime] = utc_now,
) -> bool:
    """Record the outcome (sent when there is no error); a final one emits its event."""
    async with uow:
        invoice = await _locked_invoice(uow, invoice_id)
        delivery = _delivery(invoice, channel)
        now = clock()
        if error is None:
            applied = deliveries.complete(delivery, claim, now)
        else:
            applied = deliveries.fail(delivery, claim, error, final, now)
        if not applied:
            return False
        event_type = webhooks.delivery_event_type(delivery.status)
        if event_type is not None:
            business = await uow.businesses.get(invoice.business_id)
            assert business is not None
            data = describe(invoice, business.public_id, business.name)
            await uow.webhooks.add_events(
                invoice.business_id, event_type, invoice.invoice_id, data, now
            )
        await _announce(uow, invoice)
        await uow.commit()
    return True
