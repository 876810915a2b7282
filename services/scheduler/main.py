"""`suoops serve scheduler`: fires each job once per period; replicas are safe (the invoice
service records every job and period, and the second caller is told it already ran)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
from prometheus_client import Counter, start_http_server
from suoops.invoice.v1 import maintenance_pb2, maintenance_pb2_grpc

from services.common.logging import configure_logging
from services.common.settings import Settings
from services.common.tracing import configure_tracing, span
from services.common.tracing_grpc import traced_channel
from services.scheduler.schedules import Every, Monthly, ScheduledJob

log = logging.getLogger(__name__)
TICK_SECONDS = 1.0
CALL_DEADLINE_SECONDS = 120.0


def scheduled_jobs(settings: Settings) -> tuple[ScheduledJob, ...]:
    """Every periodic job and when it is due."""
    return (
        ScheduledJob("sweep_stuck_renders", Every(settings.sweep_interval_seconds)),
        # Its own job (own record and outcome per period), so either sweep failing or
        # slowing down leaves the other one running.
        ScheduledJob("sweep_stuck_deliveries", Every(settings.sweep_interval_seconds)),
        ScheduledJob("purge_idempotency_keys", Every(3600)),
        ScheduledJob(
            "monthly_tax_reports",
            Monthly(day=settings.tax_report_day, hour=settings.tax_report_hour),
        ),
    )


RUNS = Counter("scheduler_job_runs_total", "Scheduled job calls by outcome", ["job", "outcome"])


class Scheduler:
    """Remembers the last period fired for each job; a failed call is tried again next tick."""

    def __init__(
        self,
        jobs: tuple[ScheduledJob, ...],
        run: Callable[[str, str], tuple[bool, str]],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._jobs = jobs
        self._run = run
        self._clock = clock
        self._fired: dict[str, str] = {}

    def tick(self) -> None:
        now = self._clock()
        for job in self._jobs:
            period = job.schedule.period(now)
            if period is None or self._fired.get(job.name) == period:
                continue
            try:
                ran, detail = self._run(job.name, period)
            except grpc.RpcError as exc:
                RUNS.labels(job.name, "error").inc()
                log.warning("scheduled job failed", extra={"job": job.name, "error": str(exc)})
                continue
            self._fired[job.name] = period
            RUNS.labels(job.name, "ran" if ran else "skipped").inc()
            log.info(
                "scheduled job",
                extra={"job": job.name, "period": period, "ran": ran, "detail": detail},
            )


def main(settings: Settings) -> None:
    """Tick until SIGTERM or SIGINT."""
    configure_logging("scheduler", settings.log_level)
    configure_tracing("scheduler", settings)
    settings.require("internal_token")
    start_http_server(settings.scheduler_metrics_port)
    channel = traced_channel(settings.invoice_grpc_addr)
    stub = maintenance_pb2_grpc.MaintenanceServiceStub(channel)
    metadata = (("authorization", f"Bearer {settings.internal_token}"),)

    def run(job: str, period: str) -> tuple[bool, str]:
        # Each run is the root of its own trace: the jobs it queues (re-renders) continue it.
        with span(
            f"scheduled {job}", attributes={"scheduler.job": job, "scheduler.period": period}
        ):
            reply = stub.RunScheduledJob(
                maintenance_pb2.RunScheduledJobRequest(job=job, period=period),
                metadata=metadata,
                timeout=CALL_DEADLINE_SECONDS,
            )
        return reply.ran, reply.detail

    jobs = scheduled_jobs(settings)
    scheduler = Scheduler(jobs, run)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    log.info("scheduler running", extra={"jobs": [j.name for j in jobs]})
    while not stop.wait(TICK_SECONDS):
        scheduler.tick()
    channel.close()
