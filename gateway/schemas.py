"""Pydantic models of the REST bodies: shape checks for requests, the OpenAPI document for all."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

# A JSON number is expanded to fixed-point text; this bounds that text so `1e999999999`
# cannot make the gateway build a billion-character string. It is a transport guard, not
# a money rule: any amount the invoice service accepts is far shorter.
MAX_NUMBER_CHARS = 64

DeliveryChannelWord = Literal["email", "whatsapp"]
InvoiceStatusWord = Literal["pending", "paid", "void"]
PdfStatusWord = Literal["pending", "rendering", "ready", "failed"]
DeliveryStatusWord = Literal["pending", "sent", "failed"]


def _encodable(value: str) -> str:
    # JSON may carry lone surrogates ("\ud800"), which protobuf cannot encode as UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("unicode", "must be valid Unicode text") from None
    return value


def decimal_text(value: Any) -> str:
    """A JSON number or decimal string as the plain decimal string sent to gRPC."""
    if isinstance(value, str):
        return _encodable(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, Decimal) and value.is_finite():
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or abs(exponent) > MAX_NUMBER_CHARS:
            raise PydanticCustomError("number_too_long", "number has too many digits")
        text = format(value, "f")
    else:
        raise PydanticCustomError("decimal_type", "must be a number or a decimal string")
    if len(text) > MAX_NUMBER_CHARS:
        raise PydanticCustomError("number_too_long", "number has too many digits")
    return text


Text = Annotated[str, AfterValidator(_encodable)]
DecimalText = Annotated[
    str,
    PlainValidator(decimal_text),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}, {"type": "number"}],
            "description": "An exact decimal: a JSON number or a decimal string, never rounded.",
            "examples": ["50000.00"],
        }
    ),
]


class _Request(BaseModel):
    # strict: a number is not a string, 1 is not true; extra="forbid": typos are reported.
    model_config = ConfigDict(extra="forbid", strict=True)


class LineInput(_Request):
    """One billed line as the caller gives it."""

    description: Text = Field(examples=["Consulting, March"])
    quantity: DecimalText
    unit_price: DecimalText


class CreateInvoiceRequest(_Request):
    """The body of `POST /invoices`; the invoice service applies the business rules."""

    customer_name: Text = Field(examples=["Adéwálé Ògúnlànà"])
    customer_email: Text | None = None
    customer_phone: Text | None = Field(default=None, examples=["+2348012345678"])
    currency: Text | None = Field(default=None, examples=["NGN"])
    lines: list[LineInput] | None = None
    tax_rate: DecimalText | None = None
    amount: DecimalText | None = None
    due_date: Text | None = Field(default=None, examples=["2025-01-31"])
    notes: Text | None = None
    deliver: list[DeliveryChannelWord] | None = None
    async_pdf: bool | None = None


class InvoiceLine(BaseModel):
    """One billed line with its computed amount."""

    description: str
    quantity: str
    unit_price: str
    amount: str = Field(examples=["50000.00"])


class Delivery(BaseModel):
    """One delivery of the invoice's PDF to the customer."""

    channel: DeliveryChannelWord
    status: DeliveryStatusWord
    attempts: int
    error: str | None
    sent_at: str | None = Field(description="RFC 3339, UTC")


class Invoice(BaseModel):
    """An invoice as the API returns it; money is decimal strings."""

    invoice_id: str = Field(examples=["INV-000123"])
    customer_name: str
    customer_email: str | None
    customer_phone: str | None
    currency: str = Field(examples=["NGN"])
    lines: list[InvoiceLine]
    tax_rate: str = Field(examples=["7.50"])
    subtotal: str = Field(examples=["50000.00"])
    tax: str = Field(examples=["3750.00"])
    amount: str = Field(examples=["53750.00"])
    status: InvoiceStatusWord
    pdf_status: PdfStatusWord
    pdf_url: str | None
    due_date: str | None
    notes: str | None
    deliver: list[DeliveryChannelWord]
    deliveries: list[Delivery]
    created_at: str = Field(description="RFC 3339, UTC", examples=["2025-01-01T12:00:00Z"])
    updated_at: str = Field(description="RFC 3339, UTC", examples=["2025-01-01T12:00:00Z"])


WebhookEventWord = Literal[
    "invoice.pdf_ready", "invoice.pdf_failed", "invoice.delivered", "invoice.delivery_failed"
]


class CreateWebhookRequest(BaseModel):
    """An endpoint to receive the business's invoice events."""

    url: str = Field(
        description="http or https URL with a host", examples=["https://shop.example/hooks"]
    )
    events: list[WebhookEventWord]


class Webhook(BaseModel):
    """A registered endpoint (its secret is shown only when it is created)."""

    webhook_id: str = Field(examples=["wh_5f1c0d2a9b8e7f6a5b4c3d2e"])
    url: str
    events: list[WebhookEventWord]
    created_at: str = Field(description="RFC 3339, UTC")


class CreatedWebhook(Webhook):
    """A new endpoint with its signing secret: store it now, it is never shown again."""

    secret: str


class WebhookList(BaseModel):
    webhooks: list[Webhook]


class InvoiceList(BaseModel):
    """One page of invoices, newest first."""

    invoices: list[Invoice]
    next_page_token: str = Field(description="Empty on the last page.")


class PdfStatus(BaseModel):
    """The PDF side of an invoice: what the polling endpoint returns."""

    invoice_id: str
    pdf_status: PdfStatusWord
    pdf_url: str | None
    attempts: int
    error: str | None
    updated_at: str | None = Field(description="RFC 3339, UTC")


class FieldViolation(BaseModel):
    """One invalid field, named by its path (`lines[2].quantity`)."""

    field: str
    message: str


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str = Field(examples=["invalid_argument"])
    message: str
    fields: list[FieldViolation] | None = Field(default=None, description="Only for validation.")


class ErrorResponse(BaseModel):
    """Every error body."""

    error: ErrorDetail


class Health(BaseModel):
    """The answer of /healthz and /readyz."""

    status: str = Field(examples=["ok"])


class CurrencyTotal(BaseModel):
    """What the business invoiced in one currency during the month."""

    currency: str = Field(examples=["NGN"])
    subtotal: str = Field(examples=["50000.00"])
    tax: str = Field(examples=["3750.00"])
    total: str = Field(examples=["53750.00"])


class TaxReport(BaseModel):
    """A business's invoices created in one UTC month, summed per currency."""

    month: str = Field(examples=["2026-10"])
    invoice_count: int
    totals: list[CurrencyTotal] = Field(description="One entry per currency, in currency order.")
    pdf_url: str | None = Field(description="A link to the report PDF once rendered; expires.")
    pdf_status: PdfStatusWord = Field(description="`pending` until the PDF is rendered.")
    built_at: str = Field(description="RFC 3339, UTC", examples=["2026-12-01T02:00:00Z"])
