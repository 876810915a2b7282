"""gRPC status and gateway failures become the contract's JSON errors."""

from __future__ import annotations

import json
from collections.abc import Sequence

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from starlette.exceptions import HTTPException

from gateway import error_mapping, errors

pytestmark = pytest.mark.unit


class FakeRpcError(grpc.RpcError):
    """What a grpc.aio call raises, without a network."""

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str = "",
        trailers: Sequence[tuple[str, str | bytes]] = (),
    ) -> None:
        super().__init__()
        self._code = code
        self._details = details
        self._trailers = tuple(trailers)

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def trailing_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        return self._trailers


def bad_request_trailer(message: str, *violations: tuple[str, str]) -> tuple[str, bytes]:
    """The grpc-status-details-bin trailer carrying a BadRequest."""
    packed = any_pb2.Any()
    packed.Pack(
        error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(field=f, description=d)
                for f, d in violations
            ]
        )
    )
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=message, details=[packed])
    return ("grpc-status-details-bin", status.SerializeToString())


@pytest.mark.parametrize(
    ("code", "status", "error_code"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, 422, "invalid_argument"),
        (grpc.StatusCode.UNAUTHENTICATED, 401, "unauthenticated"),
        (grpc.StatusCode.PERMISSION_DENIED, 403, "permission_denied"),
        (grpc.StatusCode.NOT_FOUND, 404, "not_found"),
        (grpc.StatusCode.ALREADY_EXISTS, 409, "conflict"),
        (grpc.StatusCode.ABORTED, 409, "conflict"),
        (grpc.StatusCode.FAILED_PRECONDITION, 409, "failed_precondition"),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429, "resource_exhausted"),
        (grpc.StatusCode.UNAVAILABLE, 503, "unavailable"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 503, "unavailable"),
        (grpc.StatusCode.INTERNAL, 500, "internal"),
        (grpc.StatusCode.UNKNOWN, 500, "internal"),
        (grpc.StatusCode.UNIMPLEMENTED, 500, "internal"),
    ],
)
def test_grpc_codes_map_to_rest_statuses(
    code: grpc.StatusCode, status: int, error_code: str
) -> None:
    error = error_mapping.from_rpc_error(FakeRpcError(code, "detail"))
    assert (error.status, error.code) == (status, error_code)


@pytest.mark.parametrize(
    "code",
    [grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED],
)
def test_server_side_details_never_reach_the_caller(code: grpc.StatusCode) -> None:
    error = error_mapping.from_rpc_error(
        FakeRpcError(code, "ipv4:10.1.2.3:50051 Connection refused")
    )
    assert "10.1.2.3" not in error.message


def test_client_errors_keep_the_services_message() -> None:
    error = error_mapping.from_rpc_error(
        FakeRpcError(grpc.StatusCode.NOT_FOUND, "invoice INV-9 not found")
    )
    assert error.message == "invoice INV-9 not found"


def test_bad_request_details_become_fields() -> None:
    trailer = bad_request_trailer(
        "invalid", ("lines[2].quantity", "must be > 0"), ("currency", "unknown")
    )
    error = error_mapping.from_rpc_error(
        FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "invalid", [trailer])
    )
    assert error.fields == [("lines[2].quantity", "must be > 0"), ("currency", "unknown")]


def test_details_whose_message_disagrees_are_still_read() -> None:
    trailer = bad_request_trailer("other text", ("amount", "must equal subtotal + tax"))
    error = error_mapping.from_rpc_error(
        FakeRpcError(grpc.StatusCode.INVALID_ARGUMENT, "invalid", [trailer])
    )
    assert error.fields == [("amount", "must equal subtotal + tax")]


def test_garbage_details_trailer_still_gives_422() -> None:
    error = error_mapping.from_rpc_error(
        FakeRpcError(
            grpc.StatusCode.INVALID_ARGUMENT, "bad", [("grpc-status-details-bin", b"\xff\x00")]
        )
    )
    assert (error.status, error.fields) == (422, [])


def test_retry_after_comes_from_the_trailer_or_a_default() -> None:
    hinted = error_mapping.from_rpc_error(
        FakeRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, "full", [("retry-after", "12")])
    )
    assert hinted.headers == {"Retry-After": "12"}
    unhinted = error_mapping.from_rpc_error(
        FakeRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, "full")
    )
    assert unhinted.headers == {"Retry-After": str(error_mapping.DEFAULT_RETRY_AFTER_SECONDS)}


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("lines", 2, "quantity"), "lines[2].quantity"),
        (("deliver", 0), "deliver[0]"),
        (("customer_name",), "customer_name"),
        ((), ""),
    ],
)
def test_field_path_uses_dots_and_indexes(loc: tuple[int | str, ...], path: str) -> None:
    assert errors.field_path(loc) == path


def test_query_validation_errors_drop_the_location_prefix() -> None:
    error = errors.from_validation_errors(
        [{"type": "greater_than_equal", "loc": ("query", "page_size"), "msg": "too small"}]
    )
    assert error.fields == [("page_size", "too small")]


def test_error_body_has_fields_only_when_there_are_some() -> None:
    assert json.loads(errors.error_body("not_found", "gone")) == {
        "error": {"code": "not_found", "message": "gone"}
    }
    assert json.loads(errors.error_body("invalid_argument", "bad", [("a", "b")])) == {
        "error": {"code": "invalid_argument", "message": "bad", "fields": [
            {"field": "a", "message": "b"}
        ]}
    }  # fmt: skip


def test_unexpected_exceptions_are_a_generic_500() -> None:
    response = error_mapping.error_response(RuntimeError("password=hunter2 in a traceback"))
    assert response.status_code == 500
    assert json.loads(bytes(response.body)) == {
        "error": {"code": "internal", "message": "internal error"}
    }


@pytest.mark.parametrize(
    ("status", "code"),
    [(404, "not_found"), (405, "method_not_allowed"), (413, "payload_too_large")],
)
def test_router_http_exceptions_use_the_error_shape(status: int, code: str) -> None:
    error = error_mapping.to_api_error(HTTPException(status))
    assert (error.status, error.code) == (status, code)


def test_unauthenticated_asks_for_a_bearer_token() -> None:
    response = errors.api_error_response(errors.Unauthenticated("no token"))
    assert response.headers["www-authenticate"] == "Bearer"
