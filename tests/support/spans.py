"""A fixture: an in-memory span exporter behind the process's tracer provider, tracing on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common import tracing

_EXPORTER = InMemorySpanExporter()


def _install_provider() -> None:
    """The global provider can be set once per process: the first test to ask sets it."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider(resource=Resource.create({SERVICE_NAME: "unit"}))
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)


@pytest.fixture
def finished_spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tracing switched on for the test; the exporter holds the spans it finished."""
    _install_provider()
    monkeypatch.setattr(tracing, "_enabled", True)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()
