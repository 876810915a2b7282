"""Render outcomes against a real PostgreSQL: applied once, whatever arrives at the same time."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.model import Invoice, RenderedPdf
from services.invoice.domain.rules import InvoiceDraft
from services.invoice.service_layer import invoices, renders
from tests.conftest import Tenant

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def created_invoice(app: InvoiceApp, tenant: Tenant) -> Invoice:
    created = await invoices.create_invoice(
        app.autocommit_unit_of_work(),
        app.creator,
        tenant.business_id,
        InvoiceDraft(customer_name="Race", amount="5"),
    )
    return created.invoice


async def new_invoice_id(app: InvoiceApp, tenant: Tenant) -> str:
    return (await created_invoice(app, tenant)).invoice_id


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


class CountingLoads:
    """The app's PDF state store, counting the invoices it reads."""

    def __init__(self, app: InvoiceApp) -> None:
        self.inner = app.pdf_states
        self.loads = 0

    async def load(self, invoice_id: str) -> Invoice | None:
        self.loads += 1
        return await self.inner.load(invoice_id)

    async def save_pdf_state(self, *args: Any) -> bool:
        return await self.inner.save_pdf_state(*args)


async def test_a_held_copy_that_is_current_completes_without_a_read(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    invoice = await created_invoice(invoice_app, business)
    store = CountingLoads(invoice_app)

    done, ready = await renders.complete_render(
        store, invoice.invoice_id, RenderedPdf(1, "held-key", "d" * 64), held=invoice
    )

    assert done and ready.pdf_status == "ready" and store.loads == 0
    stored = await invoice_app.pdf_states.load(invoice.invoice_id)
    assert stored is not None
    assert (stored.pdf_status, stored.pdf_storage_key) == ("ready", "held-key")


async def test_a_held_copy_behind_the_stored_invoice_is_decided_again_on_what_is_stored(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    held = await created_invoice(invoice_app, business)
    await renders.regenerate_pdf(  # generation 2 is now the one wanted
        invoice_app.unit_of_work(), business.business_id, held.invoice_id
    )
    store = CountingLoads(invoice_app)

    done, invoice = await renders.complete_render(
        store, held.invoice_id, RenderedPdf(1, "stale-key", "e" * 64), held=copy.copy(held)
    )

    assert not done and store.loads == 1
    assert (invoice.pdf_generation, invoice.pdf_status) == (2, "pending")
    stored = await invoice_app.pdf_states.load(held.invoice_id)
    assert stored is not None and stored.pdf_storage_key is None


async def test_a_held_copy_that_missed_a_completion_changes_nothing(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    held = await created_invoice(invoice_app, business)
    first, _ = await renders.complete_render(
        invoice_app.pdf_states, held.invoice_id, RenderedPdf(1, "first-key", "f" * 64)
    )
    store = CountingLoads(invoice_app)

    again, invoice = await renders.complete_render(
        store, held.invoice_id, RenderedPdf(1, "second-key", "0" * 64), held=copy.copy(held)
    )

    assert first and not again and store.loads == 1
    assert invoice.pdf_storage_key == "first-key"
    stored = await invoice_app.pdf_states.load(held.invoice_id)
    assert stored is not None and stored.pdf_storage_key == "first-key"
