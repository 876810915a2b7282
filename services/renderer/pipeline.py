"""Render an invoice and store its PDF: the work shared by the queue worker and the gRPC call."""

from __future__ import annotations

import time
from dataclasses import dataclass

from opentelemetry.trace import SpanKind
from suoops.renderer.v1 import renderer_pb2

from services.common.tracing import span
from services.renderer.render_metrics import PDF_FAILURE, PDF_RENDER_SECONDS, PDF_SUCCESS
from services.renderer.render_pool import RenderPool
from services.renderer.storage import PdfStore, StoredPdf, storage_key


@dataclass(frozen=True)
class RenderedPdf:
    """A PDF rendered but not stored yet, and how long its render took."""

    pdf: bytes
    render_seconds: float


@dataclass(frozen=True)
class RenderOutcome:
    """A stored PDF and how long its render took."""

    stored: StoredPdf
    render_seconds: float


class RenderPipeline:
    """Renders in the pool, then stores once under the generation's key."""

    def __init__(self, pool: RenderPool, store: PdfStore) -> None:
        self._pool = pool
        self._store = store

    def render_and_store(self, request: renderer_pb2.RenderInvoiceRequest) -> RenderOutcome:
        """Render, then store (the two steps below, one after the other)."""
        return self.store(request, self.render(request))

    def render(self, request: renderer_pb2.RenderInvoiceRequest) -> RenderedPdf:
        """The PDF bytes, rendered in a pool process; nothing is stored yet."""
        try:
            started = time.perf_counter()
            with span("render", attributes=_span_attributes(request)):
                pdf = self._pool.render(request.invoice)
            seconds = time.perf_counter() - started
        except Exception:
            PDF_FAILURE.inc()
            raise
        PDF_RENDER_SECONDS.observe(seconds)
        return RenderedPdf(pdf, seconds)

    def store(
        self, request: renderer_pb2.RenderInvoiceRequest, rendered: RenderedPdf
    ) -> RenderOutcome:
        """Store a rendered PDF under its generation's key (written once)."""
        invoice = request.invoice
        key = storage_key(invoice.business.business_id, invoice.invoice_id, request.generation)
        try:
            with span(
                "s3.put_object", kind=SpanKind.CLIENT, attributes={"rpc.system": "aws-api"}
            ) as upload:
                stored = self._store.put_once(key, rendered.pdf)
                upload.set_attribute("pdf.size_bytes", stored.size_bytes)
        except Exception:
            PDF_FAILURE.inc()
            raise
        PDF_SUCCESS.inc()
        return RenderOutcome(stored, rendered.render_seconds)


def _span_attributes(request: renderer_pb2.RenderInvoiceRequest) -> dict[str, str | int]:
    return {"invoice_id": request.invoice.invoice_id, "render.generation": request.generation}
