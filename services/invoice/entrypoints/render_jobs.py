"""Turns render-job outbox rows into Dramatiq messages that carry everything a renderer needs."""

from __future__ import annotations

import base64

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from suoops.renderer.v1 import renderer_pb2

from services.invoice.adapters.job_publisher import Job
from services.invoice.adapters.orm import businesses, invoices
from services.invoice.adapters.outbox_relay import OutboxRow
from services.invoice.domain.model import Business, Invoice, PdfStatus
from services.invoice.entrypoints.messages import invoice_to_pb
from services.invoice.service_layer.invoices import RENDER_ACTOR


def encode_render_request(invoice: Invoice, business: Business) -> str:
    """The renderer's request as message text: the invoice as saved, and its generation."""
    request = renderer_pb2.RenderInvoiceRequest(
        invoice=invoice_to_pb(
            invoice, business_public_id=business.public_id, business_name=business.name
        ),
        generation=invoice.pdf_generation,
    )
    return base64.b64encode(request.SerializeToString()).decode("ascii")


async def expand_jobs(conn: AsyncConnection, rows: list[OutboxRow]) -> list[Job]:
    """Jobs for the due rows; a render already done or superseded is dropped, not sent."""
    jobs = [
        Job(r.queue, r.actor, (r.payload,), r.job_options())
        for r in rows
        if r.actor != RENDER_ACTOR
    ]
    renders = [r for r in rows if r.actor == RENDER_ACTOR]
    if not renders:
        return jobs
    pks = [int(r.payload["invoice_pk"]) for r in renders]
    # A session joined to the relay's transaction, to read the invoices as domain objects.
    session = AsyncSession(bind=conn, expire_on_commit=False)
    try:
        found = {
            inv.id: inv
            for inv in await session.scalars(select(Invoice).where(invoices.c.id.in_(pks)))
        }
        business_ids = {i.business_id for i in found.values()}
        owners = {
            b.id: b
            for b in await session.scalars(
                select(Business).where(businesses.c.id.in_(business_ids))
            )
        }
    finally:
        await session.close()
    for row in renders:
        invoice = found.get(int(row.payload["invoice_pk"]))
        if invoice is None or invoice.pdf_generation != int(row.payload["generation"]):
            continue
        if invoice.pdf_status in (PdfStatus.READY.value, PdfStatus.FAILED.value):
            continue
        encoded = encode_render_request(invoice, owners[invoice.business_id])
        jobs.append(Job(row.queue, row.actor, (encoded,), row.job_options()))
    return jobs
