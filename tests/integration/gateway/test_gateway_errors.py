"""Every failure answers `{"error": {"code", "message", "fields"?}}` with the contract's status."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from gateway.limits import MAX_BODY_BYTES
from tests.integration.gateway.gateway_fakes import AUTH, FakeInvoiceService

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

VALID = b'{"customer_name": "A", "amount": 1}'
BIG = b'{"customer_name": "' + b"x" * (MAX_BODY_BYTES + MAX_BODY_BYTES // 2) + b'"}'


def error_of(response: httpx.Response) -> dict[str, object]:
    """The error object of an error body, checking the envelope on the way."""
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a b", "token"]
)
async def test_missing_or_malformed_bearer_token_is_401_before_any_grpc_call(
    client: httpx.AsyncClient, fake: FakeInvoiceService, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.post("/invoices", content=VALID, headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    assert response.headers["www-authenticate"] == "Bearer"
    assert fake.requests == []


@pytest.mark.parametrize(
    "path", ["/invoices", "/invoices/INV-1", "/invoices/INV-1/pdf_status", "/invoices/INV-1/pdf"]
)
async def test_every_invoice_route_needs_a_token(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401


async def test_token_the_service_rejects_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/invoices", headers={"Authorization": "Bearer someone-else"})
    assert response.status_code == 401
    assert error_of(response) == {"code": "unauthenticated", "message": "unknown token"}


async def test_invalid_argument_with_bad_request_details_is_422_naming_the_fields(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    fake.fail_next(
        grpc.StatusCode.INVALID_ARGUMENT,
        "invalid invoice",
        violations=[
            ("lines[2].quantity", "must be greater than 0"),
            ("customer_email", "not an email address"),
        ],
    )
    response = await client.post("/invoices", content=VALID, headers=AUTH)
    assert response.status_code == 422
    assert error_of(response) == {
        "code": "invalid_argument",
        "message": "invalid invoice",
        "fields": [
            {"field": "lines[2].quantity", "message": "must be greater than 0"},
            {"field": "customer_email", "message": "not an email address"},
        ],
    }


@pytest.mark.parametrize("body", [b"{", b"", b"{'a': 1}", b'{"amount": NaN}', b"\xff\xfe\x00"])
async def test_malformed_json_is_400(
    client: httpx.AsyncClient, fake: FakeInvoiceService, body: bytes
) -> None:
    response = await client.post("/invoices", content=body, headers=AUTH)
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_argument"
    assert fake.requests == []


async def test_json_that_is_not_an_object_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/invoices", content=b"[1, 2]", headers=AUTH)
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_argument"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"customer_name": "A", "amount": 1, "amout": 2}', "amout"),
        (b'{"customer_name": 5, "amount": 1}', "customer_name"),
        (b'{"customer_name": "A", "lines": {"description": "x"}}', "lines"),
        (
            b'{"customer_name": "A", "lines": [{"description": "x", "quantity": 1,'
            b' "unit_price": 1}, {"description": "y", "quantity": 1, "unit_price": 1},'
            b' {"description": "z", "quantity": true, "unit_price": 1}]}',
            "lines[2].quantity",
        ),
        (
            b'{"customer_name": "A", "lines": [{"description": "x", "unit_price": 1}]}',
            "lines[0].quantity",
        ),
        (b'{"customer_name": "A", "amount": [1]}', "amount"),
        (b'{"customer_name": "A", "amount": 1, "deliver": ["sms"]}', "deliver[0]"),
        (b'{"customer_name": "A", "amount": 1, "async_pdf": "yes"}', "async_pdf"),
        (b'{"customer_name": "\\ud800", "amount": 1}', "customer_name"),
        (b'{"customer_name": "A", "amount": 1e999999999}', "amount"),
        (b'{"amount": 1}', "customer_name"),
    ],
)
async def test_wrong_body_shape_is_422_naming_the_field_without_calling_the_service(
    client: httpx.AsyncClient, fake: FakeInvoiceService, body: bytes, field: str
) -> None:
    response = await client.post("/invoices", content=body, headers=AUTH)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_argument"
    assert field in [f["field"] for f in error["fields"]]  # type: ignore[attr-defined]
    assert fake.requests == []


async def test_body_over_1_mib_with_content_length_is_413(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    response = await client.post("/invoices", content=BIG, headers=AUTH)
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert fake.requests == []


async def test_chunked_body_over_1_mib_is_413(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(BIG), 64 * 1024):
            yield BIG[start : start + 64 * 1024]

    response = await client.post("/invoices", content=chunks(), headers=AUTH)
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert fake.requests == []


async def test_chunked_body_under_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield VALID[:10]
        yield VALID[10:]

    response = await client.post("/invoices", content=chunks(), headers=AUTH)
    assert response.status_code == 201


async def test_unknown_invoice_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/invoices/INV-999999", headers=AUTH)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    ("code", "status", "error_code"),
    [
        (grpc.StatusCode.ALREADY_EXISTS, 409, "conflict"),
        (grpc.StatusCode.FAILED_PRECONDITION, 409, "failed_precondition"),
        (grpc.StatusCode.PERMISSION_DENIED, 403, "permission_denied"),
        (grpc.StatusCode.UNAVAILABLE, 503, "unavailable"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 503, "unavailable"),
        (grpc.StatusCode.INTERNAL, 500, "internal"),
        (grpc.StatusCode.UNKNOWN, 500, "internal"),
        (grpc.StatusCode.DATA_LOSS, 500, "internal"),
    ],
)
async def test_grpc_status_maps_to_the_rest_code(
    client: httpx.AsyncClient,
    fake: FakeInvoiceService,
    code: grpc.StatusCode,
    status: int,
    error_code: str,
) -> None:
    fake.fail_next(code, "secret detail: postgres at 10.0.0.5 said no")
    response = await client.post("/invoices", content=VALID, headers=AUTH)
    assert response.status_code == status
    error = error_of(response)
    assert error["code"] == error_code
    if status >= 500:
        assert "10.0.0.5" not in str(error["message"])


async def test_resource_exhausted_is_429_with_the_services_retry_after(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    fake.fail_next(
        grpc.StatusCode.RESOURCE_EXHAUSTED, "render backlog full", trailers=(("retry-after", "30"),)
    )
    response = await client.post("/invoices", content=VALID, headers=AUTH)
    assert response.status_code == 429
    assert error_of(response)["code"] == "resource_exhausted"
    assert response.headers["retry-after"] == "30"


async def test_resource_exhausted_without_a_hint_still_sends_retry_after(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    fake.fail_next(grpc.StatusCode.RESOURCE_EXHAUSTED, "render backlog full")
    response = await client.post("/invoices", content=VALID, headers=AUTH)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


async def test_unknown_route_is_404_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.get("/nothing/here", headers=AUTH)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


async def test_wrong_method_is_405_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.delete("/invoices/INV-1", headers=AUTH)
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


async def test_service_down_is_503(invoice_server: object, client: httpx.AsyncClient) -> None:
    await invoice_server.server.stop(None)  # type: ignore[attr-defined]
    response = await client.get("/invoices", headers=AUTH)
    assert response.status_code == 503
    assert error_of(response)["code"] == "unavailable"


async def test_a_missing_token_is_401_even_when_the_query_is_also_wrong(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/invoices", params={"page_size": "0"})
    assert response.status_code == 401


async def test_async_pdf_query_that_is_not_a_boolean_is_422(
    client: httpx.AsyncClient, fake: FakeInvoiceService
) -> None:
    response = await client.post("/invoices?async_pdf=maybe", content=VALID, headers=AUTH)
    assert response.status_code == 422
    assert error_of(response)["fields"] == [
        {"field": "async_pdf", "message": "must be true or false"}
    ]
    assert fake.requests == []
