"""ASGI middleware: a server span per HTTP request, the root of an invoice's trace."""

from __future__ import annotations

from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.asgi_response import ResponseStatus, route_template
from services.common.tracing import (
    attached,
    context_from_traceparent,
    tracer,
    tracing_enabled,
)

# Probes and scrapes would bury the traces that matter.
UNTRACED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestTracing:
    """Starts each request's span (continuing a caller's `traceparent`), named by its route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request inside its span; untraced, only a caller's context is kept."""
        if scope["type"] != "http" or scope["path"] in UNTRACED_PATHS:
            await self.app(scope, receive, send)
            return
        parent = context_from_traceparent(_traceparent(scope))
        if not tracing_enabled():
            with attached(parent):
                await self.app(scope, receive, send)
            return
        method = scope["method"]
        # The path, never the query string: `?token=` must not reach a trace.
        with tracer().start_as_current_span(
            f"{method} {scope['path']}",
            context=parent,
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": scope["path"]},
            # An exception's text may quote the request; the status code tells what failed.
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            status = ResponseStatus(send)
            try:
                await self.app(scope, receive, status.send)
            finally:
                route = route_template(scope)
                if route:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status.code)
                if status.code >= 500:
                    span.set_status(Status(StatusCode.ERROR))


def _traceparent(scope: Scope) -> str | None:
    for key, value in scope["headers"]:  # ASGI header names are lower-case bytes
        if key == b"traceparent":
            return str(value.decode("latin-1"))
    return None
