"""A producer span around each traced job's enqueue: the trace shows how long it waited."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.trace import Span, SpanKind, Status, StatusCode, set_span_in_context

from services.common.tracing import (
    TRACEPARENT,
    context_from_traceparent,
    traceparent_in,
    tracer,
    tracing_enabled,
)
from services.invoice.adapters.job_publisher import Job


@contextmanager
def publish_spans(jobs: list[Job]) -> Iterator[None]:
    """Open a span per job that carries a trace, and make it the parent the job continues."""
    if not tracing_enabled():
        yield
        return
    spans: list[Span] = []
    for job in jobs:
        parent = context_from_traceparent(job.options.get(TRACEPARENT))
        if parent is None:
            continue
        span = tracer().start_span(
            f"publish {job.actor}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "dramatiq",
                "messaging.operation.type": "send",
                "messaging.destination.name": job.queue,
            },
        )
        job.options[TRACEPARENT] = traceparent_in(set_span_in_context(span, parent))
        spans.append(span)
    try:
        yield
    except BaseException as exc:
        for span in spans:
            span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
        raise
    finally:
        for span in spans:
            span.end()
