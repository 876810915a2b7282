"""suoops.invoice.v1.MaintenanceService: the scheduler's jobs, with the internal credential."""

from __future__ import annotations

from datetime import timedelta

from suoops.invoice.v1 import maintenance_pb2 as pb
from suoops.invoice.v1 import maintenance_pb2_grpc

from services.common.settings import Settings
from services.invoice.bootstrap import InvoiceApp
from services.invoice.entrypoints.callback_servicer import require_internal
from services.invoice.entrypoints.invoice_servicer import Context
from services.invoice.service_layer import maintenance


def maintenance_policy(settings: Settings) -> maintenance.MaintenancePolicy:
    """The jobs' thresholds; a delivery job may legitimately wait out the longest backoff or
    Retry-After, so only a row untouched for longer than that (after an attempt) is stuck."""
    longest_retry_after = maintenance.LONGEST_RETRY_AFTER
    return maintenance.MaintenancePolicy(
        render_stuck_after=timedelta(seconds=settings.render_stuck_after_seconds),
        idempotency_key_ttl=timedelta(hours=settings.idempotency_key_ttl_hours),
        delivery_stuck_after=timedelta(seconds=settings.delivery_stuck_after_seconds),
        delivery_claim_lease=timedelta(seconds=settings.delivery_claim_lease_seconds),
        delivery_retry_wait=max(
            timedelta(milliseconds=settings.delivery_max_backoff_ms), longest_retry_after
        ),
        webhook_retry_wait=max(
            timedelta(milliseconds=settings.webhook_max_backoff_ms), longest_retry_after
        ),
        webhook_retry_window=timedelta(hours=settings.webhook_retry_window_hours),
    )


class MaintenanceServicer(maintenance_pb2_grpc.MaintenanceServiceServicer):
    """Runs a periodic job once per period, and renders failed PDFs again on request."""

    def __init__(self, app: InvoiceApp) -> None:
        self._app = app
        self._policy = maintenance_policy(app.settings)

    async def RunScheduledJob(
        self, request: pb.RunScheduledJobRequest, context: Context
    ) -> pb.RunScheduledJobResponse:
        require_internal(context, self._app.settings.internal_token)
        ran, detail = await maintenance.run_scheduled_job(
            self._app.unit_of_work(), request.job, request.period, self._policy
        )
        if ran:
            self._app.jobs_committed()
        return pb.RunScheduledJobResponse(ran=ran, detail=detail)

    async def RetryFailedRenders(
        self, request: pb.RetryFailedRendersRequest, context: Context
    ) -> pb.RetryFailedRendersResponse:
        require_internal(context, self._app.settings.internal_token)
        requeued, skipped = await maintenance.retry_failed_renders(
            self._app.unit_of_work(), list(request.invoice_ids)
        )
        if requeued:
            self._app.jobs_committed()
        return pb.RetryFailedRendersResponse(requeued=requeued, skipped=skipped)
