"""Turns render-job outbox rows into Dramatiq messages that carry everything a renderer needs."""

from __future__ import annotations

import base64

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from suoops.renderer.v1 import renderer_pb2

from services.invoice.adapters.job_publisher import Job
from services.invoice.adapters.orm import lines_from_json
from services.invoice.adapters.outbox_relay import OutboxRow
from services.invoice.adapters.pdf_state_store import INVOICE_COLUMNS
from services.invoice.domain.model import Invoice, PdfStatus
from services.invoice.entrypoints.messages import invoice_to_pb
from services.invoice.service_layer.invoices import RENDER_ACTOR

# The invoices of a batch of render jobs with their businesses, in one plain statement (the
# ORM's three, with their object loading, cost the relay about as much as the rest together).
_INVOICES = (
    f"SELECT inv.*, b.public_id AS business_public_id, b.name AS business_name"
    f" FROM (SELECT {INVOICE_COLUMNS} FROM invoices WHERE id = ANY(%(pks)s)) AS inv"
    " JOIN businesses b ON b.id = inv.business_id"
)


def encode_render_request(invoice: Invoice, business_public_id: str, business_name: str) -> str:
    """The renderer's request as message text: the invoice as saved, and its generation."""
    request = renderer_pb2.RenderInvoiceRequest(
        invoice=invoice_to_pb(
            invoice, business_public_id=business_public_id, business_name=business_name
        ),
        generation=invoice.pdf_generation,
    )
    return base64.b64encode(request.SerializeToString()).decode("ascii")


async def expand_jobs(conn: AsyncConnection, rows: list[OutboxRow]) -> list[Job]:
    """Jobs for the due rows; a render already done or superseded is dropped, not sent.

    A render job's invoice goes without its deliveries: the PDF does not show them.
    """
    jobs = [
        Job(r.queue, r.actor, (r.payload,), r.job_options())
        for r in rows
        if r.actor != RENDER_ACTOR
    ]
    renders = [r for r in rows if r.actor == RENDER_ACTOR]
    if not renders:
        return jobs
    pks = [int(r.payload["invoice_pk"]) for r in renders]
    found: dict[int, tuple[Invoice, str, str]] = {}
    cursor = conn.cursor(row_factory=dict_row)
    for values in await (await cursor.execute(_INVOICES, {"pks": pks})).fetchall():
        public_id, name = values.pop("business_public_id"), values.pop("business_name")
        values["lines"] = lines_from_json(values["lines"])
        invoice = Invoice(**values)
        found[values["id"]] = (invoice, public_id, name)
    for row in renders:
        match = found.get(int(row.payload["invoice_pk"]))
        if match is None:
            continue
        invoice, public_id, name = match
        if invoice.pdf_generation != int(row.payload["generation"]):
            continue
        if invoice.pdf_status in (PdfStatus.READY.value, PdfStatus.FAILED.value):
            continue
        encoded = encode_render_request(invoice, public_id, name)
        jobs.append(Job(row.queue, row.actor, (encoded,), row.job_options()))
    return jobs
