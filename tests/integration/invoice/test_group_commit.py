"""Group commit lingers for company only while creates come close together."""

from __future__ import annotations

import asyncio

import pytest

from services.common.settings import Settings
from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.rules import InvoiceDraft
from services.invoice.service_layer import invoices
from tests.conftest import Tenant, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

LINGER_SECONDS = 1.0


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A linger far longer than any create, so whether one was spent shows plainly."""
    return make_settings(
        DATABASE_URL=database_url, CREATE_BATCH_LINGER_MS=str(LINGER_SECONDS * 1000)
    )


async def create(app: InvoiceApp, business: Tenant, name: str) -> str:
    created = await invoices.create_invoice(
        app.autocommit_unit_of_work(),
        app.creator,
        business.business_id,
        InvoiceDraft(customer_name=name, amount="10"),
    )
    return created.invoice.invoice_id


async def test_a_lone_create_is_written_without_lingering(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    statements = invoice_app.creator.statements

    # Half the linger: only a create that skipped it finishes in time.
    invoice_id = await asyncio.wait_for(
        create(invoice_app, business, "alone"), timeout=LINGER_SECONDS / 2
    )

    assert invoice_id
    assert invoice_app.creator.statements == statements + 1


async def test_creates_arriving_together_still_share_a_statement(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    await create(invoice_app, business, "first, alone")
    statements = invoice_app.creator.statements

    made = await asyncio.gather(*(create(invoice_app, business, f"busy {n}") for n in range(10)))

    assert len(set(made)) == 10
    assert invoice_app.creator.statements - statements <= 2
