"""suoops.invoice.v1.InvoiceService: translates messages to handler calls and back."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any, TypeAlias

import grpc
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc
from suoops.renderer.v1 import renderer_pb2

from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.model import Invoice, RenderedPdf
from services.invoice.entrypoints import messages
from services.invoice.service_layer import events, invoices, renders
from services.invoice.service_layer.auth import Principal

log = logging.getLogger(__name__)
Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]
# How long past the synchronous render's deadline its queued twin is held back.
SYNC_HOLD_MARGIN = timedelta(seconds=5)


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
            pdf_url=self._app.pdf_url(invoice),
        )

    async def CreateInvoice(
        self, request: pb.CreateInvoiceRequest, context: Context
    ) -> pb.CreateInvoiceResponse:
        principal = await self._principal(context)
        settings = self._app.settings
        sync = request.HasField("async_pdf") and not request.async_pdf
        hold = timedelta(seconds=settings.sync_render_timeout_seconds) + SYNC_HOLD_MARGIN
        created = await invoices.create_invoice(
            self._app.autocommit_unit_of_work(),
            self._app.creator,
            principal.require_business(),
            messages.draft_from_request(request),
            idempotency_key=request.idempotency_key,
            request_hash=messages.request_hash(request),
            render_delay=hold if sync else timedelta(0),
            render_backlog=self._app.render_backlog,
            render_backlog_cap=settings.render_backlog_cap,
        )
        invoice = created.invoice
        if not created.replayed:
            if sync:
                invoice = await self._render_now(invoice, principal)
            else:
                self._app.jobs_committed()
        return pb.CreateInvoiceResponse(
            invoice=self._to_pb(invoice, principal), idempotent_replayed=created.replayed
        )

    async def _render_now(self, invoice: Invoice, principal: Principal) -> Invoice:
        """Render before answering; on any failure the held-back job is released instead."""
        if self._app.renderer is not None:
            request = renderer_pb2.RenderInvoiceRequest(
                invoice=self._to_pb(invoice, principal), generation=invoice.pdf_generation
            )
            try:
                rendered = await self._app.renderer.render(
                    request, self._app.settings.sync_render_timeout_seconds
                )
                _, invoice = await renders.complete_render(
                    self._app.pdf_states,
                    invoice.invoice_id,
                    RenderedPdf(
                        invoice.pdf_generation, rendered.storage_key, rendered.checksum_sha256
                    ),
                    held=invoice,
                )
                self._app.jobs_committed()  # its deliveries and webhook events go out now
                return invoice
            except grpc.aio.AioRpcError as exc:
                log.warning(
                    "synchronous render failed; queued instead",
                    extra={"invoice_id": invoice.invoice_id, "code": exc.code().name},
                )
        await renders.release_render_job(self._app.autocommit_unit_of_work(), invoice.invoice_id)
        self._app.jobs_committed()
        return invoice

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
        return pb.GetPdfStatusResponse(
            pdf=messages.pdf_status_to_pb(invoice, self._app.pdf_url(invoice))
        )

    async def RegeneratePdf(
        self, request: pb.RegeneratePdfRequest, context: Context
    ) -> pb.RegeneratePdfResponse:
        principal = await self._principal(context)
        invoice = await renders.regenerate_pdf(
            self._app.unit_of_work(), principal.require_business(), request.invoice_id
        )
        self._app.jobs_committed()
        return pb.RegeneratePdfResponse(pdf=messages.pdf_status_to_pb(invoice))

    async def WatchInvoice(
        self, request: pb.WatchInvoiceRequest, context: Context
    ) -> AsyncIterator[pb.WatchInvoiceResponse]:
        principal = await self._principal(context)
        watched = events.watch_invoice(
            self._app.autocommit_unit_of_work(),
            self._app.pdf_states,
            self._app.events,
            principal.require_business(),
            request.invoice_id,
        )
        async for invoice in watched:
            yield pb.WatchInvoiceResponse(
                pdf=messages.pdf_status_to_pb(invoice, self._app.pdf_url(invoice)),
                deliveries=[messages.delivery_to_pb(d) for d in invoice.deliveries],
            )
