"""The tax report's Dramatiq actors (on `pdf_generation`): render, store once, report back."""

from __future__ import annotations

import logging
import time
from typing import Any

from dramatiq.brokers.redis import RedisBroker

from services.common.broker import declare_actor
from services.common.job_messages import current_attempt, exhausted_attempt
from services.common.queues import (
    PDF_GENERATION,
    RENDER_TAX_REPORT_ACTOR,
    RENDER_TAX_REPORT_EXHAUSTED_ACTOR,
)
from services.common.s3 import create_s3_client
from services.common.settings import Settings
from services.common.tax_report_job import TaxReportJob
from services.renderer.actors import report_quietly
from services.renderer.render_pool import PermanentRenderError
from services.renderer.report_callbacks import ReportCallbacks
from services.renderer.report_pdf import render_report_pdf
from services.renderer.storage import PdfStore

log = logging.getLogger(__name__)


def register_report_actors(broker: RedisBroker, settings: Settings) -> ReportCallbacks:
    """Declare the report actors on this broker (the render pool made the bucket); returns
    their callback client, for the worker to close when it stops."""
    assert settings.internal_token is not None
    callbacks = ReportCallbacks(settings.invoice_grpc_addr, settings.internal_token)
    store = PdfStore(create_s3_client(settings), settings.s3_bucket)
    hard_limit = settings.render_hard_limit_seconds

    def render_tax_report(payload: dict[str, Any]) -> None:
        try:
            job = TaxReportJob.from_payload(payload)
        except (KeyError, TypeError, ValueError) as exc:
            # Nothing to report back to without a report id: fail the message at once.
            raise PermanentRenderError(f"malformed tax report job: {exc!r}") from exc
        attempt = current_attempt()
        started = time.perf_counter()
        try:
            pdf = render_report_pdf(job, hard_limit)
            seconds = time.perf_counter() - started
            stored = store.put_once(job.storage_key(), pdf)
        except PermanentRenderError as exc:
            callbacks.failed(job, str(exc), attempt, final=True)
            raise
        except Exception as exc:
            error = str(exc)
            report_quietly(lambda: callbacks.failed(job, error, attempt, final=False))
            raise
        applied = callbacks.completed(job, stored, seconds)
        log.info(
            "tax report rendered",
            extra={
                "report_id": job.report_id,
                "month": job.month,
                "generation": job.generation,
                "applied": applied,
                "render_ms": round(seconds * 1000, 1),
            },
        )

    def render_tax_report_retries_exhausted(
        message_data: dict[str, Any], retry_info: dict[str, Any]
    ) -> None:
        job = TaxReportJob.from_payload(message_data["args"][0])
        error, attempts = exhausted_attempt(message_data, retry_info)
        callbacks.failed(job, error, attempts, final=True)

    declare_actor(
        broker,
        render_tax_report,
        RENDER_TAX_REPORT_ACTOR,
        PDF_GENERATION,
        throws=(PermanentRenderError,),
        on_retry_exhausted=RENDER_TAX_REPORT_EXHAUSTED_ACTOR,
        time_limit=int((hard_limit + 60) * 1000),
    )
    declare_actor(
        broker,
        render_tax_report_retries_exhausted,
        RENDER_TAX_REPORT_EXHAUSTED_ACTOR,
        PDF_GENERATION,
    )
    return callbacks
