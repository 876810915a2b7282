"""The scheduler's periodic jobs, each run once per period whatever the number of schedulers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.common.queues import PDF_GENERATION, RENDER_INVOICE_ACTOR
from services.invoice.domain.errors import FieldError, InvalidInput
from services.invoice.service_layer.invoices import utc_now
from services.invoice.service_layer.unit_of_work import UnitOfWork

SWEEP_STUCK_RENDERS = "sweep_stuck_renders"
PURGE_IDEMPOTENCY_KEYS = "purge_idempotency_keys"


@dataclass(frozen=True)
class MaintenancePolicy:
    """How old is too old, for each job."""

    render_stuck_after: timedelta
    idempotency_key_ttl: timedelta


async def _sweep(uow: UnitOfWork, now: datetime, policy: MaintenancePolicy) -> str:
    count = await uow.maintenance.requeue_stuck_renders(
        RENDER_INVOICE_ACTOR, PDF_GENERATION.name, now - policy.render_stuck_after
    )
    return f"requeued {count} render(s)"


async def _purge(uow: UnitOfWork, now: datetime, policy: MaintenancePolicy) -> str:
    count = await uow.maintenance.purge_idempotency_keys(now - policy.idempotency_key_ttl)
    return f"purged {count} idempotency key(s)"


JOBS: dict[str, Callable[[UnitOfWork, datetime, MaintenancePolicy], Awaitable[str]]] = {
    SWEEP_STUCK_RENDERS: _sweep,
    PURGE_IDEMPOTENCY_KEYS: _purge,
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
        detail = await JOBS[job](uow, clock(), policy)
        await uow.maintenance.record_detail(job, period, detail)
        await uow.commit()
    return True, detail
