"""OpenTelemetry set-up for one process, and the W3C trace context carried between processes.

With neither OTEL_EXPORTER_OTLP_ENDPOINT nor OTEL_SPANS_FILE set, no SDK provider is
installed: spans are no-ops and cost next to nothing, yet an incoming `traceparent` is still
passed on, so a traced caller's trace continues through an untraced process.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from services.common.settings import Settings
from services.common.span_file import JsonLinesSpanExporter

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
TRACER_NAME = "suoops"
_PROPAGATOR = TraceContextTextMapPropagator()
_enabled = False
# The invoice the current request or job is about, for log lines that do not name it.
_INVOICE_ID: ContextVar[str | None] = ContextVar("suoops_invoice_id", default=None)


def build_tracer_provider(service_name: str, settings: Settings) -> TracerProvider | None:
    """A provider exporting to OTLP and/or the spans file; None when neither is configured."""
    endpoint, spans_file = settings.otel_exporter_otlp_endpoint, settings.otel_spans_file
    if not endpoint and not spans_file:
        return None
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    if endpoint:
        # Imported here: processes without an endpoint never load the HTTP exporter.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        # The generic endpoint is a base URL; OTLP/HTTP traces go to its /v1/traces path.
        traces_url = endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces_url)))
    if spans_file:
        # Written as each span ends, so a test reading the file sees it without a flush.
        provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(spans_file)))
    return provider


def configure_tracing(service_name: str, settings: Settings) -> None:
    """Install this process's tracer provider (once, in main()); spans flush at exit."""
    global _enabled
    provider = build_tracer_provider(service_name, settings)
    if provider is None:
        return
    trace.set_tracer_provider(provider)
    _enabled = True
    log.info("tracing on", extra={"otlp": bool(settings.otel_exporter_otlp_endpoint)})


def flush_spans(timeout_millis: int = 5000) -> None:
    """Export the spans still batched (for a process about to be ended by a signal)."""
    provider = trace.get_tracer_provider()
    if _enabled and isinstance(provider, TracerProvider):
        provider.force_flush(timeout_millis)


def tracing_enabled() -> bool:
    """Whether this process records spans (an SDK provider was installed)."""
    return _enabled


def tracer() -> trace.Tracer:
    """The tracer every SuoOps span comes from (a no-op one until a provider is installed)."""
    return trace.get_tracer(TRACER_NAME)


def current_traceparent() -> str | None:
    """The W3C `traceparent` of the active span, or None outside any trace."""
    return traceparent_in(None)


def traceparent_in(context: Context | None) -> str | None:
    """The W3C `traceparent` of the span in `context` (None: the current one), if any."""
    span_context = trace.get_current_span(context).get_span_context()
    if not span_context.is_valid:
        return None
    return (
        f"00-{span_context.trace_id:032x}-{span_context.span_id:016x}"
        f"-{int(span_context.trace_flags):02x}"
    )


def context_from_traceparent(traceparent: str | None) -> Context | None:
    """The remote parent a `traceparent` names; None when absent or malformed."""
    if not traceparent or not isinstance(traceparent, str):
        return None
    extracted = _PROPAGATOR.extract({TRACEPARENT: traceparent})
    if not trace.get_current_span(extracted).get_span_context().is_valid:
        return None
    return extracted


def traceparent_from_pairs(pairs: Iterable[tuple[str, object]] | None) -> str | None:
    """The `traceparent` among header or metadata pairs (keys already lower case)."""
    for key, value in pairs or ():
        if key == TRACEPARENT:
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


@contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str | int | float | bool] | None = None,
) -> Iterator[Span]:
    """A child span of the current one; a failure marks it with the exception's type only
    (its text may quote an invoice or a request, and traces leave the process)."""
    with tracer().start_as_current_span(
        name,
        kind=kind,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as current:
        try:
            yield current
        except BaseException as exc:
            current.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
            raise


@contextmanager
def attached(parent: Context | None) -> Iterator[None]:
    """Make `parent` the current context for the block (nothing when None)."""
    if parent is None:
        yield
        return
    token = otel_context.attach(parent)
    try:
        yield
    finally:
        otel_context.detach(token)


def bind_invoice(invoice_id: str | None) -> Token[str | None]:
    """Name the invoice the current job is about (for logs); undo with `unbind_invoice`."""
    return _INVOICE_ID.set(invoice_id)


def unbind_invoice(token: Token[str | None]) -> None:
    """Forget what `bind_invoice` (and any `note_invoice` after it) named."""
    _INVOICE_ID.reset(token)


def note_invoice(invoice_id: str) -> None:
    """Record the invoice on the active span and on the logs of the job that is running."""
    _INVOICE_ID.set(invoice_id)
    trace.get_current_span().set_attribute("invoice_id", invoice_id)


def current_invoice_id() -> str | None:
    """The invoice bound to the current job, if any."""
    return _INVOICE_ID.get()
