"""Per-RPC request counts and latencies for a grpc.aio server, as one server interceptor."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from prometheus_client import Counter, Histogram

from services.common.grpc_interceptors import Behaviour, MethodWrappingInterceptor

REQUESTS = Counter("grpc_server_requests", "RPCs handled, by method and code", ["method", "code"])
LATENCY = Histogram(
    "grpc_server_request_seconds",
    "Time from a request's arrival to its answer, by method",
    ["method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class RpcMetricsInterceptor(MethodWrappingInterceptor):
    """Counts and times every RPC; put it first so it sees the final status code."""

    def wrap_unary(self, method: str, inner: Behaviour) -> Behaviour:
        return _wrap_unary(inner, _MethodMetrics(method))

    def wrap_stream(self, method: str, inner: Behaviour) -> Behaviour:
        return _wrap_stream(inner, _MethodMetrics(method))


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
