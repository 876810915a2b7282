"""JSON to proto and back: exact decimals in, decimal strings and lowercase words out."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, NoReturn

from pydantic import ValidationError
from suoops.invoice.v1 import invoice_pb2

from gateway.errors import INVALID_FIELDS, InvalidArgument, MalformedJson, from_validation_errors
from gateway.schemas import CreateInvoiceRequest
from services.common.invoice_json import (
    CHANNEL,
    DELIVERY_STATUS,
    INVOICE_STATUS,
    PDF_STATUS,
    delivery_json,
    invoice_json,
    pdf_status_json,
    timestamp_text,
)

__all__ = [
    "CHANNEL",
    "DELIVERY_STATUS",
    "INVOICE_STATUS",
    "PDF_STATUS",
    "create_request",
    "delivery_json",
    "invoice_json",
    "invoice_list_json",
    "list_request",
    "optional_bool",
    "parse_json_object",
    "pdf_status_json",
    "timestamp_text",
]


def _reject_constant(name: str) -> NoReturn:
    # Python's json accepts NaN and Infinity; JSON does not, and money cannot be either.
    raise ValueError(f"{name} is not JSON")


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The request body as a dict, every non-integer number a Decimal (never a float)."""
    try:
        payload = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and UnicodeDecodeError.
        raise MalformedJson(f"the body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise InvalidArgument("the body must be a JSON object", fields=[("body", "not an object")])
    return payload


_OPTIONAL_FIELDS = (
    "customer_email",
    "customer_phone",
    "currency",
    "tax_rate",
    "amount",
    "due_date",
    "notes",
)
_TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def optional_bool(text: str | None, field: str) -> bool | None:
    """A boolean query parameter (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`), or None."""
    if text is None:
        return None
    word = text.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise InvalidArgument(INVALID_FIELDS, fields=[(field, "must be true or false")])


def create_request(
    payload: dict[str, Any], *, async_pdf: bool | None, idempotency_key: str | None
) -> invoice_pb2.CreateInvoiceRequest:
    """The CreateInvoice request for a `POST /invoices` body; `async_pdf` in the body wins."""
    try:
        body = CreateInvoiceRequest.model_validate(payload)
    except ValidationError as exc:
        raise from_validation_errors(exc.errors()) from None
    request = invoice_pb2.CreateInvoiceRequest(
        customer_name=body.customer_name, idempotency_key=idempotency_key or ""
    )
    # Optional proto fields are set only when given, so the service can tell unset from "".
    for name in _OPTIONAL_FIELDS:
        value = getattr(body, name)
        if value is not None:
            setattr(request, name, value)
    if body.lines:
        request.lines.extend(
            invoice_pb2.LineInput(
                description=line.description, quantity=line.quantity, unit_price=line.unit_price
            )
            for line in body.lines
        )
    if body.deliver:
        request.deliver.extend(
            invoice_pb2.DeliveryChannel.Value(f"DELIVERY_CHANNEL_{word.upper()}")
            for word in body.deliver
        )
    request.async_pdf = _first_given(body.async_pdf, async_pdf, default=True)
    return request


def _first_given(*values: bool | None, default: bool) -> bool:
    return next((value for value in values if value is not None), default)


def list_request(
    *, page_size: int, page_token: str, status: str | None, pdf_status: str | None
) -> invoice_pb2.ListInvoicesRequest:
    """The ListInvoices request for `GET /invoices` (query already checked by FastAPI)."""
    return invoice_pb2.ListInvoicesRequest(
        page_size=page_size,
        page_token=page_token,
        status=invoice_pb2.InvoiceStatus.Value(f"INVOICE_STATUS_{status.upper()}")
        if status
        else invoice_pb2.INVOICE_STATUS_UNSPECIFIED,
        pdf_status=invoice_pb2.PdfStatus.Value(f"PDF_STATUS_{pdf_status.upper()}")
        if pdf_status
        else invoice_pb2.PDF_STATUS_UNSPECIFIED,
    )


def invoice_list_json(reply: invoice_pb2.ListInvoicesResponse) -> dict[str, Any]:
    """A page of invoices; `next_page_token` stays "" on the last page, as the contract says."""
    return {
        "invoices": [invoice_json(invoice) for invoice in reply.invoices],
        "next_page_token": reply.next_page_token,
    }
