"""gRPC interceptors carrying the trace: server spans, and `traceparent` in client metadata."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from services.common.grpc_interceptors import Behaviour, MethodWrappingInterceptor
from services.common.tracing import (
    TRACEPARENT,
    attached,
    context_from_traceparent,
    current_traceparent,
    traceparent_from_pairs,
    tracer,
    tracing_enabled,
)


def _rpc_attributes(method: str) -> dict[str, str]:
    service, _, name = method.lstrip("/").partition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}


class TracingServerInterceptor(MethodWrappingInterceptor):
    """Continues the caller's trace: a server span per unary call when tracing is on, and the
    caller's context made current either way. Put it first, so every other layer is inside."""

    def wrap_unary(self, method: str, inner: Behaviour) -> Behaviour:
        name, attributes = method.lstrip("/"), _rpc_attributes(method)

        async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            parent = context_from_traceparent(traceparent_from_pairs(context.invocation_metadata()))
            if not tracing_enabled():
                if parent is None:
                    return await inner(request, context)
                with attached(parent):
                    return await inner(request, context)
            # The status is the gRPC code; an exception's text is never recorded (it may
            # quote what the caller sent).
            with tracer().start_as_current_span(
                name,
                context=parent,
                kind=SpanKind.SERVER,
                attributes=attributes,
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                try:
                    reply = await inner(request, context)
                except BaseException:
                    _set_code(span, context.code() or grpc.StatusCode.UNKNOWN)
                    raise
                _set_code(span, context.code())
                return reply

        return unary

    def wrap_stream(self, method: str, inner: Behaviour) -> Behaviour:
        # Streams (WatchInvoice) live as long as a client watches and queue no work: untraced.
        return inner


def _set_code(span: Span, code: grpc.StatusCode | None) -> None:
    if code is None or code == grpc.StatusCode.OK:
        return
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    span.set_status(Status(StatusCode.ERROR, code.name))


def _with_traceparent(metadata: Any, traceparent: str) -> grpc.aio.Metadata:
    merged = grpc.aio.Metadata(*(tuple(metadata) if metadata else ()))
    merged.add(TRACEPARENT, traceparent)
    return merged


class AioTracingClientInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """A client span per unary call (when tracing is on), its `traceparent` sent as metadata."""

    async def intercept_unary_unary(
        self,
        continuation: Callable[..., Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        with _client_span(_method_name(client_call_details.method)) as span:
            traceparent = current_traceparent()
            details = client_call_details
            if traceparent is not None:
                details = details._replace(
                    metadata=_with_traceparent(details.metadata, traceparent)
                )
            call = await continuation(details, request)
            if span is None:
                return call
            with contextlib.suppress(grpc.RpcError):  # the caller sees it when it awaits
                await call
            _set_code(span, await call.code())
            return call


class _ClientCallDetails(grpc.ClientCallDetails):
    def __init__(self, base: grpc.ClientCallDetails, metadata: list[tuple[str, str]]) -> None:
        self.method = base.method
        self.timeout = base.timeout
        self.metadata = metadata
        self.credentials = base.credentials
        self.wait_for_ready = getattr(base, "wait_for_ready", None)
        self.compression = getattr(base, "compression", None)


class TracingClientInterceptor(grpc.UnaryUnaryClientInterceptor):
    """The blocking client's twin of AioTracingClientInterceptor (for worker threads)."""

    def intercept_unary_unary(
        self,
        continuation: Callable[..., Any],
        client_call_details: grpc.ClientCallDetails,
        request: Any,
    ) -> Any:
        method = _method_name(client_call_details.method)
        with _client_span(method) as span:
            traceparent = current_traceparent()
            if traceparent is None:
                return continuation(client_call_details, request)
            metadata = [*(client_call_details.metadata or ()), (TRACEPARENT, traceparent)]
            outcome = continuation(_ClientCallDetails(client_call_details, metadata), request)
            if span is not None:
                _set_code(span, outcome.code())
            return outcome


@contextmanager
def _client_span(method: str) -> Iterator[Span | None]:
    if not tracing_enabled():
        yield None
        return
    with tracer().start_as_current_span(
        method,
        kind=SpanKind.CLIENT,
        attributes=_rpc_attributes(method),
        record_exception=False,
    ) as span:
        yield span


def _method_name(method: str | bytes) -> str:
    text = method.decode("ascii") if isinstance(method, bytes) else method
    return text.lstrip("/")


def traced_channel(address: str, **options: Any) -> grpc.Channel:
    """A blocking channel whose unary calls carry the caller's trace (for worker threads)."""
    return grpc.intercept_channel(
        grpc.insecure_channel(address, **options), TracingClientInterceptor()
    )


def traced_aio_channel(address: str, **options: Any) -> grpc.aio.Channel:
    """An asyncio channel whose unary calls carry the caller's trace."""
    interceptors = [*options.pop("interceptors", ()), AioTracingClientInterceptor()]
    return grpc.aio.insecure_channel(address, interceptors=interceptors, **options)
