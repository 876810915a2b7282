"""The printable view of an invoice: the protobuf message turned into display strings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from suoops.invoice.v1 import invoice_pb2

from services.renderer.formatting import (
    format_date,
    format_money,
    format_quantity,
    format_rate,
    parse_iso_date,
)


@dataclass(frozen=True)
class LineView:
    """One row of the lines table."""

    description: str
    quantity: str
    unit_price: str
    amount: str


@dataclass(frozen=True)
class InvoiceView:
    """Everything the template prints, already formatted; the template only lays it out."""

    business_name: str
    invoice_id: str
    issued_on: str
    due_on: str
    customer_name: str
    customer_email: str
    customer_phone: str
    currency: str
    lines: tuple[LineView, ...]
    # The dates printed under the invoice number, e.g. "Issued 5 March 2025", when known.
    dates: tuple[str, ...]
    # The one line a payer reads first: how much, and by when.
    amount_due: str
    subtotal: str
    tax_rate: str
    tax: str
    total: str
    notes: str


def _issued_on(invoice: invoice_pb2.Invoice) -> str:
    """The creation date in UTC, or "" when the message carries none."""
    if not invoice.HasField("created_at"):
        return ""
    created = invoice.created_at.ToDatetime(tzinfo=dt.UTC)
    return format_date(created.date())


def _due_on(due_date: str) -> str:
    """The due date spelled out; an unparsable value is printed as given."""
    parsed = parse_iso_date(due_date)
    return format_date(parsed) if parsed else due_date


def invoice_view(invoice: invoice_pb2.Invoice) -> InvoiceView:
    """The display strings of one invoice."""
    currency = invoice.currency.strip().upper() or "NGN"
    lines = tuple(
        LineView(
            description=line.description,
            quantity=format_quantity(line.quantity),
            unit_price=format_money(line.unit_price, currency),
            amount=format_money(line.amount, currency),
        )
        for line in invoice.lines
    )
    issued_on = _issued_on(invoice)
    due_on = _due_on(invoice.due_date)
    total = format_money(invoice.amount, currency)
    dates = tuple(
        f"{label} {value}" for label, value in (("Issued", issued_on), ("Due", due_on)) if value
    )
    return InvoiceView(
        business_name=invoice.business.name,
        invoice_id=invoice.invoice_id,
        issued_on=issued_on,
        due_on=due_on,
        customer_name=invoice.customer_name,
        customer_email=invoice.customer_email,
        customer_phone=invoice.customer_phone,
        currency=currency,
        lines=lines,
        dates=dates,
        amount_due=f"{total} due {due_on}" if due_on else f"{total} due on receipt",
        subtotal=format_money(invoice.subtotal, currency),
        tax_rate=format_rate(invoice.tax_rate),
        tax=format_money(invoice.tax, currency),
        total=total,
        notes=invoice.notes,
    )
