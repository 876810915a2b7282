"""The gateway under a real uvicorn: real HTTP framing, chunked bodies included."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.limits import MAX_BODY_BYTES
from tests.integration.gateway.gateway_fakes import AUTH, FakeInvoiceService

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

BIG = b'{"customer_name": "' + b"x" * (MAX_BODY_BYTES + MAX_BODY_BYTES // 2) + b'"}'


async def test_create_over_http_reaches_the_service_and_answers_201(
    live_gateway: str, fake: FakeInvoiceService
) -> None:
    async with httpx.AsyncClient(base_url=live_gateway) as http:
        response = await http.post(
            "/invoices",
            content=b'{"customer_name": "A", "amount": 999999999999999.99}',
            headers=AUTH,
        )
    assert response.status_code == 201
    assert fake.requests[-1].amount == "999999999999999.99"
    assert response.json()["amount"] == "999999999999999.99"


async def test_declared_body_over_1_mib_is_413_over_http(
    live_gateway: str, fake: FakeInvoiceService
) -> None:
    async with httpx.AsyncClient(base_url=live_gateway) as http:
        response = await http.post("/invoices", content=BIG, headers=AUTH)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert fake.requests == []


async def test_chunked_body_over_1_mib_is_413_over_http(
    live_gateway: str, fake: FakeInvoiceService
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(BIG), 64 * 1024):
            yield BIG[start : start + 64 * 1024]

    async with httpx.AsyncClient(base_url=live_gateway) as http:
        request = http.build_request("POST", "/invoices", content=chunks(), headers=AUTH)
        assert request.headers["transfer-encoding"] == "chunked"
        response = await http.send(request)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert fake.requests == []


async def test_readyz_over_http(live_gateway: str) -> None:
    async with httpx.AsyncClient(base_url=live_gateway) as http:
        assert (await http.get("/readyz")).status_code == 200
