"""Reports report-PDF outcomes to the invoice service (its ReportCallbackService)."""

from __future__ import annotations

from suoops.invoice.v1 import reports_pb2 as pb
from suoops.invoice.v1 import reports_pb2_grpc

from services.common.internal_channel import InternalChannel
from services.common.tax_report_job import TaxReportJob
from services.renderer.storage import StoredPdf


class ReportCallbacks:
    """Blocking calls, each with the internal credential and a deadline (from worker threads)."""

    def __init__(self, address: str, internal_token: str) -> None:
        self._internal = InternalChannel(address, internal_token)
        self._stub = reports_pb2_grpc.ReportCallbackServiceStub(self._internal.channel)

    def completed(self, job: TaxReportJob, stored: StoredPdf, render_seconds: float) -> bool:
        reply = self._internal.call(
            self._stub.CompleteReportRender,
            pb.CompleteReportRenderRequest(
                report_id=job.report_id,
                generation=job.generation,
                storage_key=stored.key,
                checksum_sha256=stored.checksum_sha256,
                size_bytes=stored.size_bytes,
                render_seconds=render_seconds,
            ),
        )
        return bool(reply.applied)

    def failed(self, job: TaxReportJob, error: str, attempts: int, final: bool) -> bool:
        reply = self._internal.call(
            self._stub.FailReportRender,
            pb.FailReportRenderRequest(
                report_id=job.report_id,
                generation=job.generation,
                error=error,
                attempts=attempts,
                final=final,
            ),
        )
        return bool(reply.applied)

    def close(self) -> None:
        self._internal.close()
