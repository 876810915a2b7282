"""The tax report routes of CONTRACT §2: `GET` and `POST /reports/tax?month=YYYY-MM`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response
from suoops.invoice.v1 import reports_pb2

from gateway.auth import BearerMetadata
from gateway.client import InvoiceClient
from gateway.error_mapping import GatewayRoute
from gateway.responses import error_responses, json_response
from gateway.schemas import ErrorResponse, TaxReport
from gateway.translate import PDF_STATUS, timestamp_text

router = APIRouter(
    route_class=GatewayRoute,
    tags=["reports"],
    responses=error_responses(401, 422, 503, 500),
)

Month = Annotated[
    str,
    Query(
        pattern=r"^\d{4}-\d{2}$",
        description="The UTC month, `YYYY-MM`.",
        examples=["2026-10"],
    ),
]
_NOT_BUILT: dict[int | str, dict[str, Any]] = {
    404: {
        "model": ErrorResponse,
        "description": "The report for this month has not been built yet (`not_found`).",
    }
}


def tax_report_json(report: reports_pb2.TaxReport) -> dict[str, Any]:
    """A TaxReport as the REST body (an empty pdf_url becomes null)."""
    return {
        "month": report.month,
        "invoice_count": report.invoice_count,
        "totals": [
            {"currency": t.currency, "subtotal": t.subtotal, "tax": t.tax, "total": t.total}
            for t in report.totals
        ],
        "pdf_url": report.pdf_url or None,
        "pdf_status": PDF_STATUS.get(report.pdf_status),
        "built_at": timestamp_text(report, "built_at"),
    }


def _client(request: Request) -> InvoiceClient:
    client: InvoiceClient = request.app.state.invoice_client
    return client


@router.get("/reports/tax", response_model=TaxReport, responses=_NOT_BUILT)
async def get_tax_report(request: Request, metadata: BearerMetadata, month: Month) -> Response:
    """The caller's tax summary of invoices created in the month, as last built.

    The scheduler builds last month's report on the 1st at 02:00 UTC; `POST` builds one now.
    """
    client = _client(request)
    reply = await client.reports.GetTaxReport(
        reports_pb2.GetTaxReportRequest(month=month), timeout=client.timeout, metadata=metadata
    )
    return json_response(tax_report_json(reply.report))


@router.post("/reports/tax", status_code=202, response_model=TaxReport)
async def build_tax_report(request: Request, metadata: BearerMetadata, month: Month) -> Response:
    """Build (or rebuild) the month's report now; its PDF follows (`pdf_url` null until then)."""
    client = _client(request)
    reply = await client.reports.BuildTaxReport(
        reports_pb2.BuildTaxReportRequest(month=month), timeout=client.timeout, metadata=metadata
    )
    return json_response(tax_report_json(reply.report), 202)
