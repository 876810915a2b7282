"""Deliveries and webhook events on a real PostgreSQL: made with the ready PDF, once, claimed
before sending, and reported."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from services.common.settings import Settings
from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.errors import InvalidInput
from services.invoice.domain.model import Invoice, RenderedPdf
from services.invoice.service_layer import deliveries, invoices, renders, webhooks
from tests.conftest import S3_TEST_CREDENTIALS, Tenant, make_settings
from tests.support.invoices import new_invoice_id, ready_invoice

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
LEASE = timedelta(minutes=10)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """With S3 credentials, so event data carries a real presigned link."""
    return make_settings(
        DATABASE_URL=database_url,
        INTERNAL_TOKEN="test-internal-token",
        S3_ENDPOINT_URL="http://127.0.0.1:1",
        **S3_TEST_CREDENTIALS,
    )


def rows(database_url: str, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql, params).fetchall()


def jobs_for(database_url: str, invoice_id: str) -> list[tuple[Any, ...]]:
    return rows(
        database_url,
        "SELECT queue, actor, payload FROM outbox WHERE payload->>'invoice_id' = %s"
        " AND actor <> 'render_invoice' ORDER BY queue",
        invoice_id,
    )


async def test_a_ready_pdf_creates_one_pending_delivery_and_job_per_channel(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await new_invoice_id(invoice_app, business, ["whatsapp", "email"])
    pdf = RenderedPdf(1, "k", "c" * 64)
    first, _ = await renders.complete_render(invoice_app.pdf_states, invoice_id, pdf)
    duplicate, _ = await renders.complete_render(invoice_app.pdf_states, invoice_id, pdf)
    assert first and not duplicate
    loaded = await invoice_app.pdf_states.load(invoice_id)
    assert loaded is not None
    assert sorted((d.channel, d.status, d.attempts) for d in loaded.deliveries) == [
        ("email", "pending", 0),
        ("whatsapp", "pending", 0),
    ]
    assert jobs_for(database_url, invoice_id) == [
        ("email_sending", "send_email", {"invoice_id": invoice_id, "channel": "email"}),
        ("whatsapp_sending", "send_whatsapp", {"invoice_id": invoice_id, "channel": "whatsapp"}),
    ]


async def test_concurrent_completions_create_each_delivery_once(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await new_invoice_id(invoice_app, business, ["email"])
    await asyncio.gather(
        *(
            renders.complete_render(
                invoice_app.pdf_states, invoice_id, RenderedPdf(1, f"k{i}", f"{i:064d}")
            )
            for i in range(8)
        )
    )
    assert len(jobs_for(database_url, invoice_id)) == 1
    count = rows(
        database_url,
        "SELECT count(*) FROM deliveries d JOIN invoices i ON i.id = d.invoice_pk"
        " WHERE i.invoice_id = %s",
        invoice_id,
    )
    assert count == [(1,)]


async def test_a_failed_render_creates_no_delivery(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await new_invoice_id(invoice_app, business, ["email"])
    applied, _ = await renders.fail_render(
        invoice_app.pdf_states, invoice_id, generation=1, error="boom", attempts=1, final=True
    )
    assert applied
    loaded = await invoice_app.pdf_states.load(invoice_id)
    assert loaded is not None and loaded.deliveries == []
    assert jobs_for(database_url, invoice_id) == []


async def test_only_the_claiming_job_may_send_and_report(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    invoice_id = await new_invoice_id(invoice_app, business, ["email"])
    await renders.complete_render(invoice_app.pdf_states, invoice_id, RenderedPdf(1, "k", "c" * 64))
    claimed = await deliveries.start_delivery(
        invoice_app.unit_of_work(), invoice_id, "email", "job-1", LEASE
    )
    other = await deliveries.start_delivery(
        invoice_app.unit_of_work(), invoice_id, "email", "job-2", LEASE
    )
    assert claimed is not None and other is None
    invoice, delivery = claimed
    assert invoice.customer_email == "ngozi@example.com" and delivery.attempts == 1
    describe = invoice_app.pdf_states.describe
    assert describe is not None
    wrong = await deliveries.finish_delivery(
        invoice_app.unit_of_work(), invoice_id, "email", "job-2", describe
    )
    done = await deliveries.finish_delivery(
        invoice_app.unit_of_work(), invoice_id, "email", "job-1", describe
    )
    assert not wrong and done
    again = await deliveries.start_delivery(
        invoice_app.unit_of_work(), invoice_id, "email", "job-1", LEASE
    )
    assert again is None  # sent: a redelivered job skips it
    got = await invoices.get_invoice(
        invoice_app.autocommit_unit_of_work(), business.business_id, invoice_id
    )
    [sent] = got.deliveries
    assert sent.status == "sent" and sent.sent_at is not None and sent.error is None


async def test_a_temporary_failure_releases_the_claim_and_a_final_one_fails_the_delivery(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    invoice_id = await new_invoice_id(invoice_app, business, ["whatsapp"])
    await renders.complete_render(invoice_app.pdf_states, invoice_id, RenderedPdf(1, "k", "c" * 64))
    describe = invoice_app.pdf_states.describe
    assert describe is not None
    uow = invoice_app.unit_of_work
    assert await deliveries.start_delivery(uow(), invoice_id, "whatsapp", "a", LEASE)
    assert await deliveries.finish_delivery(
        uow(), invoice_id, "whatsapp", "a", describe, error="429 slow down", final=False
    )
    # Released: another job may now claim it.
    second = await deliveries.start_delivery(uow(), invoice_id, "whatsapp", "b", LEASE)
    assert second is not None and second[1].attempts == 2
    assert await deliveries.finish_delivery(
        uow(), invoice_id, "whatsapp", "b", describe, error="(#100) Invalid parameter", final=True
    )
    loaded = await invoice_app.pdf_states.load(invoice_id)
    assert loaded is not None
    [failed] = loaded.deliveries
    assert (failed.status, failed.attempts, failed.error) == (
        "failed",
        2,
        "(#100) Invalid parameter",
    )


async def test_a_stale_claim_is_taken_over_after_its_lease(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    invoice_id = await new_invoice_id(invoice_app, business, ["email"])
    await renders.complete_render(invoice_app.pdf_states, invoice_id, RenderedPdf(1, "k", "c" * 64))
    uow = invoice_app.unit_of_work
    assert await deliveries.start_delivery(uow(), invoice_id, "email", "dead", LEASE)
    taken = await deliveries.start_delivery(uow(), invoice_id, "email", "new", timedelta(0))
    assert taken is not None and taken[1].claim == "new"


async def test_subscribed_webhooks_get_one_event_each_with_a_job(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    ready_hook = await webhooks.register_webhook(
        invoice_app.unit_of_work(),
        business.business_id,
        "https://example.com/a",
        ["invoice.pdf_ready"],
    )
    await webhooks.register_webhook(
        invoice_app.unit_of_work(),
        business.business_id,
        "https://example.com/b",
        ["invoice.delivered"],
    )
    invoice_id = await new_invoice_id(invoice_app, business, [])
    pdf = RenderedPdf(1, "k", "c" * 64)
    await renders.complete_render(invoice_app.pdf_states, invoice_id, pdf)
    await renders.complete_render(invoice_app.pdf_states, invoice_id, pdf)
    events = rows(
        database_url,
        "SELECT e.event_id, e.type, e.payload, w.webhook_id FROM webhook_events e"
        " JOIN webhooks w ON w.id = e.webhook_pk WHERE e.invoice_id = %s",
        invoice_id,
    )
    assert len(events) == 1
    event_id, type_, data, webhook_id = events[0]
    assert type_ == "invoice.pdf_ready" and webhook_id == ready_hook.webhook_id
    assert event_id.startswith("evt_")
    assert data["invoice_id"] == invoice_id and data["pdf_status"] == "ready"
    assert data["amount"] == "5000.00" and data["pdf_url"].startswith("http")
    jobs = rows(
        database_url,
        "SELECT queue, actor, payload FROM outbox WHERE payload->>'event_id' = %s",
        event_id,
    )
    assert jobs == [("default", "send_webhook", {"event_id": event_id})]
    attempt = await webhooks.start_attempt(invoice_app.unit_of_work(), event_id)
    assert attempt is not None and attempt.secret == ready_hook.secret
    assert attempt.url == "https://example.com/a" and attempt.attempts == 1
    again = await webhooks.start_attempt(invoice_app.unit_of_work(), event_id)
    assert again is not None and again.body == attempt.body and again.attempts == 2
    assert await webhooks.finish_attempt(invoice_app.unit_of_work(), event_id)
    assert await webhooks.start_attempt(invoice_app.unit_of_work(), event_id) is None


class CountingDescriber:
    """Wraps the store's event-data builder, counting the invoices it describes."""

    def __init__(self, app: InvoiceApp) -> None:
        assert app.pdf_states.describe is not None
        self.inner = app.pdf_states.describe
        self.described: list[str] = []
        app.pdf_states.describe = self

    def __call__(self, invoice: Invoice, public_id: str, name: str) -> dict[str, Any]:
        self.described.append(invoice.invoice_id)
        return self.inner(invoice, public_id, name)


