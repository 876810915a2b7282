"""The sweeper on a real PostgreSQL: a delivery or webhook event whose job was lost is queued
again once; one whose job waits in the outbox, holds a live claim or is waiting out a retry is
left alone."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from services.common.settings import Settings
from services.invoice.bootstrap import InvoiceApp
from services.invoice.service_layer import deliveries, maintenance, webhooks
from tests.conftest import S3_TEST_CREDENTIALS, Tenant, make_settings
from tests.support.invoices import ready_invoice

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SWEEP = maintenance.SWEEP_STUCK_DELIVERIES
LEASE = timedelta(minutes=10)
POLICY = maintenance.MaintenancePolicy(
    render_stuck_after=timedelta(minutes=15),
    idempotency_key_ttl=timedelta(hours=48),
    delivery_stuck_after=timedelta(minutes=15),
    delivery_claim_lease=LEASE,
    delivery_retry_wait=timedelta(hours=1),
    webhook_retry_wait=timedelta(hours=1),
    webhook_retry_window=timedelta(hours=24),
)
_periods = iter(range(1_000_000))


@pytest.fixture
def settings(database_url: str) -> Settings:
    """With S3 credentials, so webhook event data can carry a presigned link."""
    return make_settings(
        DATABASE_URL=database_url,
        INTERNAL_TOKEN="test-internal-token",
        S3_ENDPOINT_URL="http://127.0.0.1:1",
        **S3_TEST_CREDENTIALS,
    )


def sql(database_url: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


async def sweep(app: InvoiceApp, policy: maintenance.MaintenancePolicy = POLICY) -> str:
    """One sweep, in a period of its own."""
    ran, detail = await maintenance.run_scheduled_job(
        app.unit_of_work(), SWEEP, f"stuck-{next(_periods)}-{id(app)}", policy
    )
    assert ran
    return detail


def delivery_jobs(database_url: str, invoice_id: str) -> list[tuple[Any, ...]]:
    return sql(
        database_url,
        "SELECT queue, actor, payload - 'traceparent' FROM outbox"
        " WHERE payload->>'invoice_id' = %s AND actor IN ('send_email', 'send_whatsapp')",
        invoice_id,
    )


def lose_delivery_jobs(database_url: str, invoice_id: str, age: str) -> None:
    """The relay published the jobs and Redis lost them; the deliveries last changed `age` ago."""
    sql(
        database_url,
        "DELETE FROM outbox WHERE payload->>'invoice_id' = %s"
        " AND actor IN ('send_email', 'send_whatsapp')",
        invoice_id,
    )
    age_deliveries(database_url, invoice_id, age)


def age_deliveries(database_url: str, invoice_id: str, age: str) -> None:
    sql(
        database_url,
        "UPDATE deliveries SET updated_at = now() - %s::interval"
        " WHERE invoice_pk = (SELECT id FROM invoices WHERE invoice_id = %s)",
        age,
        invoice_id,
    )


EMAIL_JOB = ("email_sending", "send_email")


async def test_a_pending_delivery_whose_job_was_lost_is_queued_again_once(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await ready_invoice(invoice_app, business, ["email"])
    lose_delivery_jobs(database_url, invoice_id, "20 minutes")

    detail = await sweep(invoice_app)
    assert "delivery(ies)" in detail
    assert delivery_jobs(database_url, invoice_id) == [
        (*EMAIL_JOB, {"invoice_id": invoice_id, "channel": "email"})
    ]
    await sweep(invoice_app)  # its job waits in the outbox: nothing more
    assert len(delivery_jobs(database_url, invoice_id)) == 1
    # Published again; the sweep touched the delivery, so the next sweep waits another deadline.
    sql(database_url, "DELETE FROM outbox WHERE payload->>'invoice_id' = %s", invoice_id)
    await sweep(invoice_app)
    assert delivery_jobs(database_url, invoice_id) == []


async def test_a_requeued_delivery_can_be_claimed_and_sent(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await ready_invoice(invoice_app, business, ["whatsapp"])
    lose_delivery_jobs(database_url, invoice_id, "20 minutes")
    await sweep(invoice_app)
    assert [job[:2] for job in delivery_jobs(database_url, invoice_id)] == [
        ("whatsapp_sending", "send_whatsapp")
    ]
    claimed = await deliveries.start_delivery(
        invoice_app.unit_of_work(), invoice_id, "whatsapp", "requeued-job", LEASE
    )
    assert claimed is not None and claimed[1].attempts == 1


async def test_a_delivery_whose_job_waits_in_the_outbox_is_not_queued_again(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await ready_invoice(invoice_app, business, ["email", "whatsapp"])
    age_deliveries(database_url, invoice_id, "2 hours")  # the relay has been down
    await sweep(invoice_app)
    assert sorted(job[:2] for job in delivery_jobs(database_url, invoice_id)) == [
        EMAIL_JOB,
        ("whatsapp_sending", "send_whatsapp"),
    ]


async def test_a_recent_delivery_is_not_queued_again(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await ready_invoice(invoice_app, business, ["email"])
    lose_delivery_jobs(database_url, invoice_id, "5 minutes")  # may still sit in Redis
    await sweep(invoice_app)
    assert delivery_jobs(database_url, invoice_id) == []


async def test_a_delivery_with_a_live_claim_is_left_alone_until_the_lease_ends(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await ready_invoice(invoice_app, business, ["email"])
    assert await deliveries.start_delivery(
        invoice_app.unit_of_work(), invoice_id, "email", "sending-now", LEASE
    )
    lose_delivery_jobs(database_url, invoice_id, "5 minutes")
    quick = replace(
        POLICY, delivery_stuck_after=timedelta(minutes=1), delivery_retry_wait=timedelta(0)
    )
    sql(
        database_url,
        "UPDATE deliveries SET claimed_at = now() - interval '5 minutes'"
        " WHERE invoice_pk = (SELECT id FROM invoices WHERE invoice_id = %s)",
        invoice_id,
    )
    await sweep(invoice_app, quick)
    assert delivery_jobs(database_url, invoice_id) == []  # its holder may still be sending
    sql(
        database_url,
        "UPDATE deliveries SET claimed_at = now() - interval '11 minutes'"
        " WHERE invoice_pk = (SELECT id FROM invoices WHERE invoice_id = %s)",
        invoice_id,
    )
    await sweep(invoice_app, quick)
    assert [job[:2] for job in delivery_jobs(database_url, invoice_id)] == [EMAIL_JOB]
    taken = await deliveries.start_delivery(
        invoice_app.unit_of_work(), invoice_id, "email", "requeued-job", LEASE
    )
    assert taken is not None and taken[1].claim == "requeued-job"


async def test_a_delivery_waiting_out_a_retry_is_swept_only_after_the_longest_retry_wait(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await ready_invoice(invoice_app, business, ["whatsapp"])
    uow = invoice_app.unit_of_work
    describe = invoice_app.pdf_states.describe
    assert describe is not None
    assert await deliveries.start_delivery(uow(), invoice_id, "whatsapp", "first", LEASE)
    assert await deliveries.finish_delivery(
        uow(), invoice_id, "whatsapp", "first", describe, error="429 slow down", final=False
    )
    # Its job sits in Dramatiq's delay queue for a Retry-After of up to an hour.
    lose_delivery_jobs(database_url, invoice_id, "40 minutes")
    await sweep(invoice_app)
    assert delivery_jobs(database_url, invoice_id) == []
    age_deliveries(database_url, invoice_id, "80 minutes")
    await sweep(invoice_app)
    assert [job[:2] for job in delivery_jobs(database_url, invoice_id)] == [
        ("whatsapp_sending", "send_whatsapp")
    ]


async def test_a_finished_delivery_is_never_queued_again(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await ready_invoice(invoice_app, business, ["email"])
    uow = invoice_app.unit_of_work
    describe = invoice_app.pdf_states.describe
    assert describe is not None
    assert await deliveries.start_delivery(uow(), invoice_id, "email", "job", LEASE)
    assert await deliveries.finish_delivery(uow(), invoice_id, "email", "job", describe)
    lose_delivery_jobs(database_url, invoice_id, "3 hours")
    await sweep(invoice_app)
    assert delivery_jobs(database_url, invoice_id) == []


async def test_two_schedulers_sweeping_one_period_queue_a_lost_delivery_once(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    invoice_id = await ready_invoice(invoice_app, business, ["email"])
    lose_delivery_jobs(database_url, invoice_id, "20 minutes")
    results = await asyncio.gather(
        *(
            maintenance.run_scheduled_job(
                invoice_app.unit_of_work(), SWEEP, f"race-{invoice_id}", POLICY
            )
            for _ in range(3)
        )
    )
    assert sorted(ran for ran, _ in results) == [False, False, True]
    assert len(delivery_jobs(database_url, invoice_id)) == 1


async def webhook_event(app: InvoiceApp, tenant: Tenant, database_url: str) -> str:
    """A pending `invoice.pdf_ready` event (with its job in the outbox); its id."""
    await webhooks.register_webhook(
        app.unit_of_work(), tenant.business_id, "https://example.com/hook", ["invoice.pdf_ready"]
    )
    invoice_id = await ready_invoice(app, tenant, [])
    [(event_id,)] = sql(
        database_url, "SELECT event_id FROM webhook_events WHERE invoice_id = %s", invoice_id
    )
    return str(event_id)


def event_jobs(database_url: str, event_id: str) -> list[tuple[Any, ...]]:
    return sql(
        database_url,
        "SELECT queue, actor, payload - 'traceparent' FROM outbox WHERE payload->>'event_id' = %s",
        event_id,
    )


def lose_event_job(database_url: str, event_id: str, age: str, created: str | None = None) -> None:
    """The event's job was published and lost; touched `age` ago, made `created` ago."""
    sql(database_url, "DELETE FROM outbox WHERE payload->>'event_id' = %s", event_id)
    sql(
        database_url,
        "UPDATE webhook_events SET updated_at = now() - %s::interval,"
        " created_at = now() - %s::interval WHERE event_id = %s",
        age,
        created or age,
        event_id,
    )


def event_state(database_url: str, event_id: str) -> tuple[Any, ...]:
    [row] = sql(
        database_url,
        "SELECT status, last_error FROM webhook_events WHERE event_id = %s",
        event_id,
    )
    return row


async def test_a_pending_webhook_event_whose_job_was_lost_is_queued_again_once(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    event_id = await webhook_event(invoice_app, business, database_url)
    lose_event_job(database_url, event_id, "20 minutes")
    detail = await sweep(invoice_app)
    assert "webhook event(s)" in detail
    assert event_jobs(database_url, event_id) == [
        ("default", "send_webhook", {"event_id": event_id})
    ]
    await sweep(invoice_app)
    assert len(event_jobs(database_url, event_id)) == 1
    sql(database_url, "DELETE FROM outbox WHERE payload->>'event_id' = %s", event_id)
    await sweep(invoice_app)  # touched by the first sweep: not abandoned again yet
    assert event_jobs(database_url, event_id) == []
    assert event_state(database_url, event_id) == ("pending", None)


async def test_a_webhook_event_whose_job_waits_in_the_outbox_is_not_queued_again(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    event_id = await webhook_event(invoice_app, business, database_url)
    sql(
        database_url,
        "UPDATE webhook_events SET updated_at = now() - interval '3 hours' WHERE event_id = %s",
        event_id,
    )
    await sweep(invoice_app)
    assert len(event_jobs(database_url, event_id)) == 1


async def test_a_webhook_event_waiting_out_a_backoff_is_not_queued_again(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    event_id = await webhook_event(invoice_app, business, database_url)
    assert await webhooks.start_attempt(invoice_app.unit_of_work(), event_id)
    assert await webhooks.finish_attempt(
        invoice_app.unit_of_work(), event_id, error="HTTP 503", final=False
    )
    lose_event_job(database_url, event_id, "40 minutes")  # backoff up to an hour
    await sweep(invoice_app)
    assert event_jobs(database_url, event_id) == []
    lose_event_job(database_url, event_id, "80 minutes")
    await sweep(invoice_app)
    assert len(event_jobs(database_url, event_id)) == 1


async def test_a_lost_webhook_event_past_its_retry_window_is_given_up(
    invoice_app: InvoiceApp, business: Tenant, database_url: str
) -> None:
    event_id = await webhook_event(invoice_app, business, database_url)
    lose_event_job(database_url, event_id, "20 minutes", created="25 hours")
    detail = await sweep(invoice_app)
    assert event_jobs(database_url, event_id) == []
    assert event_state(database_url, event_id) == (
        "failed",
        "gave up: no attempt finished within the retry window",
    )
    assert "gave up" in detail
