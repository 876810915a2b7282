"""The render actor renders while StartRender is in flight, and acts only on a wanted job."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import pytest
from suoops.renderer.v1 import renderer_pb2

from services.common.broker import create_broker
from services.common.queues import RENDER_INVOICE_ACTOR
from services.common.tracing import bind_invoice, unbind_invoice
from services.renderer.actors import register_render_actors
from services.renderer.pipeline import RenderedPdf, RenderOutcome
from services.renderer.render_pool import PermanentRenderError, RenderError
from services.renderer.samples import sample_invoice
from services.renderer.storage import StoredPdf
from tests.conftest import make_settings

pytestmark = pytest.mark.integration


class FakeStartError(Exception):
    """StartRender could not reach the invoice service."""


@dataclass
class FakeCallbacks:
    """The invoice service's answers, chosen by the test; every report recorded."""

    wanted: bool | Exception = True
    start: Future[bool] = field(default_factory=Future)
    answer_on_render: bool = False
    completions: list[tuple[str, int, str]] = field(default_factory=list)
    failures: list[tuple[str, bool]] = field(default_factory=list)

    def answer(self) -> None:
        if self.start.done():
            return
        if isinstance(self.wanted, Exception):
            self.start.set_exception(self.wanted)
        else:
            self.start.set_result(self.wanted)

    def start_meanwhile(self, invoice_id: str, generation: int) -> Future[bool]:
        if not self.answer_on_render:
            self.answer()
        return self.start

    def completed(
        self, invoice_id: str, generation: int, stored: StoredPdf, render_seconds: float
    ) -> bool:
        self.completions.append((invoice_id, generation, stored.key))
        return True

    def failed(
        self, invoice_id: str, generation: int, error: str, attempts: int, final: bool
    ) -> bool:
        self.failures.append((error, final))
        return True


@dataclass
class FakePipeline:
    """Renders instantly (or fails as told) and records what it was asked to store."""

    callbacks: FakeCallbacks
    error: Exception | None = None
    start_answered_at_render: bool | None = None
    stored: list[str] = field(default_factory=list)

    def render(self, request: renderer_pb2.RenderInvoiceRequest) -> RenderedPdf:
        self.start_answered_at_render = self.callbacks.start.done()
        self.callbacks.answer()  # the invoice service answers while the render runs
        if self.error is not None:
            raise self.error
        return RenderedPdf(b"%PDF-1.7 fake", 0.042)

    def store(
        self, request: renderer_pb2.RenderInvoiceRequest, rendered: RenderedPdf
    ) -> RenderOutcome:
        key = f"invoices/biz/{request.invoice.invoice_id}/g{request.generation}.pdf"
        self.stored.append(key)
        return RenderOutcome(StoredPdf(key, "ab" * 32, len(rendered.pdf)), rendered.render_seconds)


def run_job(redis_url: str, callbacks: FakeCallbacks, pipeline: FakePipeline) -> None:
    """Declare the actors on a broker of their own and run one render job in this thread."""
    settings = make_settings(REDIS_URL=redis_url, INTERNAL_TOKEN="internal")
    broker = create_broker(settings)
    try:
        register_render_actors(broker, pipeline, callbacks, settings)  # type: ignore[arg-type]
        request = renderer_pb2.RenderInvoiceRequest(invoice=sample_invoice(), generation=3)
        encoded = base64.b64encode(request.SerializeToString()).decode("ascii")
        # In a worker the tracing middleware scopes the invoice the job names to the job.
        bound = bind_invoice(None)
        try:
            broker.get_actor(RENDER_INVOICE_ACTOR).fn(encoded)
        finally:
            unbind_invoice(bound)
    finally:
        broker.close()


def test_the_render_runs_before_start_render_has_answered(redis_url: str) -> None:
    callbacks = FakeCallbacks(answer_on_render=True)
    pipeline = FakePipeline(callbacks)
    # Should the actor wait for the answer before rendering, this unblocks it (and the test fails).
    late = threading.Timer(5.0, callbacks.answer)
    late.start()
    try:
        run_job(redis_url, callbacks, pipeline)
    finally:
        late.cancel()

    assert pipeline.start_answered_at_render is False
    invoice_id = sample_invoice().invoice_id
    assert pipeline.stored == [f"invoices/biz/{invoice_id}/g3.pdf"]
    assert callbacks.completions == [(invoice_id, 3, f"invoices/biz/{invoice_id}/g3.pdf")]


def test_a_job_no_longer_wanted_stores_nothing_and_reports_nothing(redis_url: str) -> None:
    callbacks = FakeCallbacks(wanted=False, answer_on_render=True)
    pipeline = FakePipeline(callbacks)

    run_job(redis_url, callbacks, pipeline)

    assert pipeline.start_answered_at_render is False
    assert pipeline.stored == []
    assert callbacks.completions == [] and callbacks.failures == []


def test_a_failed_render_of_a_job_no_longer_wanted_reports_nothing(redis_url: str) -> None:
    callbacks = FakeCallbacks(wanted=False, answer_on_render=True)
    pipeline = FakePipeline(callbacks, error=RenderError("the render process died"))

    run_job(redis_url, callbacks, pipeline)

    assert pipeline.stored == []
    assert callbacks.completions == [] and callbacks.failures == []


def test_a_failed_render_of_a_wanted_job_is_reported_and_raised_for_a_retry(
    redis_url: str,
) -> None:
    callbacks = FakeCallbacks(answer_on_render=True)
    pipeline = FakePipeline(callbacks, error=RenderError("the render process died"))

    with pytest.raises(RenderError, match="the render process died"):
        run_job(redis_url, callbacks, pipeline)

    assert pipeline.stored == []
    assert callbacks.failures == [("the render process died", False)]
    assert callbacks.completions == []


def test_a_template_error_fails_the_invoice_at_once(redis_url: str) -> None:
    callbacks = FakeCallbacks(answer_on_render=True)
    pipeline = FakePipeline(callbacks, error=PermanentRenderError("TemplateError: bad"))

    with pytest.raises(PermanentRenderError):
        run_job(redis_url, callbacks, pipeline)

    assert callbacks.failures == [("TemplateError: bad", True)]
    assert pipeline.stored == []


def test_start_render_failing_stores_nothing_and_raises_for_a_retry(redis_url: str) -> None:
    callbacks = FakeCallbacks(wanted=FakeStartError("invoice service unavailable"))
    pipeline = FakePipeline(callbacks)

    with pytest.raises(FakeStartError):
        run_job(redis_url, callbacks, pipeline)

    assert pipeline.stored == []
    assert callbacks.completions == [] and callbacks.failures == []
