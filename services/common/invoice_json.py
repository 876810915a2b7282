"""The public JSON form of the API's messages (CONTRACT §2): the gateway's response bodies
and the `data` of webhook events are built here, so both always show the same shape."""

from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from suoops.invoice.v1 import invoice_pb2


def _enum_words(enum: Any, prefix: str) -> dict[int, str]:
    """Proto enum numbers as lowercase words, without the UNSPECIFIED zero."""
    return {
        value.number: value.name.removeprefix(prefix).lower()
        for value in enum.DESCRIPTOR.values
        if value.number != 0
    }


INVOICE_STATUS = _enum_words(invoice_pb2.InvoiceStatus, "INVOICE_STATUS_")
PDF_STATUS = _enum_words(invoice_pb2.PdfStatus, "PDF_STATUS_")
CHANNEL = _enum_words(invoice_pb2.DeliveryChannel, "DELIVERY_CHANNEL_")
DELIVERY_STATUS = _enum_words(invoice_pb2.DeliveryStatus, "DELIVERY_STATUS_")


def timestamp_text(message: Any, field: str) -> str | None:
    """A Timestamp field as RFC 3339 UTC with `Z`, or None when unset."""
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    return stamp.ToJsonString()


def invoice_json(invoice: invoice_pb2.Invoice) -> dict[str, Any]:
    """An Invoice as the REST body of CONTRACT §2 (empty optional strings become null)."""
    return {
        "invoice_id": invoice.invoice_id,
        "customer_name": invoice.customer_name,
        "customer_email": invoice.customer_email or None,
        "customer_phone": invoice.customer_phone or None,
        "currency": invoice.currency,
        "lines": [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "amount": line.amount,
            }
            for line in invoice.lines
        ],
        "tax_rate": invoice.tax_rate,
        "subtotal": invoice.subtotal,
        "tax": invoice.tax,
        "amount": invoice.amount,
        "status": INVOICE_STATUS.get(invoice.status),
        "pdf_status": PDF_STATUS.get(invoice.pdf_status),
        "pdf_url": invoice.pdf_url or None,
        "due_date": invoice.due_date or None,
        "notes": invoice.notes or None,
        "deliver": [CHANNEL.get(channel) for channel in invoice.deliver],
        "deliveries": [delivery_json(delivery) for delivery in invoice.deliveries],
        "created_at": timestamp_text(invoice, "created_at"),
        "updated_at": timestamp_text(invoice, "updated_at"),
    }


def delivery_json(delivery: invoice_pb2.Delivery) -> dict[str, Any]:
    """One delivery of the PDF as JSON."""
    return {
        "channel": CHANNEL.get(delivery.channel),
        "status": DELIVERY_STATUS.get(delivery.status),
        "attempts": delivery.attempts,
        "error": delivery.error or None,
        "sent_at": timestamp_text(delivery, "sent_at"),
    }


def pdf_status_json(pdf: invoice_pb2.PdfStatusInfo) -> dict[str, Any]:
    """The polling endpoint's body."""
    return {
        "invoice_id": pdf.invoice_id,
        "pdf_status": PDF_STATUS.get(pdf.pdf_status),
        "pdf_url": pdf.pdf_url or None,
        "attempts": pdf.attempts,
        "error": pdf.error or None,
        "updated_at": timestamp_text(pdf, "updated_at"),
    }
