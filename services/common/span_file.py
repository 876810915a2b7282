"""A span exporter writing one JSON line per finished span to a file several processes share."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.resources import SERVICE_NAME
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


def span_to_dict(span: ReadableSpan) -> dict[str, Any]:
    """The fields a reader of the spans file needs, ids as W3C hex."""
    context = span.get_span_context()
    assert context is not None
    parent = span.parent
    return {
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_span_id": f"{parent.span_id:016x}" if parent is not None else None,
        "name": span.name,
        "kind": span.kind.name.lower(),
        "service": span.resource.attributes.get(SERVICE_NAME),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name.lower(),
        "attributes": dict(span.attributes or {}),
    }


class JsonLinesSpanExporter(SpanExporter):
    """Appends each span as one line with one write(2), so processes sharing the file never
    interleave their lines (O_APPEND places each write at the end atomically)."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.Lock()
        self._closed = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write the spans; a closed exporter drops them."""
        lines = [json.dumps(span_to_dict(span), default=str) + "\n" for span in spans]
        with self._lock:
            if self._closed:
                return SpanExportResult.FAILURE
            for line in lines:
                os.write(self._fd, line.encode("utf-8"))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._fd)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
