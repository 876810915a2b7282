"""Per-RPC request counts and latencies for a grpc.aio server, as one server interceptor."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from prometheus_client import Counter, Histogram

REQUESTS = Counter("grpc_server_requests", "RPCs handled, by method and code", ["method", "code"])
LATENCY = Histogram(
    "grpc_server_request_seconds",
    "Time from a request's arrival to its answer, by method",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class RpcMetricsInterceptor(grpc.aio.ServerInterceptor):
    """Counts and times every RPC; put it first so it sees the final status code."""

    def __init__(self) -> None:
        # One wrapped handler per method, made on its first call: not one per call.
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        wrapped = self._wrapped.get(method)
        if wrapped is None:
            handler = await continuation(handler_call_details)
            if handler is None:
                return handler
            wrapped = _wrap(handler, _MethodMetrics(method))
            self._wrapped[method] = wrapped
        return wrapped


class _MethodMetrics:
    """The label children of one method, bound once."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.latency = LATENCY.labels(method)
        self._counts: dict[grpc.StatusCode, Any] = {}

    def record(self, started: float, code: grpc.StatusCode | None) -> None:
        self.latency.observe(time.perf_counter() - started)
        code = code or grpc.StatusCode.OK
        count = self._counts.get(code)
        if count is None:
            count = self._counts[code] = REQUESTS.labels(self.method, code.name)
        count.inc()


def _wrap(handler: grpc.RpcMethodHandler, metrics: _MethodMetrics) -> grpc.RpcMethodHandler:
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            _wrap_unary(handler.unary_unary, metrics),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            _wrap_stream(handler.unary_stream, metrics),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
    return handler


def _wrap_unary(inner: Callable[..., Any], metrics: _MethodMetrics) -> Callable[..., Any]:
    async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        started = time.perf_counter()
        try:
            reply = await inner(request, context)
        except BaseException:
            # Aborts set the code; anything else reaches the client as UNKNOWN.
            metrics.record(started, context.code() or grpc.StatusCode.UNKNOWN)
            raise
        metrics.record(started, context.code())
        return reply

    return unary


def _wrap_stream(inner: Callable[..., Any], metrics: _MethodMetrics) -> Callable[..., Any]:
    async def stream(
        request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        started = time.perf_counter()
        try:
            async for item in inner(request, context):
                yield item
        except BaseException:
            metrics.record(started, context.code() or grpc.StatusCode.UNKNOWN)
            raise
        metrics.record(started, context.code())

    return stream