async def test_event_data_is_built_only_for_a_business_with_a_webhook_for_the_event(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    describer = CountingDescriber(invoice_app)
    await webhooks.register_webhook(  # a webhook, but for another event
        invoice_app.unit_of_work(),
        business.business_id,
        "https://example.com/delivered",
        ["invoice.delivered"],
    )
    invoice_id = await ready_invoice(invoice_app, business, [])

    assert describer.described == []
    stored = await invoice_app.pdf_states.load(invoice_id)
    assert stored is not None and stored.pdf_status == "ready"
    assert (
        rows(database_url, "SELECT 1 FROM webhook_events WHERE invoice_id = %s", invoice_id) == []
    )


async def test_a_webhook_registered_after_events_went_without_data_gets_the_next_event(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    describer = CountingDescriber(invoice_app)
    before = await ready_invoice(invoice_app, business, [], "k1")
    hook = await webhooks.register_webhook(
        invoice_app.unit_of_work(),
        business.business_id,
        "https://example.com/ready",
        ["invoice.pdf_ready"],
    )
    after = await ready_invoice(invoice_app, business, [], "k2")

    assert describer.described == [after]
    events = rows(
        database_url,
        "SELECT e.invoice_id, e.payload, w.webhook_id FROM webhook_events e"
        " JOIN webhooks w ON w.id = e.webhook_pk WHERE e.invoice_id IN (%s, %s)",
        before,
        after,
    )
    assert len(events) == 1
    invoice_id, data, webhook_id = events[0]
    assert (invoice_id, webhook_id) == (after, hook.webhook_id)
    assert data["pdf_status"] == "ready" and data["pdf_url"].startswith("http")
    assert len(jobs_for(database_url, after)) == 0  # no deliveries asked for
    stored = await invoice_app.pdf_states.load(after)
    assert stored is not None and stored.pdf_attempts == 1  # written once, not twice


async def test_a_delivery_outcome_emits_its_event(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    await webhooks.register_webhook(
        invoice_app.unit_of_work(),
        business.business_id,
        "https://example.com/hook",
        ["invoice.delivered", "invoice.delivery_failed"],
    )
    invoice_id = await new_invoice_id(invoice_app, business, ["email"])
    await renders.complete_render(invoice_app.pdf_states, invoice_id, RenderedPdf(1, "k", "c" * 64))
    describe = invoice_app.pdf_states.describe
    assert describe is not None
    assert await deliveries.start_delivery(
        invoice_app.unit_of_work(), invoice_id, "email", "j", LEASE
    )
    await deliveries.finish_delivery(invoice_app.unit_of_work(), invoice_id, "email", "j", describe)
    [(type_, data)] = rows(
        database_url, "SELECT type, payload FROM webhook_events WHERE invoice_id = %s", invoice_id
    )
    assert type_ == "invoice.delivered"
    assert data["deliveries"][0]["status"] == "sent"


async def test_a_deleted_webhook_is_not_listed_and_gets_no_events(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    hook = await webhooks.register_webhook(
        invoice_app.unit_of_work(),
        business.business_id,
        "http://hooks.test/x",
        ["invoice.pdf_ready"],
    )
    await webhooks.delete_webhook(invoice_app.unit_of_work(), business.business_id, hook.webhook_id)
    listed = await webhooks.list_webhooks(invoice_app.unit_of_work(), business.business_id)
    assert hook.webhook_id not in [w.webhook_id for w in listed]
    invoice_id = await new_invoice_id(invoice_app, business, [])
    await renders.complete_render(invoice_app.pdf_states, invoice_id, RenderedPdf(1, "k", "c" * 64))
    assert (
        rows(database_url, "SELECT 1 FROM webhook_events WHERE invoice_id = %s", invoice_id) == []
    )


async def test_registration_names_every_bad_field(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await webhooks.register_webhook(
            invoice_app.unit_of_work(), business.business_id, "ftp://x", ["invoice.paid"]
        )
    assert [f.field for f in caught.value.fields] == ["url", "events[0]"]


async def test_a_failed_follow_up_write_leaves_the_pdf_unready_and_nothing_half_written(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await new_invoice_id(invoice_app, business, ["email"])
    # A fault inside the one statement: the deliveries insert fails for this invoice only.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION refuse_delivery() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
        )
        conn.execute(
            "CREATE TRIGGER refuse_delivery BEFORE INSERT ON deliveries FOR EACH ROW"
            " EXECUTE FUNCTION refuse_delivery()"
        )
    try:
        with pytest.raises(psycopg.errors.RaiseException):
            await renders.complete_render(
                invoice_app.pdf_states, invoice_id, RenderedPdf(1, "k", "c" * 64)
            )
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("DROP TRIGGER refuse_delivery ON deliveries")
            conn.execute("DROP FUNCTION refuse_delivery()")
    loaded = await invoice_app.pdf_states.load(invoice_id)
    assert loaded is not None and loaded.pdf_status == "pending" and loaded.deliveries == []
    assert jobs_for(database_url, invoice_id) == []
    # The callback, reported again, then does everything once.
    applied, _ = await renders.complete_render(
        invoice_app.pdf_states, invoice_id, RenderedPdf(1, "k", "c" * 64)
    )
    assert applied and len(jobs_for(database_url, invoice_id)) == 1
