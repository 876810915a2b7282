"""Dramatiq middleware carrying the trace inside each message (`options["traceparent"]`)."""

from __future__ import annotations

import threading
from contextvars import Token
from dataclasses import dataclass
from typing import Any

import dramatiq
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from services.common.tracing import (
    TRACEPARENT,
    bind_invoice,
    context_from_traceparent,
    current_traceparent,
    tracer,
    tracing_enabled,
    unbind_invoice,
)


@dataclass
class _Running:
    message_id: str
    token: object
    span: Span | None
    invoice_token: Token[str | None]


class TracingMiddleware(dramatiq.Middleware):
    """Puts the sender's trace context into each message it enqueues (unless it has one),
    and runs each job inside a consumer span that continues that context."""

    def __init__(self) -> None:
        self._local = threading.local()

    def before_enqueue(
        self, broker: dramatiq.Broker, message: dramatiq.Message, delay: int
    ) -> None:
        if TRACEPARENT in message.options:
            return  # a retry, or a job the outbox relay stamped with its invoice's trace
        traceparent = current_traceparent()
        if traceparent is not None:
            message.options[TRACEPARENT] = traceparent

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        parent = context_from_traceparent(message.options.get(TRACEPARENT))
        invoice_id = _invoice_id(message.args)
        span = None
        if tracing_enabled():
            span = tracer().start_span(
                message.actor_name,
                context=parent,
                kind=SpanKind.CONSUMER,
                attributes=_attributes(message, invoice_id),
            )
            active = trace.set_span_in_context(span, parent)
        else:
            active = parent if parent is not None else otel_context.get_current()
        self._local.running = _Running(
            message.message_id,
            otel_context.attach(active),
            span,
            bind_invoice(invoice_id),
        )

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: Any,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        running = self._take(message)
        if running is None:
            return
        if running.span is not None and exception is not None:
            # The type only: an exception's text may quote a job's arguments.
            running.span.set_attribute("error.type", type(exception).__qualname__)
            running.span.set_status(Status(StatusCode.ERROR, type(exception).__qualname__))
        self._finish(running)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        running = self._take(message)
        if running is not None:
            if running.span is not None:
                running.span.set_attribute("dramatiq.skipped", True)
            self._finish(running)

    def _take(self, message: Any) -> _Running | None:
        running: _Running | None = getattr(self._local, "running", None)
        if running is None or running.message_id != message.message_id:
            return None
        self._local.running = None
        return running

    @staticmethod
    def _finish(running: _Running) -> None:
        unbind_invoice(running.invoice_token)
        otel_context.detach(running.token)  # type: ignore[arg-type]
        if running.span is not None:
            running.span.end()


def _invoice_id(args: Any) -> str | None:
    """The invoice a job is about, when its first argument is a payload naming one."""
    if args and isinstance(args[0], dict):
        value = args[0].get("invoice_id")
        return value if isinstance(value, str) else None
    return None


def _attributes(message: Any, invoice_id: str | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "messaging.system": "dramatiq",
        "messaging.operation.type": "process",
        "messaging.destination.name": message.queue_name,
        "messaging.message.id": message.message_id,
        "dramatiq.retries": int(message.options.get("retries", 0)),
    }
    if invoice_id is not None:
        attributes["invoice_id"] = invoice_id
    return attributes
