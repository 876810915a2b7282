"""Render outcomes against a real PostgreSQL: applied once, whatever arrives at the same time."""

from __future__ import annotations

import asyncio

import pytest

from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.model import RenderedPdf
from services.invoice.domain.rules import InvoiceDraft
from services.invoice.service_layer import invoices, renders
from tests.conftest import Tenant

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def new_invoice_id(app: InvoiceApp, tenant: Tenant) -> str:
    created = await invoices.create_invoice(
        app.autocommit_unit_of_work(),
        app.creator,
        tenant.business_id,
        InvoiceDraft(customer_name="Race", amount="5"),
    )
    return created.invoice.invoice_id


async def test_ten_concurrent_completions_apply_once(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    invoice_id = await new_invoice_id(invoice_app, business)
    outcomes = await asyncio.gather(
        *(
            renders.complete_render(
                invoice_app.pdf_states, invoice_id, RenderedPdf(1, f"key-{i}", f"{i:064d}")
            )
            for i in range(10)
        )
    )
    applied = [invoice for ok, invoice in outcomes if ok]
    assert len(applied) == 1
    stored = await invoice_app.pdf_states.load(invoice_id)
    assert stored is not None and stored.pdf_status == "ready"
    assert stored.pdf_storage_key == applied[0].pdf_storage_key and stored.pdf_attempts == 1


async def test_attempts_count_failures_then_success(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    invoice_id = await new_invoice_id(invoice_app, business)
    started, wanted = await renders.start_render(invoice_app.pdf_states, invoice_id, 1)
    assert started and wanted
    applied, _ = await renders.fail_render(
        invoice_app.pdf_states, invoice_id, generation=1, error="S3 503", attempts=1, final=False
    )
    repeated, _ = await renders.fail_render(
        invoice_app.pdf_states, invoice_id, generation=1, error="S3 503", attempts=1, final=False
    )
    assert applied and not repeated
    done, invoice = await renders.complete_render(
        invoice_app.pdf_states, invoice_id, RenderedPdf(1, "k", "c" * 64)
    )
    assert done and invoice.pdf_attempts == 2 and invoice.pdf_error is None
    again, wanted_after = await renders.start_render(invoice_app.pdf_states, invoice_id, 1)
    assert not again and not wanted_after  # a redelivered job skips the render
