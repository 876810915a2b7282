"""The Dramatiq middleware carries the sender's trace inside the message to the job."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from services.common.tracing import (
    TRACEPARENT,
    current_invoice_id,
    current_traceparent,
    tracer,
)
from services.common.tracing_middleware import TracingMiddleware

pytestmark = pytest.mark.unit

FOREIGN_TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def broker() -> Iterator[StubBroker]:
    stub = StubBroker(middleware=[TracingMiddleware()])
    stub.emit_after("process_boot")
    yield stub
    stub.close()


def queued_options(broker: StubBroker, queue: str = "default") -> dict[str, Any]:
    return dramatiq.Message.decode(broker.queues[queue].queue[0]).options


def run_all(broker: StubBroker) -> None:
    worker = Worker(broker, worker_timeout=50)
    worker.start()
    try:
        broker.join("default", fail_fast=True)
        worker.join()
    finally:
        worker.stop()


def record_context(broker: StubBroker, seen: list[dict[str, Any]]) -> dramatiq.Actor[Any, Any]:
    def deliver(payload: dict[str, Any]) -> None:
        seen.append(
            {
                "traceparent": current_traceparent(),
                "invoice_id": current_invoice_id(),
                "recording": trace.get_current_span().is_recording(),
            }
        )

    return dramatiq.actor(broker=broker, actor_name="deliver_invoice")(deliver)


def test_enqueue_inside_a_span_puts_its_traceparent_in_the_message_options(
    broker: StubBroker, finished_spans: InMemorySpanExporter
) -> None:
    actor = record_context(broker, [])
    with tracer().start_as_current_span("caller"):
        expected = current_traceparent()
        actor.send({"invoice_id": "INV-000001"})
    assert expected is not None
    assert queued_options(broker)[TRACEPARENT] == expected


def test_enqueue_outside_any_trace_adds_no_traceparent(broker: StubBroker) -> None:
    actor = record_context(broker, [])
    actor.send({"invoice_id": "INV-000001"})
    assert TRACEPARENT not in queued_options(broker)


def test_a_traceparent_the_message_already_carries_is_kept(
    broker: StubBroker, finished_spans: InMemorySpanExporter
) -> None:
    actor = record_context(broker, [])
    with tracer().start_as_current_span("relay"):
        actor.send_with_options(args=({"invoice_id": "INV-1"},), traceparent=FOREIGN_TRACEPARENT)
    assert queued_options(broker)[TRACEPARENT] == FOREIGN_TRACEPARENT


def test_job_runs_in_a_consumer_span_child_of_the_sender(
    broker: StubBroker, finished_spans: InMemorySpanExporter
) -> None:
    seen: list[dict[str, Any]] = []
    actor = record_context(broker, seen)
    with tracer().start_as_current_span("caller") as caller:
        actor.send({"invoice_id": "INV-000042"})
    run_all(broker)

    (job,) = [s for s in finished_spans.get_finished_spans() if s.name == "deliver_invoice"]
    assert job.kind is SpanKind.CONSUMER
    assert job.parent is not None
    assert job.parent.span_id == caller.get_span_context().span_id
    assert job.context.trace_id == caller.get_span_context().trace_id
    assert job.attributes is not None
    assert job.attributes["messaging.system"] == "dramatiq"
    assert job.attributes["messaging.destination.name"] == "default"
    assert job.attributes["invoice_id"] == "INV-000042"
    ((traceparent, invoice_id, recording),) = [tuple(s.values()) for s in seen]
    assert traceparent.split("-")[1:3] == [
        f"{job.context.trace_id:032x}",
        f"{job.context.span_id:016x}",
    ]
    assert (invoice_id, recording) == ("INV-000042", True)


def test_failed_job_ends_its_span_with_an_error(
    broker: StubBroker, finished_spans: InMemorySpanExporter
) -> None:
    def explode() -> None:
        raise ValueError("boom")

    actor = dramatiq.actor(broker=broker, actor_name="explode")(explode)
    with tracer().start_as_current_span("caller"):
        actor.send()
    worker = Worker(broker, worker_timeout=50)
    worker.start()
    try:
        broker.join("default")
        worker.join()
    finally:
        worker.stop()
    (job,) = [s for s in finished_spans.get_finished_spans() if s.name == "explode"]
    assert not job.status.is_ok
    assert job.status.description == "ValueError"
    # The exception's text (which may quote the job's arguments) is not exported.
    assert "boom" not in repr(job.to_json())


def test_with_tracing_off_the_job_still_continues_the_senders_trace(
    broker: StubBroker,
) -> None:
    seen: list[dict[str, Any]] = []
    actor = record_context(broker, seen)
    actor.send_with_options(args=({"invoice_id": "INV-7"},), traceparent=FOREIGN_TRACEPARENT)
    run_all(broker)
    assert seen == [{"traceparent": FOREIGN_TRACEPARENT, "invoice_id": "INV-7", "recording": False}]
    # Nothing stays attached to the worker thread once the job is done.
    assert current_invoice_id() is None
