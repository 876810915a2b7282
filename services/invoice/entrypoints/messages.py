"""Translation between protobuf messages and the domain: nothing here decides anything."""

from __future__ import annotations

import hashlib
from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp
from suoops.invoice.v1 import invoice_pb2 as pb

from services.invoice.domain import money
from services.invoice.domain.deliveries import Delivery
from services.invoice.domain.model import Invoice
from services.invoice.domain.rules import InvoiceDraft, LineDraft

PDF_STATUS_TO_PB = {
    "pending": pb.PDF_STATUS_PENDING,
    "rendering": pb.PDF_STATUS_RENDERING,
    "ready": pb.PDF_STATUS_READY,
    "failed": pb.PDF_STATUS_FAILED,
}
PDF_STATUS_FROM_PB = {v: k for k, v in PDF_STATUS_TO_PB.items()}
PAYMENT_STATUS_TO_PB = {
    "pending": pb.INVOICE_STATUS_PENDING,
    "paid": pb.INVOICE_STATUS_PAID,
    "void": pb.INVOICE_STATUS_VOID,
}
PAYMENT_STATUS_FROM_PB = {v: k for k, v in PAYMENT_STATUS_TO_PB.items()}
CHANNEL_TO_PB = {"email": pb.DELIVERY_CHANNEL_EMAIL, "whatsapp": pb.DELIVERY_CHANNEL_WHATSAPP}
CHANNEL_FROM_PB = {v: k for k, v in CHANNEL_TO_PB.items()}


def draft_from_request(req: pb.CreateInvoiceRequest) -> InvoiceDraft:
    """The caller's request as a domain draft; optional fields left out stay None."""
    return InvoiceDraft(
        customer_name=req.customer_name,
        customer_email=req.customer_email if req.HasField("customer_email") else None,
        customer_phone=req.customer_phone if req.HasField("customer_phone") else None,
        currency=req.currency if req.HasField("currency") else None,
        lines=[LineDraft(ln.description, ln.quantity, ln.unit_price) for ln in req.lines],
        tax_rate=req.tax_rate if req.HasField("tax_rate") else None,
        amount=req.amount if req.HasField("amount") else None,
        due_date=req.due_date if req.HasField("due_date") else None,
        notes=req.notes if req.HasField("notes") else None,
        # An unknown enum number is passed on as text so the rules name it.
        deliver=[CHANNEL_FROM_PB.get(ch, f"channel {ch}") for ch in req.deliver],
    )


def request_hash(req: pb.CreateInvoiceRequest) -> str:
    """Fingerprint of a create request without its idempotency key."""
    copy = pb.CreateInvoiceRequest()
    copy.CopyFrom(req)
    copy.ClearField("idempotency_key")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def invoice_to_pb(
    invoice: Invoice, *, business_public_id: str, business_name: str, pdf_url: str = ""
) -> pb.Invoice:
    """The invoice as the API shows it."""
    return pb.Invoice(
        invoice_id=invoice.invoice_id,
        customer_name=invoice.customer_name,
        customer_email=invoice.customer_email or "",
        customer_phone=invoice.customer_phone or "",
        currency=invoice.currency,
        lines=[
            pb.InvoiceLine(
                description=line.description,
                quantity=money.format_decimal(line.quantity),
                unit_price=money.format_money(line.unit_price),
                amount=money.format_money(line.amount),
            )
            for line in invoice.lines
        ],
        tax_rate=money.format_decimal(invoice.tax_rate),
        subtotal=money.format_money(invoice.subtotal),
        tax=money.format_money(invoice.tax),
        amount=money.format_money(invoice.amount),
        status=PAYMENT_STATUS_TO_PB[invoice.status],
        pdf_status=PDF_STATUS_TO_PB[invoice.pdf_status],
        pdf_url=pdf_url,
        due_date=invoice.due_date.isoformat() if invoice.due_date else "",
        notes=invoice.notes or "",
        deliver=[CHANNEL_TO_PB[ch] for ch in invoice.deliver],
        deliveries=[delivery_to_pb(delivery) for delivery in invoice.deliveries],
        created_at=timestamp(invoice.created_at),
        updated_at=timestamp(invoice.updated_at),
        pdf_generation=invoice.pdf_generation,
        business=pb.BusinessInfo(business_id=business_public_id, name=business_name),
    )


DELIVERY_STATUS_TO_PB = {
    "pending": pb.DELIVERY_STATUS_PENDING,
    "sent": pb.DELIVERY_STATUS_SENT,
    "failed": pb.DELIVERY_STATUS_FAILED,
}


def delivery_to_pb(delivery: Delivery) -> pb.Delivery:
    """One delivery of the PDF as the API shows it."""
    return pb.Delivery(
        channel=CHANNEL_TO_PB[delivery.channel],
        status=DELIVERY_STATUS_TO_PB[delivery.status],
        attempts=delivery.attempts,
        error=delivery.error or "",
        sent_at=timestamp(delivery.sent_at),
    )


def pdf_status_to_pb(invoice: Invoice, pdf_url: str = "") -> pb.PdfStatusInfo:
    """The PDF side of an invoice."""
    return pb.PdfStatusInfo(
        invoice_id=invoice.invoice_id,
        pdf_status=PDF_STATUS_TO_PB[invoice.pdf_status],
        pdf_url=pdf_url,
        attempts=invoice.pdf_attempts,
        error=invoice.pdf_error or "",
        updated_at=timestamp(invoice.pdf_updated_at or invoice.updated_at),
        pdf_generation=invoice.pdf_generation,
    )
