"""Sample invoices for the render benchmark, the renderer's tests and template previews."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from google.protobuf.timestamp_pb2 import Timestamp
from suoops.invoice.v1 import invoice_pb2

CENT = Decimal("0.01")

# Eight lines a Lagos design studio might bill: the "standard one-page invoice".
STANDARD_LINES: tuple[tuple[str, str, str], ...] = (
    ("Brand identity design: logo, palette and type", "1", "350000.00"),
    ("Business cards, 500 units, two-sided print", "2", "18500.00"),
    ("Website landing page design and build", "1", "420000.00"),
    ("Product photography, half-day session", "1", "95000.00"),
    ("Social media templates (set of 12)", "12", "7500.00"),
    ("Copywriting, per page", "6", "15000.00"),
    ("Domain and hosting, 12 months", "1", "48000.00"),
    ("Revisions beyond the agreed two rounds, per hour", "3.5", "12000.00"),
)


def _money(value: Decimal) -> str:
    """Half-up to two places, as the invoice service stores amounts."""
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def sample_invoice(
    *,
    lines: int = 8,
    customer_name: str = "Adéwálé Ọ̀ṣọ́ Enterprises",
    business_name: str = "Ìmọ́lẹ̀ Creative Studio Ltd",
    currency: str = "NGN",
    tax_rate: str = "7.5",
    notes: str = "Payment by bank transfer to GTBank 0123456789 within 14 days.\nThank you!",
) -> invoice_pb2.Invoice:
    """An invoice with `lines` lines, amounts computed as the contract says."""
    invoice = invoice_pb2.Invoice(
        invoice_id="INV-0004217",
        customer_name=customer_name,
        customer_email="accounts@adewale-oso.ng",
        customer_phone="+2348012345678",
        currency=currency,
        tax_rate=tax_rate,
        due_date="2025-04-14",
        notes=notes,
        business=invoice_pb2.BusinessInfo(business_id="biz_demo", name=business_name),
        created_at=Timestamp(seconds=1_741_132_800),  # 5 March 2025, 00:00 UTC
    )
    subtotal = Decimal(0)
    for index in range(lines):
        description, quantity, unit_price = STANDARD_LINES[index % len(STANDARD_LINES)]
        amount = Decimal(quantity) * Decimal(unit_price)
        subtotal += Decimal(_money(amount))
        invoice.lines.append(
            invoice_pb2.InvoiceLine(
                description=description
                if index < len(STANDARD_LINES)
                else f"{description} #{index + 1}",
                quantity=quantity,
                unit_price=unit_price,
                amount=_money(amount),
            )
        )
    tax = Decimal(_money(subtotal * Decimal(tax_rate) / 100))
    invoice.subtotal = _money(subtotal)
    invoice.tax = _money(tax)
    invoice.amount = _money(subtotal + tax)
    return invoice
