"""JSON log lines name the active span's trace, and nothing when no span is active."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common.logging import JsonFormatter
from services.common.tracing import (
    attached,
    bind_invoice,
    context_from_traceparent,
    tracer,
    unbind_invoice,
)

pytestmark = pytest.mark.unit


def log_line(**extra: Any) -> dict[str, Any]:
    record = logging.LogRecord("suoops.test", logging.INFO, __file__, 1, "hello", None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    parsed: dict[str, Any] = json.loads(JsonFormatter("worker").format(record))
    return parsed


def test_a_line_logged_inside_a_span_carries_its_trace_and_span_ids(
    finished_spans: InMemorySpanExporter,
) -> None:
    with tracer().start_as_current_span("job") as span:
        line = log_line()
    assert line["trace_id"] == f"{span.get_span_context().trace_id:032x}"
    assert line["span_id"] == f"{span.get_span_context().span_id:016x}"


def test_a_line_logged_outside_any_span_has_no_trace_id() -> None:
    line = log_line()
    assert "trace_id" not in line
    assert "span_id" not in line


def test_an_incoming_trace_is_logged_even_with_tracing_off() -> None:
    parent = context_from_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    with attached(parent):
        line = log_line()
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"


def test_the_bound_invoice_is_logged_unless_the_line_names_one_itself() -> None:
    token = bind_invoice("INV-000123")
    try:
        assert log_line()["invoice_id"] == "INV-000123"
        assert log_line(invoice_id="INV-999999")["invoice_id"] == "INV-999999"
    finally:
        unbind_invoice(token)
    assert "invoice_id" not in log_line()
