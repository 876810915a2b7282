"""gRPC calls carry the trace: client spans send `traceparent`, the server continues it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.common.tracing import attached, context_from_traceparent, current_traceparent, tracer
from services.common.tracing_grpc import (
    AioTracingClientInterceptor,
    TracingClientInterceptor,
    TracingServerInterceptor,
)

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

METHOD = "/test.v1.EchoService/Traceparent"
FAILING = "/test.v1.EchoService/Fail"
FOREIGN = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def _echo_traceparent(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    return (current_traceparent() or "").encode()


async def _fail(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
    await context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
    raise AssertionError("abort returns never")


@pytest.fixture
async def address() -> AsyncIterator[str]:
    server = grpc.aio.server(interceptors=[TracingServerInterceptor()])
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "test.v1.EchoService",
                {
                    "Traceparent": grpc.unary_unary_rpc_method_handler(_echo_traceparent),
                    "Fail": grpc.unary_unary_rpc_method_handler(_fail),
                },
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.name == name]


async def test_aio_client_call_becomes_client_and_server_spans_under_the_caller(
    address: str, finished_spans: InMemorySpanExporter
) -> None:
    async with grpc.aio.insecure_channel(
        address, interceptors=[AioTracingClientInterceptor()]
    ) as channel:
        call: Callable[..., Any] = channel.unary_unary(METHOD)
        with tracer().start_as_current_span("request") as request:
            seen = (await call(b"", timeout=5)).decode()
    (client,) = [s for s in spans_named(finished_spans, METHOD[1:]) if s.kind is SpanKind.CLIENT]
    (server,) = [s for s in spans_named(finished_spans, METHOD[1:]) if s.kind is SpanKind.SERVER]
    assert client.parent is not None and client.parent.span_id == request.get_span_context().span_id
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    assert server.context.trace_id == request.get_span_context().trace_id
    assert seen.split("-")[1:3] == [
        f"{server.context.trace_id:032x}",
        f"{server.context.span_id:016x}",
    ]
    assert server.attributes is not None and server.attributes["rpc.method"] == "Traceparent"


async def test_blocking_client_call_carries_the_trace_from_a_worker_thread(
    address: str, finished_spans: InMemorySpanExporter
) -> None:
    def call_from_thread() -> tuple[str, int]:
        with grpc.insecure_channel(address) as channel:
            traced = grpc.intercept_channel(channel, TracingClientInterceptor())
            with tracer().start_as_current_span("job") as job:
                reply = traced.unary_unary(METHOD)(b"", timeout=5)
        return reply.decode(), job.get_span_context().trace_id

    seen, trace_id = await asyncio.to_thread(call_from_thread)
    (server,) = [s for s in spans_named(finished_spans, METHOD[1:]) if s.kind is SpanKind.SERVER]
    (client,) = [s for s in spans_named(finished_spans, METHOD[1:]) if s.kind is SpanKind.CLIENT]
    assert server.context.trace_id == trace_id
    assert server.parent is not None and server.parent.span_id == client.context.span_id
    assert seen.split("-")[1] == f"{trace_id:032x}"


async def test_a_failed_call_marks_both_spans_with_its_status(
    address: str, finished_spans: InMemorySpanExporter
) -> None:
    async with grpc.aio.insecure_channel(
        address, interceptors=[AioTracingClientInterceptor()]
    ) as channel:
        with tracer().start_as_current_span("request"), pytest.raises(grpc.RpcError) as raised:
            await channel.unary_unary(FAILING)(b"", timeout=5)
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    spans = spans_named(finished_spans, FAILING[1:])
    assert {s.kind for s in spans} == {SpanKind.CLIENT, SpanKind.SERVER}
    assert all(s.status.description == "NOT_FOUND" for s in spans)


async def test_with_tracing_off_an_incoming_trace_still_passes_through(address: str) -> None:
    async with grpc.aio.insecure_channel(
        address, interceptors=[AioTracingClientInterceptor()]
    ) as channel:
        with attached(context_from_traceparent(FOREIGN)):
            seen = (await channel.unary_unary(METHOD)(b"", timeout=5)).decode()
        untraced = (await channel.unary_unary(METHOD)(b"", timeout=5)).decode()
    assert seen == FOREIGN
    assert untraced == ""
