"""One trace follows an invoice from the REST call to the render callback (CONTRACT §7)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

CREATE = "suoops.invoice.v1.InvoiceService/CreateInvoice"
COMPLETE = "suoops.invoice.v1.RenderCallbackService/CompleteRender"
# (service, span name, kind) of every hop the invoice's trace must hold.
EXPECTED_HOPS = {
    ("gateway", "POST /invoices/", "server"),
    ("gateway", CREATE, "client"),
    ("invoice", CREATE, "server"),
    ("invoice", "publish render_invoice", "producer"),
    ("worker", "render_invoice", "consumer"),
    ("worker", "render", "internal"),
    ("worker", "s3.put_object", "client"),
    ("worker", COMPLETE, "client"),
    ("invoice", COMPLETE, "server"),
}


def read_spans(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_trace(
    path: Path, expected: set[tuple[str, str, str]], timeout: float = 30
) -> tuple[str, list[dict[str, Any]]]:
    """The trace rooted at the gateway's POST, once every expected hop has ended."""
    deadline = time.monotonic() + timeout
    while True:
        spans = read_spans(path)
        roots = [s for s in spans if s["service"] == "gateway" and s["name"] == "POST /invoices/"]
        if roots:
            trace_id = roots[0]["trace_id"]
            in_trace = [s for s in spans if s["trace_id"] == trace_id]
            hops = {(s["service"], s["name"], s["kind"]) for s in in_trace}
            if hops >= expected:
                return trace_id, in_trace
        if time.monotonic() > deadline:
            seen = sorted({(s["service"], s["name"], s["kind"], s["trace_id"]) for s in spans})
            raise AssertionError(f"trace incomplete; spans seen: {seen}")
        time.sleep(0.1)


def assert_one_tree_from_the_rest_call(spans: list[dict[str, Any]]) -> dict[str, Any]:
    """Every span's parent is in the set but the root's, which is the gateway's POST."""
    by_id = {s["span_id"]: s for s in spans}
    assert len(by_id) == len(spans)
    roots = [s for s in spans if s["parent_span_id"] is None]
    assert [(r["service"], r["name"], r["kind"]) for r in roots] == [
        ("gateway", "POST /invoices/", "server")
    ]
    orphans = [s for s in spans if s["parent_span_id"] and s["parent_span_id"] not in by_id]
    assert orphans == []
    return by_id


def test_one_invoice_makes_one_trace_from_the_rest_call_to_the_render_callback(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    spans_file = tmp_path / "spans.jsonl"
    stack = make_stack(("invoice", "worker", "gateway"), OTEL_SPANS_FILE=str(spans_file))
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as http:
        created = http.post(
            "/invoices/",
            json={"customer_name": "Ada Obi", "amount": "50000"},
            headers={"Authorization": f"Bearer {stack.token}"},
        )
    assert created.status_code == 201, created.text
    invoice_id = created.json()["invoice_id"]
    stack.wait_for_pdf(invoice_id)

    trace_id, spans = wait_for_trace(spans_file, EXPECTED_HOPS)

    by_id = assert_one_tree_from_the_rest_call(spans)
    # Every span about this invoice, in any process, is in this one trace.
    everywhere = read_spans(spans_file)
    about_invoice = [s for s in everywhere if s["attributes"].get("invoice_id") == invoice_id]
    assert about_invoice
    assert {s["trace_id"] for s in about_invoice} == {trace_id}
    # The job's span hangs under the outbox relay's publish, under the CreateInvoice call.
    job = next(s for s in spans if s["name"] == "render_invoice")
    published = by_id[job["parent_span_id"]]
    assert published["name"] == "publish render_invoice"
    assert by_id[published["parent_span_id"]]["name"] == CREATE
    assert job["attributes"]["messaging.system"] == "dramatiq"

    worker_lines = [json.loads(line) for line in stack.group.logs("worker").splitlines()]
    rendered = [
        line
        for line in worker_lines
        if line.get("event") == "invoice rendered" and line.get("invoice_id") == invoice_id
    ]
    assert rendered
    assert rendered[0]["trace_id"] == trace_id
    assert rendered[0]["span_id"] == job["span_id"]


def test_a_synchronous_render_is_traced_through_the_renderer_service(
    make_stack: Callable[..., Stack], tmp_path: Path
) -> None:
    spans_file = tmp_path / "spans.jsonl"
    stack = make_stack(("invoice", "renderer", "gateway"), OTEL_SPANS_FILE=str(spans_file))
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as http:
        created = http.post(
            "/invoices/?async_pdf=false",
            json={"customer_name": "Chidi", "amount": "75"},
            headers={"Authorization": f"Bearer {stack.token}"},
        )
    assert created.status_code == 201, created.text
    assert created.json()["pdf_status"] == "ready"
    render = "suoops.renderer.v1.RendererService/RenderInvoice"
    _, spans = wait_for_trace(
        spans_file,
        {
            ("invoice", CREATE, "server"),
            ("invoice", render, "client"),
            ("renderer", render, "server"),
            ("renderer", "render", "internal"),
            ("renderer", "s3.put_object", "client"),
        },
    )
    by_id = assert_one_tree_from_the_rest_call(spans)
    stored = next(s for s in spans if s["name"] == "s3.put_object")
    assert by_id[stored["parent_span_id"]]["name"] == render


class OtlpCollector:
    """A local OTLP/HTTP endpoint keeping every request it is sent."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                collector.requests.append((self.path, self.headers["Content-Type"], body))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpCollector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def spans(self) -> list[tuple[str, str, str]]:
        """(service, span name, trace id) of every span received."""
        found = []
        for _, _, body in self.requests:
            export = ExportTraceServiceRequest.FromString(body)
            for resource_spans in export.resource_spans:
                attributes = {
                    a.key: a.value.string_value for a in resource_spans.resource.attributes
                }
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found.append((attributes["service.name"], span.name, span.trace_id.hex()))
        return found


def test_spans_are_posted_to_the_otlp_endpoint_as_protobuf(
    make_stack: Callable[..., Stack],
) -> None:
    with OtlpCollector() as collector:
        stack = make_stack(("invoice", "gateway"), OTEL_EXPORTER_OTLP_ENDPOINT=collector.url)
        with httpx.Client(base_url=stack.gateway_url, timeout=30) as http:
            created = http.post(
                "/invoices",
                json={"customer_name": "Bola", "amount": "10"},
                headers={"Authorization": f"Bearer {stack.token}"},
            )
        assert created.status_code == 201, created.text
        # A process flushes its batch of spans as it stops.
        stack.group.stop("gateway")
        assert stack.group.stop("invoice") == 0
    assert collector.requests
    assert {(path, kind) for path, kind, _ in collector.requests} == {
        ("/v1/traces", "application/x-protobuf")
    }
    spans = collector.spans()
    (root,) = [s for s in spans if s[:2] == ("gateway", "POST /invoices")]
    assert ("invoice", CREATE, root[2]) in spans
