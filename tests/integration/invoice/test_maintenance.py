"""The scheduler's jobs on a real PostgreSQL: once per period, and what each job does."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import psycopg
import pytest

from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.rules import InvoiceDraft
from services.invoice.service_layer import invoices, maintenance
from tests.conftest import Tenant

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POLICY = maintenance.MaintenancePolicy(
    render_stuck_after=timedelta(minutes=15), idempotency_key_ttl=timedelta(hours=48)
)


async def test_two_schedulers_asking_at_once_run_the_job_once(invoice_app: InvoiceApp) -> None:
    results = await asyncio.gather(
        *(
            maintenance.run_scheduled_job(
                invoice_app.unit_of_work(), "purge_idempotency_keys", "race-period", POLICY
            )
            for _ in range(5)
        )
    )
    assert sorted(ran for ran, _ in results) == [False, False, False, False, True]


async def test_sweeper_requeues_a_stuck_render_once(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    created = await invoices.create_invoice(
        invoice_app.autocommit_unit_of_work(),
        invoice_app.creator,
        business.business_id,
        InvoiceDraft(customer_name="Stuck", amount="10"),
    )
    invoice_id = created.invoice.invoice_id
    with psycopg.connect(database_url, autocommit=True) as conn:
        # The relay sent the job and Redis lost it; the render never started.
        conn.execute("DELETE FROM outbox WHERE payload->>'invoice_id' = %s", (invoice_id,))
        conn.execute(
            "UPDATE invoices SET pdf_updated_at = now() - interval '1 hour' WHERE invoice_id = %s",
            (invoice_id,),
        )
    ran, detail = await maintenance.run_scheduled_job(
        invoice_app.unit_of_work(), "sweep_stuck_renders", "p1", POLICY
    )
    assert ran and "requeued" in detail
    again, _ = await maintenance.run_scheduled_job(
        invoice_app.unit_of_work(), "sweep_stuck_renders", "p2", POLICY
    )
    assert again
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT payload->>'generation' FROM outbox WHERE payload->>'invoice_id' = %s",
            (invoice_id,),
        ).fetchall()
    assert rows == [("1",)]


async def test_purge_removes_only_expired_keys(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    for key in ("purge-test-old", "purge-test-new"):
        await invoices.create_invoice(
            invoice_app.autocommit_unit_of_work(),
            invoice_app.creator,
            business.business_id,
            InvoiceDraft(customer_name="Keyed", amount="10"),
            idempotency_key=key,
            request_hash=key,
        )
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE idempotency_keys SET created_at = now() - interval '3 days'"
            " WHERE key = 'purge-test-old'"
        )
    await maintenance.run_scheduled_job(
        invoice_app.unit_of_work(), "purge_idempotency_keys", "purge-1", POLICY
    )
    with psycopg.connect(database_url) as conn:
        keys = {
            r[0]
            for r in conn.execute("SELECT key FROM idempotency_keys WHERE key LIKE 'purge-test-%'")
        }
    assert keys == {"purge-test-new"}


async def test_unknown_job_is_invalid(invoice_app: InvoiceApp) -> None:
    from services.invoice.domain.errors import InvalidInput

    with pytest.raises(InvalidInput):
        await maintenance.run_scheduled_job(invoice_app.unit_of_work(), "nope", "p", POLICY)
