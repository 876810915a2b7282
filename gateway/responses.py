"""JSON responses (orjson, no model round trip) and the documented error answers."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from gateway.schemas import ErrorResponse

_ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON (`invalid_argument`).",
    401: "Missing, malformed or unknown bearer token (`unauthenticated`).",
    404: "No such invoice for this business (`not_found`).",
    409: "Idempotency-Key reused with another body (`conflict`), or wrong state "
    "(`failed_precondition`).",
    413: "Body over 1 MiB (`payload_too_large`).",
    422: "A field is invalid (`invalid_argument`, with `fields`).",
    429: "The render backlog is full (`resource_exhausted`); see `Retry-After`.",
    503: "The invoice service is unavailable (`unavailable`).",
    500: "Unexpected failure (`internal`).",
}


def json_response(
    data: Any, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """`data` serialised by orjson; routes return this directly, skipping response_model work."""
    return Response(
        orjson.dumps(data), status_code=status_code, headers=headers, media_type="application/json"
    )


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for these error statuses, all with the error schema."""
    return {
        status: {"model": ErrorResponse, "description": _ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }
