"""The tax report routes against a fake ReportService on a real gRPC server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import httpx
import pytest
from suoops.invoice.v1 import invoice_pb2, reports_pb2_grpc
from suoops.invoice.v1 import reports_pb2 as pb

from gateway.app import create_app
from tests.integration.gateway.gateway_fakes import gateway_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
AUTH = {"Authorization": "Bearer suo_test"}


class FakeReportService(reports_pb2_grpc.ReportServiceServicer):
    """October is built; every other month is not; the calls it received are kept."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def _report(self, month: str, pdf_url: str) -> pb.TaxReport:
        report = pb.TaxReport(
            month=month,
            invoice_count=3,
            totals=[pb.CurrencyTotal(currency="NGN", subtotal="10.00", tax="0.75", total="10.75")],
            pdf_status=invoice_pb2.PDF_STATUS_READY if pdf_url else invoice_pb2.PDF_STATUS_PENDING,
            pdf_url=pdf_url,
        )
        report.built_at.FromJsonString("2026-12-01T02:00:00Z")
        return report

    async def GetTaxReport(self, request: pb.GetTaxReportRequest, context: Any) -> Any:
        self.calls.append(
            ("get", request.month, dict(context.invocation_metadata())["authorization"])
        )
        if request.month != "2026-10":
            await context.abort(grpc.StatusCode.NOT_FOUND, "no tax report for this month yet")
        return pb.GetTaxReportResponse(report=self._report(request.month, "https://s3/r.pdf"))

    async def BuildTaxReport(self, request: pb.BuildTaxReportRequest, context: Any) -> Any:
        self.calls.append(("build", request.month, ""))
        return pb.BuildTaxReportResponse(report=self._report(request.month, ""))


@pytest.fixture
async def served() -> AsyncIterator[tuple[httpx.AsyncClient, FakeReportService]]:
    server = grpc.aio.server()
    fake = FakeReportService()
    reports_pb2_grpc.add_ReportServiceServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    app = create_app(gateway_settings(f"127.0.0.1:{port}"))
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as http,
        ):
            yield http, fake
    finally:
        await server.stop(None)


async def test_a_built_report_is_returned_with_the_contract_fields_and_the_callers_token(
    served: tuple[httpx.AsyncClient, FakeReportService],
) -> None:
    http, fake = served
    response = await http.get("/reports/tax", params={"month": "2026-10"}, headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {
        "month": "2026-10",
        "invoice_count": 3,
        "totals": [{"currency": "NGN", "subtotal": "10.00", "tax": "0.75", "total": "10.75"}],
        "pdf_url": "https://s3/r.pdf",
        "pdf_status": "ready",
        "built_at": "2026-12-01T02:00:00Z",
    }
    assert fake.calls == [("get", "2026-10", "Bearer suo_test")]


async def test_a_report_not_yet_built_is_a_404_not_found(
    served: tuple[httpx.AsyncClient, FakeReportService],
) -> None:
    http, _ = served
    response = await http.get("/reports/tax", params={"month": "2026-09"}, headers=AUTH)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_building_answers_202_with_the_report_and_a_null_pdf_url_until_rendered(
    served: tuple[httpx.AsyncClient, FakeReportService],
) -> None:
    http, fake = served
    response = await http.post("/reports/tax", params={"month": "2026-11"}, headers=AUTH)
    assert response.status_code == 202
    assert (response.json()["pdf_url"], response.json()["pdf_status"]) == (None, "pending")
    assert fake.calls == [("build", "2026-11", "")]


@pytest.mark.parametrize("params", [{}, {"month": "Oct-2026"}, {"month": "2026-1"}])
async def test_a_missing_or_malformed_month_is_a_422_naming_month_before_any_call(
    served: tuple[httpx.AsyncClient, FakeReportService], params: dict[str, str]
) -> None:
    http, fake = served
    for method in ("GET", "POST"):
        response = await http.request(method, "/reports/tax", params=params, headers=AUTH)
        assert response.status_code == 422
        body = response.json()["error"]
        assert (body["code"], [f["field"] for f in body["fields"]]) == (
            "invalid_argument",
            ["month"],
        )
    assert fake.calls == []


async def test_reports_need_a_bearer_token(
    served: tuple[httpx.AsyncClient, FakeReportService],
) -> None:
    http, fake = served
    response = await http.get("/reports/tax", params={"month": "2026-10"})
    assert response.status_code == 401
    assert fake.calls == []


async def test_openapi_documents_both_report_routes_with_month_202_and_404(
    served: tuple[httpx.AsyncClient, FakeReportService],
) -> None:
    http, _ = served
    document = (await http.get("/openapi.json")).json()
    operations = document["paths"]["/reports/tax"]
    assert set(operations) == {"get", "post"}
    for operation in operations.values():
        assert [p["name"] for p in operation["parameters"]] == ["month"]
        assert operation["parameters"][0]["required"] is True
    assert {"200", "404", "422", "401"} <= set(operations["get"]["responses"])
    assert "202" in operations["post"]["responses"]
    assert operations["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TaxReport"
    }
    assert "HTTPValidationError" not in document["components"]["schemas"]
