"""The gateway's request span: the root of a trace, or the continuation of the caller's."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.tracing import RequestTracing
from services.common.tracing import current_traceparent

pytestmark = [pytest.mark.unit, pytest.mark.anyio]

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def echo_traceparent(request: Request) -> PlainTextResponse:
    return PlainTextResponse(current_traceparent() or "", status_code=201)


def client() -> httpx.AsyncClient:
    app = Starlette(
        routes=[
            Route("/invoices/{invoice_id}", echo_traceparent, methods=["POST"]),
            Route("/healthz", echo_traceparent),
        ]
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=RequestTracing(app)), base_url="http://gateway"
    )


async def test_request_span_is_named_by_route_and_records_no_query_string(
    finished_spans: InMemorySpanExporter,
) -> None:
    async with client() as http:
        reply = await http.post("/invoices/INV-123456?token=secret-token")
    (root,) = finished_spans.get_finished_spans()
    assert root.name == "POST /invoices/{invoice_id}"
    assert root.kind is SpanKind.SERVER
    assert root.parent is None
    assert root.attributes is not None
    assert root.attributes["http.response.status_code"] == 201
    assert "secret-token" not in root.to_json()
    # The handler ran inside the request's span.
    assert reply.text.split("-")[2] == f"{root.context.span_id:016x}"


async def test_a_callers_traceparent_becomes_the_request_spans_parent(
    finished_spans: InMemorySpanExporter,
) -> None:
    async with client() as http:
        await http.post("/invoices/INV-1", headers={"traceparent": CALLER})
    (request,) = finished_spans.get_finished_spans()
    assert f"{request.context.trace_id:032x}" == CALLER.split("-")[1]
    assert request.parent is not None
    assert f"{request.parent.span_id:016x}" == CALLER.split("-")[2]


async def test_health_probes_make_no_span(finished_spans: InMemorySpanExporter) -> None:
    async with client() as http:
        assert (await http.get("/healthz")).status_code == 201
    assert finished_spans.get_finished_spans() == ()


async def test_with_tracing_off_the_callers_trace_still_reaches_the_handler() -> None:
    async with client() as http:
        reply = await http.post("/invoices/INV-1", headers={"traceparent": CALLER})
        untraced = await http.post("/invoices/INV-1")
    assert reply.text == CALLER
    assert untraced.text == ""
