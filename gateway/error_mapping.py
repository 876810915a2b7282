"""The one place failures become JSON error responses: gRPC statuses, validation, the router."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

import grpc
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from google.rpc import error_details_pb2, status_pb2
from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from gateway.errors import (
    ApiError,
    Conflict,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    MalformedJson,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    api_error_response,
    from_validation_errors,
)

log = logging.getLogger(__name__)

DETAILS_TRAILER = "grpc-status-details-bin"
DEFAULT_RETRY_AFTER_SECONDS = 5


def _rpc_status_detail(err: grpc.RpcError) -> status_pb2.Status | None:
    # Read the trailer ourselves: grpc_status.from_call raises when the code or message
    # disagree, and a bad detail must never turn a 422 into a 500.
    for key, value in _trailers(err):
        if key == DETAILS_TRAILER and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except Exception:
                log.warning("undecodable %s trailer", DETAILS_TRAILER)
    return None


def _trailers(err: grpc.RpcError) -> Iterable[tuple[str, str | bytes]]:
    trailing = getattr(err, "trailing_metadata", None)
    metadata = trailing() if callable(trailing) else None
    return tuple(metadata) if metadata else ()


def _field_violations(err: grpc.RpcError) -> list[tuple[str, str]]:
    status = _rpc_status_detail(err)
    fields: list[tuple[str, str]] = []
    if status is None:
        return fields
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            fields.extend((v.field, v.description) for v in bad_request.field_violations)
    return fields


def _retry_after(err: grpc.RpcError) -> str:
    for key, value in _trailers(err):
        if key == "retry-after":
            text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
            if text.strip().isdigit():
                return text.strip()
    return str(DEFAULT_RETRY_AFTER_SECONDS)


def from_rpc_error(err: grpc.RpcError) -> ApiError:
    """The gateway error for a failed gRPC call (the REST codes of CONTRACT §2)."""
    code = err.code() if callable(getattr(err, "code", None)) else None
    details = err.details() if callable(getattr(err, "details", None)) else None
    message = details or "request failed"
    if code is grpc.StatusCode.INVALID_ARGUMENT or code is grpc.StatusCode.OUT_OF_RANGE:
        return InvalidArgument(message, fields=_field_violations(err))
    if code is grpc.StatusCode.UNAUTHENTICATED:
        return Unauthenticated(message)
    if code is grpc.StatusCode.PERMISSION_DENIED:
        return PermissionDenied(message)
    if code is grpc.StatusCode.NOT_FOUND:
        return NotFound(message)
    if code is grpc.StatusCode.ALREADY_EXISTS or code is grpc.StatusCode.ABORTED:
        return Conflict(message)
    if code is grpc.StatusCode.FAILED_PRECONDITION:
        return FailedPrecondition(message)
    if code is grpc.StatusCode.RESOURCE_EXHAUSTED:
        return ResourceExhausted(message, headers={"Retry-After": _retry_after(err)})
    # Transport messages name internal addresses: log them, tell the caller only the kind.
    if code is grpc.StatusCode.UNAVAILABLE:
        log.warning("invoice service unavailable: %s", details)
        return Unavailable("the invoice service is unavailable, try again")
    if code is grpc.StatusCode.DEADLINE_EXCEEDED:
        log.warning("invoice service deadline exceeded: %s", details)
        return Unavailable("the invoice service did not answer in time, try again")
    log.error("invoice service failed with %s: %s", code, details)
    return Internal("internal error")


def _from_http_exception(exc: HTTPException) -> ApiError:
    if exc.status_code == 404:
        return NotFound("no such route")
    if exc.status_code == 405:
        return MethodNotAllowed("method not allowed", headers=dict(exc.headers or {}))
    if exc.status_code == 413:
        return PayloadTooLarge("the request body is too large")
    error = ApiError(str(exc.detail), headers=dict(exc.headers or {}))
    error.status = exc.status_code
    error.code = "invalid_argument" if 400 <= exc.status_code < 500 else "internal"
    return error


def to_api_error(exc: Exception) -> ApiError:
    """Any exception as the gateway error to answer with."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, grpc.RpcError):
        return from_rpc_error(exc)
    if isinstance(exc, RequestValidationError | ValidationError):
        return from_validation_errors(exc.errors())
    if isinstance(exc, HTTPException):
        return _from_http_exception(exc)
    if isinstance(exc, ClientDisconnect):
        return MalformedJson("the client disconnected before sending the whole body")
    log.error("unhandled error in the gateway", exc_info=exc)
    return Internal("internal error")


def error_response(exc: Exception) -> Response:
    """The JSON error response for any exception."""
    return api_error_response(to_api_error(exc))


async def handle_exception(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for what is raised outside a route (404, 405)."""
    return error_response(exc)


class GatewayRoute(APIRoute):
    """An APIRoute whose every failure, expected or not, answers with the JSON error body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler so no exception escapes as a bare 500 or a traceback."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return error_response(exc)

        return guarded
