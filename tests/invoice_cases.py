"""Every rule of CONTRACT §2's request table as a bad request and the field it must name.

Used by the gRPC tests and the REST tests alike, so both transports answer for the same rules.
"""

from __future__ import annotations

from typing import Any

from suoops.invoice.v1 import invoice_pb2 as pb

GOOD: dict[str, Any] = {"customer_name": "Ada Obi", "amount": "50000"}
LINE: dict[str, Any] = {
    "description": "Ankara fabric, 6 yards",
    "quantity": "2",
    "unit_price": "15000",
}


def with_(**changes: Any) -> dict[str, Any]:
    body = dict(GOOD)
    for key, value in changes.items():
        if value is _DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return body


_DROP = object()

# (case id, request body as JSON would carry it, the field the error must name)
BAD_REQUESTS: list[tuple[str, dict[str, Any], str]] = [
    ("name-missing", with_(customer_name=_DROP), "customer_name"),
    ("name-blank", with_(customer_name="   "), "customer_name"),
    ("name-too-long", with_(customer_name="a" * 201), "customer_name"),
    ("email-invalid", with_(customer_email="not-an-email"), "customer_email"),
    ("phone-not-e164", with_(customer_phone="08012345678"), "customer_phone"),
    ("currency-unknown", with_(currency="NAR"), "currency"),
    ("too-many-lines", with_(amount=_DROP, lines=[LINE] * 201), "lines"),
    (
        "description-empty",
        with_(amount=_DROP, lines=[{**LINE, "description": ""}]),
        "lines[0].description",
    ),
    (
        "description-too-long",
        with_(amount=_DROP, lines=[LINE, {**LINE, "description": "d" * 501}]),
        "lines[1].description",
    ),
    ("quantity-zero", with_(amount=_DROP, lines=[{**LINE, "quantity": "0"}]), "lines[0].quantity"),
    (
        "quantity-negative",
        with_(amount=_DROP, lines=[{**LINE, "quantity": "-1"}]),
        "lines[0].quantity",
    ),
    (
        "quantity-4-decimals",
        with_(amount=_DROP, lines=[LINE, LINE, {**LINE, "quantity": "1.0005"}]),
        "lines[2].quantity",
    ),
    (
        "quantity-not-number",
        with_(amount=_DROP, lines=[{**LINE, "quantity": "two"}]),
        "lines[0].quantity",
    ),
    (
        "price-negative",
        with_(amount=_DROP, lines=[{**LINE, "unit_price": "-0.01"}]),
        "lines[0].unit_price",
    ),
    (
        "price-3-decimals",
        with_(amount=_DROP, lines=[{**LINE, "unit_price": "1.001"}]),
        "lines[0].unit_price",
    ),
    ("tax-over-100", with_(amount=_DROP, lines=[LINE], tax_rate="100.5"), "tax_rate"),
    ("tax-negative", with_(amount=_DROP, lines=[LINE], tax_rate="-1"), "tax_rate"),
    ("amount-missing-without-lines", with_(amount=_DROP), "amount"),
    ("amount-3-decimals", with_(amount="10.001"), "amount"),
    ("amount-negative", with_(amount="-5"), "amount"),
    ("amount-not-number", with_(amount="lots"), "amount"),
    ("amount-disagrees-with-lines", with_(amount="1.00", lines=[LINE]), "amount"),
    ("due-date-malformed", with_(due_date="28/11/2026"), "due_date"),
    ("due-date-impossible", with_(due_date="2026-02-30"), "due_date"),
    ("notes-too-long", with_(notes="n" * 2001), "notes"),
    ("deliver-unknown", with_(deliver=["sms"]), "deliver[0]"),
    ("deliver-email-without-address", with_(deliver=["email"]), "deliver[0]"),
    ("deliver-whatsapp-without-phone", with_(deliver=["whatsapp"]), "deliver[0]"),
]

_CHANNELS = {"email": pb.DELIVERY_CHANNEL_EMAIL, "whatsapp": pb.DELIVERY_CHANNEL_WHATSAPP}


def to_request(body: dict[str, Any]) -> pb.CreateInvoiceRequest:
    """The gRPC request a JSON body stands for (unknown channels become an unknown enum number)."""
    req = pb.CreateInvoiceRequest(customer_name=body.get("customer_name", ""))
    for key in (
        "customer_email",
        "customer_phone",
        "currency",
        "tax_rate",
        "amount",
        "due_date",
        "notes",
    ):
        if key in body:
            setattr(req, key, str(body[key]))
    for line in body.get("lines", []):
        req.lines.add(
            description=line["description"],
            quantity=str(line["quantity"]),
            unit_price=str(line["unit_price"]),
        )
    for channel in body.get("deliver", []):
        req.deliver.append(_CHANNELS.get(channel, 99))
    return req
