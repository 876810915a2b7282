"""A fake InvoiceService (in memory, recording what it receives) for the gateway's tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health
from grpc_status import rpc_status
from suoops.invoice.v1 import invoice_pb2, invoice_pb2_grpc

from services.common.settings import Settings

TOKEN = "test-token-business-a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Failure:
    """A status the fake answers the next call with."""

    code: grpc.StatusCode
    message: str
    violations: Sequence[tuple[str, str]] = ()
    trailers: tuple[tuple[str, str], ...] = ()


@dataclass
class FakeInvoiceService(invoice_pb2_grpc.InvoiceServiceServicer):
    """An in-memory InvoiceService that records what the gateway sent it."""

    invoices: dict[str, invoice_pb2.Invoice] = field(default_factory=dict)
    pdfs: dict[str, invoice_pb2.PdfStatusInfo] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    requests: list[Any] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    deadlines: list[float | None] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def fail_next(
        self,
        code: grpc.StatusCode,
        message: str,
        violations: Sequence[tuple[str, str]] = (),
        trailers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Answer the next call with this status (field violations packed as BadRequest)."""
        self.failures.append(Failure(code, message, violations, trailers))

    def set_pdf(self, invoice_id: str, status: int, url: str = "", error: str = "") -> None:
        """Move an invoice's PDF to another state."""
        pdf = self.pdfs[invoice_id]
        pdf.pdf_status = status
        pdf.pdf_url = url
        pdf.error = error
        self.invoices[invoice_id].pdf_status = status
        self.invoices[invoice_id].pdf_url = url

    async def _enter(self, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        self.requests.append(request)
        received = {key: value for key, value in context.invocation_metadata() or ()}
        self.metadata.append(received)
        self.deadlines.append(context.time_remaining())
        if self.failures:
            failure = self.failures.pop(0)
            await _abort(context, failure)
        if received.get("authorization") != f"Bearer {TOKEN}":
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "unknown token")

    async def _known(self, invoice_id: str, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        if invoice_id not in self.invoices:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"invoice {invoice_id} not found")

    async def CreateInvoice(
        self, request: invoice_pb2.CreateInvoiceRequest, context: Any
    ) -> invoice_pb2.CreateInvoiceResponse:
        """Store the invoice; replay it for a known idempotency key."""
        await self._enter(request, context)
        if request.idempotency_key in self.by_key:
            invoice = self.invoices[self.by_key[request.idempotency_key]]
            return invoice_pb2.CreateInvoiceResponse(invoice=invoice, idempotent_replayed=True)
        invoice = _invoice_from(request, f"INV-{len(self.invoices) + 1:06d}")
        self.invoices[invoice.invoice_id] = invoice
        self.pdfs[invoice.invoice_id] = invoice_pb2.PdfStatusInfo(
            invoice_id=invoice.invoice_id,
            pdf_status=invoice_pb2.PDF_STATUS_PENDING,
            updated_at=invoice.updated_at,
            pdf_generation=1,
        )
        if request.idempotency_key:
            self.by_key[request.idempotency_key] = invoice.invoice_id
        return invoice_pb2.CreateInvoiceResponse(invoice=invoice)

    async def GetInvoice(
        self, request: invoice_pb2.GetInvoiceRequest, context: Any
    ) -> invoice_pb2.GetInvoiceResponse:
        """One stored invoice."""
        await self._enter(request, context)
        await self._known(request.invoice_id, context)
        return invoice_pb2.GetInvoiceResponse(invoice=self.invoices[request.invoice_id])

    async def ListInvoices(
        self, request: invoice_pb2.ListInvoicesRequest, context: Any
    ) -> invoice_pb2.ListInvoicesResponse:
        """Newest first, `page_token` being the offset."""
        await self._enter(request, context)
        newest_first = list(reversed(self.invoices.values()))
        if request.pdf_status:
            newest_first = [i for i in newest_first if i.pdf_status == request.pdf_status]
        start = int(request.page_token or 0)
        end = start + (request.page_size or 50)
        next_token = str(end) if end < len(newest_first) else ""
        return invoice_pb2.ListInvoicesResponse(
            invoices=newest_first[start:end], next_page_token=next_token
        )

    async def GetPdfStatus(
        self, request: invoice_pb2.GetPdfStatusRequest, context: Any
    ) -> invoice_pb2.GetPdfStatusResponse:
        """The stored PDF state."""
        await self._enter(request, context)
        await self._known(request.invoice_id, context)
        return invoice_pb2.GetPdfStatusResponse(pdf=self.pdfs[request.invoice_id])

    async def RegeneratePdf(
        self, request: invoice_pb2.RegeneratePdfRequest, context: Any
    ) -> invoice_pb2.RegeneratePdfResponse:
        """Back to pending with the next generation."""
        await self._enter(request, context)
        await self._known(request.invoice_id, context)
        self.set_pdf(request.invoice_id, invoice_pb2.PDF_STATUS_PENDING)
        pdf = self.pdfs[request.invoice_id]
        pdf.pdf_generation += 1
        return invoice_pb2.RegeneratePdfResponse(pdf=pdf)


async def _abort(context: grpc.aio.ServicerContext[Any, Any], failure: Failure) -> None:
    # Packed the way the invoice service packs it: google.rpc.Status in grpc-status-details-bin.
    details = []
    if failure.violations:
        packed = any_pb2.Any()
        packed.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=name, description=text)
                    for name, text in failure.violations
                ]
            )
        )
        details.append(packed)
    status = rpc_status.to_status(
        status_pb2.Status(
            code=getattr(code_pb2, failure.code.name), message=failure.message, details=details
        )
    )
    await context.abort(
        status.code, status.details, tuple(status.trailing_metadata) + failure.trailers
    )


def _invoice_from(request: invoice_pb2.CreateInvoiceRequest, invoice_id: str) -> Any:
    lines = [
        invoice_pb2.InvoiceLine(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=str(
                (Decimal(line.quantity) * Decimal(line.unit_price)).quantize(Decimal("0.01"))
            ),
        )
        for line in request.lines
    ]
    amount = request.amount if request.HasField("amount") else "0.00"
    invoice = invoice_pb2.Invoice(
        invoice_id=invoice_id,
        customer_name=request.customer_name,
        customer_email=request.customer_email,
        customer_phone=request.customer_phone,
        currency=request.currency or "NGN",
        lines=lines,
        tax_rate=request.tax_rate or "0",
        subtotal=amount,
        tax="0.00",
        amount=amount,
        status=invoice_pb2.INVOICE_STATUS_PENDING,
        pdf_status=invoice_pb2.PDF_STATUS_PENDING,
        due_date=request.due_date,
        notes=request.notes,
        deliver=request.deliver,
        deliveries=[
            invoice_pb2.Delivery(channel=channel, status=invoice_pb2.DELIVERY_STATUS_PENDING)
            for channel in request.deliver
        ],
        pdf_generation=1,
    )
    invoice.created_at.FromSeconds(1_735_732_800)  # 2025-01-01T12:00:00Z
    invoice.updated_at.FromSeconds(1_735_732_800)
    return invoice


@dataclass
class GrpcServer:
    """The fake service's running server."""

    server: grpc.aio.Server
    address: str
    fake: FakeInvoiceService
    health: health.aio.HealthServicer


def gateway_settings(address: str) -> Settings:
    """Settings that point the gateway at `address`."""
    return Settings(invoice_grpc_addr=address, gateway_grpc_timeout_seconds=5.0)
