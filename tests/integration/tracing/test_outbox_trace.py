"""Jobs remember the trace of the call that queued them, through the outbox, per invoice."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common.settings import Settings
from services.common.tracing import current_traceparent, tracer
from services.invoice.adapters.outbox_relay import OutboxRow
from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.model import RenderedPdf
from services.invoice.domain.rules import InvoiceDraft
from services.invoice.service_layer import invoices, maintenance, renders, webhooks
from tests.conftest import Tenant, make_settings
from tests.support.invoices import new_invoice_id

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def settings(database_url: str) -> Settings:
    """A long group-commit linger, so creates issued together share their INSERT."""
    return make_settings(
        DATABASE_URL=database_url,
        INTERNAL_TOKEN="test-internal-token",
        CREATE_BATCH_LINGER_MS="200",
    )


def job_payloads(database_url: str, invoice_id: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT payload FROM outbox WHERE payload->>'invoice_id' = %s ORDER BY id",
            (invoice_id,),
        ).fetchall()
    return [row[0] for row in rows]


async def create_in_span(app: InvoiceApp, business: Tenant, name: str) -> tuple[str, str]:
    with tracer().start_as_current_span(f"create {name}"):
        traceparent = current_traceparent()
        created = await invoices.create_invoice(
            app.autocommit_unit_of_work(),
            app.creator,
            business.business_id,
            InvoiceDraft(customer_name=name, amount="10"),
        )
    assert traceparent is not None
    return created.invoice.invoice_id, traceparent


async def test_invoices_saved_by_one_statement_keep_each_its_own_trace(
    invoice_app: InvoiceApp,
    business: Tenant,
    database_url: str,
    finished_spans: InMemorySpanExporter,
) -> None:
    statements = invoice_app.creator.statements
    made = await asyncio.gather(
        *(create_in_span(invoice_app, business, f"Customer {n}") for n in range(6))
    )
    # Fewer statements than invoices: some shared an INSERT, and still each has its trace.
    assert invoice_app.creator.statements - statements < len(made)
    for invoice_id, traceparent in made:
        (payload,) = job_payloads(database_url, invoice_id)
        assert payload["traceparent"] == traceparent
    assert len({traceparent for _, traceparent in made}) == len(made)


async def test_an_invoice_created_outside_any_trace_has_no_traceparent_in_its_job(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    created = await invoices.create_invoice(
        invoice_app.autocommit_unit_of_work(),
        invoice_app.creator,
        business.business_id,
        InvoiceDraft(customer_name="Untraced", amount="10"),
    )
    (payload,) = job_payloads(database_url, created.invoice.invoice_id)
    assert "traceparent" not in payload


async def test_a_regenerated_pdf_job_carries_the_trace_of_the_regenerate_call(
    invoice_app: InvoiceApp,
    business: Tenant,
    database_url: str,
    finished_spans: InMemorySpanExporter,
) -> None:
    invoice_id, _ = await create_in_span(invoice_app, business, "Bola")
    with tracer().start_as_current_span("regenerate"):
        traceparent = current_traceparent()
        await renders.regenerate_pdf(invoice_app.unit_of_work(), business.business_id, invoice_id)
    payloads = job_payloads(database_url, invoice_id)
    assert payloads[-1]["traceparent"] == traceparent
    assert payloads[-1]["generation"] == 2


async def test_a_render_the_sweeper_queues_again_carries_the_sweeps_trace(
    invoice_app: InvoiceApp,
    business: Tenant,
    database_url: str,
    finished_spans: InMemorySpanExporter,
) -> None:
    invoice_id, _ = await create_in_span(invoice_app, business, "Stuck")
    with psycopg.connect(database_url, autocommit=True) as conn:
        # The job went out and Redis lost it; the render never started.
        conn.execute("DELETE FROM outbox WHERE payload->>'invoice_id' = %s", (invoice_id,))
        conn.execute(
            "UPDATE invoices SET pdf_updated_at = now() - interval '1 hour' WHERE invoice_id = %s",
            (invoice_id,),
        )
    policy = maintenance.MaintenancePolicy(
        render_stuck_after=timedelta(minutes=15), idempotency_key_ttl=timedelta(hours=48)
    )
    with tracer().start_as_current_span("scheduled sweep_stuck_renders"):
        traceparent = current_traceparent()
        ran, _ = await maintenance.run_scheduled_job(
            invoice_app.unit_of_work(), "sweep_stuck_renders", "traced-sweep", policy
        )
    assert ran
    (payload,) = job_payloads(database_url, invoice_id)
    assert payload["traceparent"] == traceparent
    assert payload["generation"] == 1


def test_the_relay_moves_the_trace_from_the_payload_to_the_message_options() -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    stored = {"invoice_id": "INV-1", "channel": "email", "traceparent": traceparent}
    row = OutboxRow.from_stored(7, "email_sending", "send_email", stored)
    assert row.payload == {"invoice_id": "INV-1", "channel": "email"}
    assert row.job_options() == {"traceparent": traceparent}
    untraced = OutboxRow.from_stored(8, "email_sending", "send_email", {"invoice_id": "INV-2"})
    assert untraced.job_options() == {}


async def test_delivery_and_webhook_jobs_queued_by_a_render_callback_carry_its_trace(
    invoice_app: InvoiceApp,
    business: Tenant,
    database_url: str,
    finished_spans: InMemorySpanExporter,
) -> None:
    await webhooks.register_webhook(
        invoice_app.unit_of_work(),
        business.business_id,
        "https://hooks.example.com/suoops",
        ["invoice.pdf_ready"],
    )
    invoice_id = await new_invoice_id(invoice_app, business, ["email"])
    with tracer().start_as_current_span("CompleteRender"):
        traceparent = current_traceparent()
        applied, _ = await renders.complete_render(
            invoice_app.pdf_states, invoice_id, RenderedPdf(1, "k", "c" * 64)
        )
    assert applied
    with psycopg.connect(database_url) as conn:
        jobs = conn.execute(
            "SELECT actor, payload FROM outbox WHERE payload->>'invoice_id' = %(id)s"
            " AND actor = 'send_email' UNION ALL SELECT o.actor, o.payload FROM outbox o"
            " JOIN webhook_events e ON e.event_id = o.payload->>'event_id'"
            " WHERE e.invoice_id = %(id)s ORDER BY actor",
            {"id": invoice_id},
        ).fetchall()
    assert [actor for actor, _ in jobs] == ["send_email", "send_webhook"]
    assert all(payload["traceparent"] == traceparent for _, payload in jobs)
