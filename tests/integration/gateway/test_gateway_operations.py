"""Probes, metrics and the OpenAPI document."""

from __future__ import annotations

import httpx
import pytest
from grpc_health.v1 import health_pb2

from gateway.app import create_app
from gateway.client import INVOICE_SERVICE_NAME
from tests.integration.gateway.gateway_fakes import AUTH, GrpcServer, gateway_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

CONTRACT_ROUTES = {
    ("post", "/invoices"),
    ("post", "/invoices/"),
    ("get", "/invoices"),
    ("get", "/invoices/{invoice_id}"),
    ("get", "/invoices/{invoice_id}/pdf_status"),
    ("get", "/invoices/{invoice_id}/pdf"),
    ("post", "/invoices/{invoice_id}/pdf/regenerate"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
}
PUBLIC_ROUTES = {("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics")}


async def test_healthz_is_200_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_200_while_the_invoice_service_serves(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200


async def test_readyz_is_503_once_the_invoice_service_is_down(
    invoice_server: GrpcServer, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/readyz")).status_code == 200
    await invoice_server.server.stop(None)
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


async def test_readyz_is_503_while_the_invoice_service_reports_not_serving(
    invoice_server: GrpcServer, client: httpx.AsyncClient
) -> None:
    await invoice_server.health.set(
        INVOICE_SERVICE_NAME, health_pb2.HealthCheckResponse.NOT_SERVING
    )
    assert (await client.get("/readyz")).status_code == 503


async def test_readyz_is_503_when_nothing_listens(unused_address: str) -> None:

    app = create_app(gateway_settings(unused_address))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://g") as http,
    ):
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).status_code == 503


async def test_metrics_count_requests_by_route_template_and_time_them(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/invoices/INV-1", headers=AUTH)
    await client.get("/invoices/INV-2", headers=AUTH)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'gateway_http_requests_total{method="GET",route="/invoices/{invoice_id}",status="404"} 2.0'
        in text
    )
    assert (
        'gateway_http_request_duration_seconds_count{method="GET",route="/invoices/{invoice_id}"}'
        " 2.0" in text
    )


async def test_metrics_put_unknown_paths_under_one_label(client: httpx.AsyncClient) -> None:
    await client.get("/random/a")
    await client.get("/random/b")
    text = (await client.get("/metrics")).text
    assert 'route="unmatched",status="404"} 2.0' in text
    assert "/random/a" not in text


async def test_openapi_documents_every_route_the_bearer_scheme_and_the_error_schema(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert documented >= CONTRACT_ROUTES
    components = document["components"]
    assert components["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert document["security"] == [{"bearerAuth": []}]
    for method, path in PUBLIC_ROUTES:
        assert document["paths"][path][method]["security"] == []
    assert {"ErrorResponse", "CreateInvoiceRequest", "LineInput", "Invoice", "PdfStatus"} <= set(
        components["schemas"]
    )
    create = document["paths"]["/invoices"]["post"]
    body_schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/CreateInvoiceRequest"}
    assert create["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    assert "HTTPValidationError" not in components["schemas"]


async def test_docs_page_is_served_without_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/openapi.json" in response.text
