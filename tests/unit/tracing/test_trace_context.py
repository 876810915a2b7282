"""Reading and writing W3C trace context, and the spans file the tests collect spans from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common.settings import Settings
from services.common.tracing import (
    build_tracer_provider,
    context_from_traceparent,
    current_traceparent,
    span,
    traceparent_from_pairs,
    tracer,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "value",
    [None, "", "garbage", "00-00000000000000000000000000000000-b7ad6b7169203331-01", 42],
)
def test_a_missing_or_malformed_traceparent_gives_no_parent(value: object) -> None:
    assert context_from_traceparent(value) is None  # type: ignore[arg-type]


def test_the_current_traceparent_round_trips_through_the_propagator(
    finished_spans: InMemorySpanExporter,
) -> None:
    with tracer().start_as_current_span("call") as span:
        traceparent = current_traceparent()
    parent = context_from_traceparent(traceparent)
    assert parent is not None
    with tracer().start_as_current_span("child", context=parent):
        pass
    (child,) = [s for s in finished_spans.get_finished_spans() if s.name == "child"]
    assert child.context.trace_id == span.get_span_context().trace_id
    assert child.parent is not None and child.parent.span_id == span.get_span_context().span_id


def test_no_span_no_traceparent() -> None:
    assert current_traceparent() is None


def test_traceparent_is_found_among_metadata_pairs() -> None:
    pairs = [("authorization", "Bearer x"), ("traceparent", "00-ab-cd-01")]
    assert traceparent_from_pairs(pairs) == "00-ab-cd-01"
    assert traceparent_from_pairs(None) is None


def test_no_exporter_configured_means_no_provider_at_all() -> None:
    assert build_tracer_provider("gateway", Settings()) is None


def test_spans_file_gets_one_json_line_per_span_with_its_service_and_parent(
    tmp_path: Path,
) -> None:
    path = tmp_path / "spans.jsonl"
    provider = build_tracer_provider("invoice", Settings(otel_spans_file=str(path)))
    assert provider is not None
    spans = provider.get_tracer("t")
    with (
        spans.start_as_current_span("outer") as outer,
        spans.start_as_current_span("inner", attributes={"invoice_id": "INV-1"}),
    ):
        pass
    provider.shutdown()
    inner, written_outer = [json.loads(line) for line in path.read_text().splitlines()]
    assert inner["name"] == "inner" and written_outer["name"] == "outer"
    assert inner["service"] == "invoice"
    assert inner["trace_id"] == f"{outer.get_span_context().trace_id:032x}"
    assert inner["parent_span_id"] == written_outer["span_id"]
    assert written_outer["parent_span_id"] is None
    assert inner["attributes"] == {"invoice_id": "INV-1"}
    assert inner["end_ns"] >= inner["start_ns"]


def test_processes_sharing_a_spans_file_append_to_it(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    path.write_text('{"earlier": true}\n')
    for service in ("gateway", "worker"):
        provider = build_tracer_provider(service, Settings(otel_spans_file=str(path)))
        assert provider is not None
        with provider.get_tracer("t").start_as_current_span(f"{service} work"):
            pass
        provider.shutdown()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {"earlier": True}
    assert [(line["service"], line["name"]) for line in lines[1:]] == [
        ("gateway", "gateway work"),
        ("worker", "worker work"),
    ]


def test_a_failing_span_is_marked_with_the_exception_type_and_not_its_text(
    finished_spans: InMemorySpanExporter,
) -> None:
    with pytest.raises(ValueError), span("render"):
        raise ValueError("customer Ada Obi's secret notes")
    (failed,) = finished_spans.get_finished_spans()
    assert failed.status.description == "ValueError"
    assert "Ada" not in failed.to_json()
