"""suoops.invoice.v1.InvoiceService: translates messages to handler calls and back."""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc

from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.model import Invoice
from services.invoice.entrypoints import messages
from services.invoice.service_layer import invoices
from services.invoice.service_layer.auth import Principal

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def bearer_token(context: Context) -> str | None:
    """The token from `authorization: Bearer <token>` metadata."""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class InvoiceServicer(invoice_pb2_grpc.InvoiceServiceServicer):
    """The public invoice API."""

    def __init__(self, app: InvoiceApp) -> None:
        self._app = app

    async def _principal(self, context: Context) -> Principal:
        return await self._app.authenticator.authenticate(bearer_token(context))

    def _to_pb(self, invoice: Invoice, principal: Principal) -> pb.Invoice:
        return messages.invoice_to_pb(
            invoice,
            business_public_id=principal.business_public_id or "",
            business_name=principal.business_name or "",
        )

    async def CreateInvoice(
        self, request: pb.CreateInvoiceRequest, context: Context
    ) -> pb.CreateInvoiceResponse:
        principal = await self._principal(context)
        created = await invoices.create_invoice(
            self._app.autocommit_unit_of_work(),
            principal.require_business(),
            messages.draft_from_request(request),
            idempotency_key=request.idempotency_key,
            request_hash=messages.request_hash(request),
        )
        return pb.CreateInvoiceResponse(
            invoice=self._to_pb(created.invoice, principal),
            idempotent_replayed=created.replayed,
        )

    async def GetInvoice(
        self, request: pb.GetInvoiceRequest, context: Context
    ) -> pb.GetInvoiceResponse:
        principal = await self._principal(context)
        invoice = await invoices.get_invoice(
            self._app.autocommit_unit_of_work(), principal.require_business(), request.invoice_id
        )
        return pb.GetInvoiceResponse(invoice=self._to_pb(invoice, principal))

    async def ListInvoices(
        self, request: pb.ListInvoicesRequest, context: Context
    ) -> pb.ListInvoicesResponse:
        principal = await self._principal(context)
        page = await invoices.list_invoices(
            self._app.autocommit_unit_of_work(),
            principal.require_business(),
            page_size=request.page_size,
            page_token=request.page_token,
            status=messages.PAYMENT_STATUS_FROM_PB.get(request.status),
            pdf_status=messages.PDF_STATUS_FROM_PB.get(request.pdf_status),
        )
        return pb.ListInvoicesResponse(
            invoices=[self._to_pb(inv, principal) for inv in page.invoices],
            next_page_token=page.next_page_token,
        )

    async def GetPdfStatus(
        self, request: pb.GetPdfStatusRequest, context: Context
    ) -> pb.GetPdfStatusResponse:
        principal = await self._principal(context)
        invoice = await invoices.get_invoice(
            self._app.autocommit_unit_of_work(), principal.require_business(), request.invoice_id
        )
        return pb.GetPdfStatusResponse(pdf=messages.pdf_status_to_pb(invoice))
