"""New invoices for the service-level tests: a customer with every delivery address."""

from __future__ import annotations

from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.model import RenderedPdf
from services.invoice.domain.rules import InvoiceDraft
from services.invoice.service_layer import invoices, renders
from tests.conftest import Tenant


async def new_invoice_id(app: InvoiceApp, tenant: Tenant, deliver: list[str]) -> str:
    """A new invoice to Ngozi (email and phone given) asking for `deliver`."""
    created = await invoices.create_invoice(
        app.autocommit_unit_of_work(),
        app.creator,
        tenant.business_id,
        InvoiceDraft(
            customer_name="Ngozi",
            customer_email="ngozi@example.com",
            customer_phone="+2348012345678",
            amount="5000",
            deliver=deliver,
        ),
    )
    return created.invoice.invoice_id


async def ready_invoice(app: InvoiceApp, tenant: Tenant, deliver: list[str], key: str = "k") -> str:
    """A new invoice whose PDF, stored under `key`, was recorded ready: its deliveries and
    webhook events are written, with their jobs."""
    invoice_id = await new_invoice_id(app, tenant, deliver)
    applied, _ = await renders.complete_render(
        app.pdf_states, invoice_id, RenderedPdf(1, key, "c" * 64)
    )
    assert applied
    return invoice_id
