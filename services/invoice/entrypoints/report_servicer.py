"""suoops.invoice.v1.ReportService (business tokens) and ReportCallbackService (internal)."""

from __future__ import annotations

from suoops.invoice.v1 import invoice_pb2, reports_pb2_grpc
from suoops.invoice.v1 import reports_pb2 as pb

from services.common.s3 import presigned_get_url
from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.model import PdfStatus
from services.invoice.domain.tax_report import TaxReport, totals_to_json
from services.invoice.entrypoints.callback_servicer import require_internal
from services.invoice.entrypoints.invoice_servicer import Context, bearer_token
from services.invoice.entrypoints.messages import timestamp
from services.invoice.service_layer import reports

_PDF_STATUS = {
    PdfStatus.PENDING.value: invoice_pb2.PDF_STATUS_PENDING,
    PdfStatus.RENDERING.value: invoice_pb2.PDF_STATUS_RENDERING,
    PdfStatus.READY.value: invoice_pb2.PDF_STATUS_READY,
    PdfStatus.FAILED.value: invoice_pb2.PDF_STATUS_FAILED,
}


def report_to_pb(report: TaxReport, pdf_url: str) -> pb.TaxReport:
    """A report as the API returns it."""
    return pb.TaxReport(
        month=report.month,
        invoice_count=report.invoice_count,
        totals=[pb.CurrencyTotal(**item) for item in totals_to_json(report.totals)],
        pdf_status=_PDF_STATUS.get(report.pdf_status, invoice_pb2.PDF_STATUS_UNSPECIFIED),
        pdf_url=pdf_url,
        pdf_generation=report.pdf_generation,
        built_at=timestamp(report.built_at),
    )


class ReportServicer(reports_pb2_grpc.ReportServiceServicer):
    """A business's monthly tax reports: read, or build now."""

    def __init__(self, app: InvoiceApp) -> None:
        self._app = app

    async def _business(self, context: Context) -> int:
        principal = await self._app.authenticator.authenticate(bearer_token(context))
        return principal.require_business()

    def _to_pb(self, report: TaxReport) -> pb.TaxReport:
        url = ""
        if report.pdf_status == PdfStatus.READY.value and report.pdf_storage_key:
            settings = self._app.settings
            url = presigned_get_url(
                self._app.s3,
                settings.s3_bucket,
                report.pdf_storage_key,
                settings.pdf_url_expiry_seconds,
            )
        return report_to_pb(report, url)

    async def GetTaxReport(
        self, request: pb.GetTaxReportRequest, context: Context
    ) -> pb.GetTaxReportResponse:
        business_id = await self._business(context)
        report = await reports.get_tax_report(
            self._app.autocommit_unit_of_work(), business_id, request.month
        )
        return pb.GetTaxReportResponse(report=self._to_pb(report))

    async def BuildTaxReport(
        self, request: pb.BuildTaxReportRequest, context: Context
    ) -> pb.BuildTaxReportResponse:
        business_id = await self._business(context)
        report = await reports.build_tax_report(
            self._app.unit_of_work(), business_id, request.month
        )
        self._app.jobs_committed()
        return pb.BuildTaxReportResponse(report=self._to_pb(report))


class ReportCallbackServicer(reports_pb2_grpc.ReportCallbackServiceServicer):
    """Report PDF outcomes: applied once per generation, duplicates and stale ones ignored."""

    def __init__(self, app: InvoiceApp) -> None:
        self._app = app

    async def CompleteReportRender(
        self, request: pb.CompleteReportRenderRequest, context: Context
    ) -> pb.CompleteReportRenderResponse:
        require_internal(context, self._app.settings.internal_token)
        applied = await reports.complete_report_render(
            self._app.unit_of_work(), request.report_id, request.generation, request.storage_key
        )
        return pb.CompleteReportRenderResponse(applied=applied)

    async def FailReportRender(
        self, request: pb.FailReportRenderRequest, context: Context
    ) -> pb.FailReportRenderResponse:
        require_internal(context, self._app.settings.internal_token)
        applied = await reports.fail_report_render(
            self._app.unit_of_work(),
            request.report_id,
            request.generation,
            request.error,
            request.final,
        )
        return pb.FailReportRenderResponse(applied=applied)
