"""The render job's Dramatiq actors: render and store, report the outcome, give up cleanly."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dramatiq.brokers.redis import RedisBroker

from services.common.broker import declare_actor
from services.common.job_messages import current_attempt, decode_request, exhausted_attempt
from services.common.queues import (
    PDF_GENERATION,
    RENDER_INVOICE_ACTOR,
    RENDER_RETRIES_EXHAUSTED_ACTOR,
)
from services.common.render_records import record_duration, record_error, record_outcome
from services.common.settings import Settings
from services.common.tracing import note_invoice
from services.renderer.callbacks import RenderCallbacks
from services.renderer.pipeline import RenderPipeline
from services.renderer.render_pool import PermanentRenderError

log = logging.getLogger(__name__)


def register_render_actors(
    broker: RedisBroker, pipeline: RenderPipeline, callbacks: RenderCallbacks, settings: Settings
) -> None:
    """Declare the render actors on this broker, bound to this process's pipeline."""
    notes = _RenderNotes(broker)

    def render_invoice(encoded: str) -> None:
        request = decode_request(encoded)
        invoice_id, generation = request.invoice.invoice_id, request.generation
        note_invoice(invoice_id)
        attempt = current_attempt()
        # StartRender travels while the render runs; its answer is awaited before anything is
        # stored or reported, so a job no longer wanted costs one render and changes nothing.
        start = callbacks.start_meanwhile(invoice_id, generation)
        rendered, render_error = None, None
        try:
            rendered = pipeline.render(request)
        except Exception as exc:
            render_error = exc
        if not start.result():
            log.info("render no longer wanted", extra={"invoice_id": invoice_id})
            return
        try:
            if render_error is not None:
                raise render_error
            assert rendered is not None
            outcome = pipeline.store(request, rendered)
        except PermanentRenderError as exc:
            notes.failed(invoice_id, str(exc), attempt, final=True)
            callbacks.failed(invoice_id, generation, str(exc), attempt, final=True)
            raise
        except Exception as exc:
            error = f"{exc}"
            notes.failed(invoice_id, error, attempt, final=False)
            report_quietly(
                lambda: callbacks.failed(invoice_id, generation, error, attempt, final=False)
            )
            raise
        callbacks.completed(invoice_id, generation, outcome.stored, outcome.render_seconds)
        notes.ready(outcome.render_seconds)
        log.info(
            "invoice rendered",
            extra={
                "invoice_id": invoice_id,
                "generation": generation,
                "render_ms": round(outcome.render_seconds * 1000, 1),
            },
        )

    def render_retries_exhausted(message_data: dict[str, Any], retry_info: dict[str, Any]) -> None:
        request = decode_request(message_data["args"][0])
        note_invoice(request.invoice.invoice_id)
        error, attempts = exhausted_attempt(message_data, retry_info)
        notes.failed(request.invoice.invoice_id, error, attempts, final=True)
        callbacks.failed(
            request.invoice.invoice_id, request.generation, error, attempts, final=True
        )

    declare_actor(
        broker,
        render_invoice,
        RENDER_INVOICE_ACTOR,
        PDF_GENERATION,
        throws=(PermanentRenderError,),
        on_retry_exhausted=RENDER_RETRIES_EXHAUSTED_ACTOR,
        # The render pool enforces the hard limit itself; Dramatiq's own limit is a backstop.
        time_limit=int((settings.render_hard_limit_seconds + 60) * 1000),
    )
    declare_actor(broker, render_retries_exhausted, RENDER_RETRIES_EXHAUSTED_ACTOR, PDF_GENERATION)


def report_quietly(report: Callable[[], object]) -> None:
    """Show a failed attempt on the invoice or report; the retry matters more than this."""
    try:
        report()
    except Exception as exc:
        log.warning("could not report a failed attempt", extra={"error": repr(exc)})


class _RenderNotes:
    """Outcomes and errors noted in Redis for `suoops inspect`; never fails the job."""

    def __init__(self, broker: RedisBroker) -> None:
        self._client = broker.client

    def ready(self, render_seconds: float) -> None:
        def note() -> None:
            record_outcome(self._client, "ready")
            record_duration(self._client, render_seconds)

        self._quietly(note)

    def failed(self, invoice_id: str, error: str, attempt: int, *, final: bool) -> None:
        def note() -> None:
            record_error(self._client, invoice_id, error, attempt)
            if final:
                record_outcome(self._client, "failed")

        self._quietly(note)

    @staticmethod
    def _quietly(note: Callable[[], None]) -> None:
        try:
            note()
        except Exception as exc:
            log.warning("could not note a render outcome", extra={"error": repr(exc)})
