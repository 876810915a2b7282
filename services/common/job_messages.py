"""What a queued render job's message holds: the request it carries, and the error its last
attempt left (shared by the workers, `suoops inspect` and the dashboard)."""

from __future__ import annotations

import base64
from typing import Any

from dramatiq.middleware import CurrentMessage
from suoops.renderer.v1 import renderer_pb2


def decode_request(encoded: str) -> renderer_pb2.RenderInvoiceRequest:
    """The render request a job carries (base64 of the protobuf message)."""
    return renderer_pb2.RenderInvoiceRequest.FromString(base64.b64decode(encoded))


def last_error_line(traceback_text: str) -> str:
    """The exception at the end of a formatted traceback, its message lines joined."""
    lines = [line for line in traceback_text.strip().splitlines() if line.strip()]
    start = len(lines)
    # The exception block starts after the last frame ("  File ...") and its code lines.
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith("  File "):
            start = index + 1
            while start < len(lines) and lines[start].startswith("    "):
                start += 1
            break
    block = " ".join(line.strip() for line in lines[start:]) or (lines[-1] if lines else "")
    return block[:1000] or "render failed"


def current_attempt() -> int:
    """Which attempt of its message the running job is (1 the first time, 2 on the first retry)."""
    message = CurrentMessage.get_current_message()
    return (message.options.get("retries", 0) if message else 0) + 1


def exhausted_attempt(message_data: dict[str, Any], retry_info: dict[str, Any]) -> tuple[str, int]:
    """The last error and the number of attempts of a job whose retries ran out, as Dramatiq's
    `on_retry_exhausted` actor receives them."""
    error = last_error_line(message_data.get("options", {}).get("traceback", ""))
    return error, int(retry_info.get("retries", 0)) + 1
