"""The gateway's errors: one hierarchy, and the JSON body every one of them answers with."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from starlette.responses import Response

INVALID_FIELDS = "the request has invalid fields"
# Locations FastAPI puts before a parameter's name; the caller only needs the name.
_PARAM_SOURCES = frozenset({"query", "header", "path", "body", "cookie"})


class ApiError(Exception):
    """An error the gateway answers with `{"error": {"code", "message", "fields"?}}`."""

    status = 500
    code = "internal"

    def __init__(
        self,
        message: str,
        *,
        fields: Sequence[tuple[str, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.headers = headers


class InvalidArgument(ApiError):
    """The request is well-formed JSON but a field is wrong."""

    status = 422
    code = "invalid_argument"


class MalformedJson(ApiError):
    """The body does not parse as JSON."""

    status = 400
    code = "invalid_argument"


class Unauthenticated(ApiError):
    """No usable bearer token."""

    status = 401
    code = "unauthenticated"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class PermissionDenied(ApiError):
    """The token is valid but may not do this."""

    status = 403
    code = "permission_denied"


class NotFound(ApiError):
    """No such resource (or not the caller's)."""

    status = 404
    code = "not_found"


class MethodNotAllowed(ApiError):
    """The path exists, the method does not."""

    status = 405
    code = "method_not_allowed"


class Conflict(ApiError):
    """The request clashes with an earlier one (an idempotency key reused)."""

    status = 409
    code = "conflict"


class FailedPrecondition(ApiError):
    """The resource is not in a state that allows this (the PDF is not ready)."""

    status = 409
    code = "failed_precondition"


class PayloadTooLarge(ApiError):
    """The body is over the size limit."""

    status = 413
    code = "payload_too_large"


class ResourceExhausted(ApiError):
    """The service is over a capacity cap; the caller should slow down."""

    status = 429
    code = "resource_exhausted"


class Unavailable(ApiError):
    """The invoice service cannot be reached or did not answer in time."""

    status = 503
    code = "unavailable"


class Internal(ApiError):
    """Anything unexpected; the detail goes to the log, never to the caller."""

    status = 500
    code = "internal"


def error_body(code: str, message: str, fields: Iterable[tuple[str, str]] = ()) -> bytes:
    """The JSON bytes of an error body."""
    error: dict[str, Any] = {"code": code, "message": message}
    violations = [{"field": field, "message": text} for field, text in fields]
    if violations:
        error["fields"] = violations
    return orjson.dumps({"error": error})


def api_error_response(error: ApiError) -> Response:
    """The HTTP response for a gateway error."""
    return Response(
        error_body(error.code, error.message, error.fields),
        status_code=error.status,
        headers=error.headers,
        media_type="application/json",
    )


def field_path(loc: Sequence[int | str]) -> str:
    """`("lines", 2, "quantity")` as `lines[2].quantity`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _violation_message(error: Any) -> str:
    kind = error.get("type")
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown field"
    return str(error.get("msg", "invalid value"))


def from_validation_errors(errors: Iterable[Any]) -> InvalidArgument:
    """Pydantic or FastAPI validation errors as one 422 naming every field."""
    fields = []
    for error in errors:
        loc = list(error.get("loc", ()))
        if loc and loc[0] in _PARAM_SOURCES:
            loc = loc[1:]
        fields.append((field_path(loc) or "body", _violation_message(error)))
    return InvalidArgument(INVALID_FIELDS, fields=fields)
