"""The scheduler's periodic jobs, each run once per period whatever the number of schedulers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.queues import PDF_GENERATION, RENDER_INVOICE_ACTOR
from services.invoice.adapters.change_events import notify_in_transaction
from services.invoice.adapters.repositories import StuckCutoffs
from services.invoice.domain import model
from services.invoice.domain.errors import FieldError, InvalidInput
from services.invoice.service_layer.invoices import utc_now
from services.invoice.service_layer.renders import pdf_change, render_job_payload
from services.invoice.service_layer.reports import (
    MONTHLY_TAX_REPORTS,
    build_monthly_tax_reports,
    requeue_stuck_report_renders,
)
from services.invoice.service_layer.unit_of_work import UnitOfWork

SWEEP_STUCK_RENDERS = "sweep_stuck_renders"
SWEEP_STUCK_DELIVERIES = "sweep_stuck_deliveries"
PURGE_IDEMPOTENCY_KEYS = "purge_idempotency_keys"
# The longest a delivery worker defers a job for a server's Retry-After
# (services.delivery.actors.MAX_RETRY_AFTER_MS): a job may legitimately wait this long.
LONGEST_RETRY_AFTER = timedelta(hours=1)
# Rows requeued per sweep at most, so one sweep stays one short transaction.
SWEEP_BATCH = 1000


@dataclass(frozen=True)
class MaintenancePolicy:
    """How old is too old, for each job.

    A delivery or webhook event is abandoned after `delivery_stuck_after` without an attempt,
    or after that plus its `*_retry_wait` (the longest backoff or Retry-After) once attempted.
    """

    render_stuck_after: timedelta
    idempotency_key_ttl: timedelta
    delivery_stuck_after: timedelta = timedelta(minutes=15)
    delivery_claim_lease: timedelta = timedelta(minutes=10)
    delivery_retry_wait: timedelta = LONGEST_RETRY_AFTER
    webhook_retry_wait: timedelta = LONGEST_RETRY_AFTER
    webhook_retry_window: timedelta = timedelta(hours=24)


async def _sweep(uow: UnitOfWork, period: str, now: datetime, policy: MaintenancePolicy) -> str:
    count = await uow.maintenance.requeue_stuck_renders(
        RENDER_INVOICE_ACTOR, PDF_GENERATION.name, now - policy.render_stuck_after
    )
    reports = await requeue_stuck_report_renders(uow, now - policy.render_stuck_after, now)
    return f"requeued {count} render(s) and {reports} tax report render(s)"


async def _sweep_deliveries(
    uow: UnitOfWork, period: str, now: datetime, policy: MaintenancePolicy
) -> str:
    never_tried = now - policy.delivery_stuck_after
    deliveries = await uow.maintenance.requeue_stuck_deliveries(
        StuckCutoffs(now, never_tried, never_tried - policy.delivery_retry_wait),
        now - policy.delivery_claim_lease,
        SWEEP_BATCH,
    )
    events, given_up = await uow.maintenance.sweep_stuck_webhook_events(
        StuckCutoffs(now, never_tried, never_tried - policy.webhook_retry_wait),
        now - policy.webhook_retry_window,
        SWEEP_BATCH,
    )
    return (
        f"requeued {deliveries} delivery(ies) and {events} webhook event(s);"
        f" gave up {given_up} webhook event(s)"
    )


async def _purge(uow: UnitOfWork, period: str, now: datetime, policy: MaintenancePolicy) -> str:
    count = await uow.maintenance.purge_idempotency_keys(now - policy.idempotency_key_ttl)
    return f"purged {count} idempotency key(s)"


async def _tax_reports(
    uow: UnitOfWork, period: str, now: datetime, policy: MaintenancePolicy
) -> str:
    return await build_monthly_tax_reports(uow, period, now)


# Each job gets the period it runs for (the monthly report reports that month).
JOBS: dict[str, Callable[[UnitOfWork, str, datetime, MaintenancePolicy], Awaitable[str]]] = {
    SWEEP_STUCK_RENDERS: _sweep,
    SWEEP_STUCK_DELIVERIES: _sweep_deliveries,
    PURGE_IDEMPOTENCY_KEYS: _purge,
    MONTHLY_TAX_REPORTS: _tax_reports,
}


async def run_scheduled_job(
    uow: UnitOfWork,
    job: str,
    period: str,
    policy: MaintenancePolicy,
    clock: Callable[[], datetime] = utc_now,
) -> tuple[bool, str]:
    """Run the job for this period unless it ran already; the work and its record commit as one."""
    if job not in JOBS:
        raise InvalidInput([FieldError("job", f"must be one of: {', '.join(sorted(JOBS))}")])
    if not period or len(period) > 32:
        raise InvalidInput([FieldError("period", "must be 1 to 32 characters")])
    async with uow:
        if not await uow.maintenance.claim_period(job, period):
            return False, "already ran for this period"
        detail = await JOBS[job](uow, period, clock(), policy)
        await uow.maintenance.record_detail(job, period, detail)
        await uow.commit()
    return True, detail


MAX_RETRIES_PER_CALL = 1000


async def retry_failed_renders(
    uow: UnitOfWork, invoice_ids: list[str], clock: Callable[[], datetime] = utc_now
) -> tuple[list[str], list[str]]:
    """Give each failed invoice (of any business) a new PDF generation and queue its render.

    A failed PDF is final within its generation, so rendering again means a new one.
    Returns the invoices requeued and those skipped (unknown, or their PDF is not failed).
    """
    if len(invoice_ids) > MAX_RETRIES_PER_CALL:
        message = f"at most {MAX_RETRIES_PER_CALL} per call"
        raise InvalidInput([FieldError("invoice_ids", message)])
    requeued: list[str] = []
    skipped: list[str] = []
    for invoice_id in dict.fromkeys(invoice_ids):
        async with uow:
            invoice = await uow.invoices.get_for_update(invoice_id)
            if invoice is None or invoice.pdf_status != model.PdfStatus.FAILED.value:
                skipped.append(invoice_id)
                continue
            now = clock()
            model.regenerate(invoice, now)
            await uow.outbox.add(
                PDF_GENERATION.name,
                RENDER_INVOICE_ACTOR,
                render_job_payload(invoice),
                available_at=now,
            )
            # Watchers hear of the new generation when (and only if) it commits.
            await notify_in_transaction(uow.session, pdf_change(invoice))
            await uow.commit()
        requeued.append(invoice_id)
    return requeued, skipped
