"""The one place domain errors become gRPC status codes (with field details for bad input)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.common.grpc_interceptors import Behaviour, MethodWrappingInterceptor
from services.invoice.domain import errors

log = logging.getLogger(__name__)

_CODES: list[tuple[type[errors.DomainError], grpc.StatusCode]] = [
    (errors.InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.NotFound, grpc.StatusCode.NOT_FOUND),
    (errors.AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (errors.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (errors.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (errors.Unavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
]


def status_for(exc: errors.DomainError) -> grpc.Status:
    """The gRPC status (code, message, trailers) that reports a domain error."""
    code = next((c for kind, c in _CODES if isinstance(exc, kind)), grpc.StatusCode.INTERNAL)
    details: list[any_pb2.Any] = []
    trailers: tuple[tuple[str, str], ...] = ()
    if isinstance(exc, errors.InvalidInput):
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f.field, description=f.message)
                for f in exc.fields
            ]
        )
        packed = any_pb2.Any()
        packed.Pack(bad_request)
        details.append(packed)
    if isinstance(exc, errors.ResourceExhausted):
        trailers = (("retry-after", str(exc.retry_after_seconds)),)
    message = str(exc)
    proto = status_pb2.Status(code=getattr(code_pb2, code.name), message=message, details=details)
    status = rpc_status.to_status(proto)
    if trailers:
        return _Status(status.code, status.details, tuple(status.trailing_metadata) + trailers)
    return status


class _Status(grpc.Status):
    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: Any) -> None:
        self.code = code
        self.details = details
        self.trailing_metadata = trailing_metadata


async def _abort(context: grpc.aio.ServicerContext[Any, Any], exc: Exception) -> None:
    if isinstance(exc, errors.DomainError):
        status = status_for(exc)
        await context.abort(status.code, status.details, status.trailing_metadata)
    log.exception("unhandled error in RPC", exc_info=exc)
    await context.abort(grpc.StatusCode.INTERNAL, "internal error")


class ErrorMappingInterceptor(MethodWrappingInterceptor):
    """Turns DomainError into its status code and anything unexpected into INTERNAL."""

    def wrap_unary(self, method: str, inner: Behaviour) -> Behaviour:
        return _wrap_unary(inner)

    def wrap_stream(self, method: str, inner: Behaviour) -> Behaviour:
        return _wrap_stream(inner)


def _wrap_unary(inner: Callable[..., Any]) -> Callable[..., Any]:
    async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            return await inner(request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, exc)

    return unary


def _wrap_stream(inner: Callable[..., Any]) -> Callable[..., Any]:
    async def stream(
        request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        try:
            async for item in inner(request, context):
                yield item
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, exc)

    return stream
