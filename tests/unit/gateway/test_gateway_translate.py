"""JSON <-> proto translation: exact decimals in, contract-shaped JSON out."""

from __future__ import annotations

from decimal import Decimal

import pytest
from suoops.invoice.v1 import invoice_pb2

from gateway import translate
from gateway.errors import InvalidArgument, MalformedJson
from gateway.schemas import decimal_text

pytestmark = pytest.mark.unit


def fields_of(error: InvalidArgument) -> list[str]:
    """The field paths an error names."""
    return [name for name, _ in error.fields]


def test_json_numbers_are_parsed_as_decimals_never_floats() -> None:
    payload = translate.parse_json_object(b'{"amount": 999999999999999.99, "n": 3}')
    assert payload["amount"] == Decimal("999999999999999.99")
    assert isinstance(payload["amount"], Decimal)
    assert payload["n"] == 3


@pytest.mark.parametrize(
    "body", [b"", b"{", b"nul", b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b"\xff"]
)
def test_what_is_not_json_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedJson):
        translate.parse_json_object(body)


def test_deeply_nested_json_is_malformed_not_a_crash() -> None:
    with pytest.raises(MalformedJson):
        translate.parse_json_object(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"1", b"null"])
def test_json_other_than_an_object_is_invalid(body: bytes) -> None:
    with pytest.raises(InvalidArgument):
        translate.parse_json_object(body)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("999999999999999.99"), "999999999999999.99"),
        (Decimal("50000.00"), "50000.00"),
        (Decimal("1E+2"), "100"),
        (Decimal("1.5e-2"), "0.015"),
        (50000, "50000"),
        ("12.345", "12.345"),
        ("not a number", "not a number"),
    ],
)
def test_decimal_text_is_plain_and_exact(value: object, text: str) -> None:
    assert decimal_text(value) == text


@pytest.mark.parametrize(
    "value", [True, False, None, [1], {"a": 1}, 1.5, Decimal("1e999999999"), 10**70]
)
def test_decimal_text_refuses_what_is_not_a_decimal_or_too_long(value: object) -> None:
    with pytest.raises(ValueError):
        decimal_text(value)


def test_create_request_maps_every_field() -> None:
    payload = translate.parse_json_object(
        b'{"customer_name": "\xc3\x80d\xc3\xa9", "customer_email": "a@b.co",'
        b' "customer_phone": "+2348012345678", "currency": "USD", "tax_rate": 7.5,'
        b' "amount": "107.50", "due_date": "2025-02-01", "notes": "n",'
        b' "deliver": ["email", "whatsapp"], "async_pdf": false,'
        b' "lines": [{"description": "d", "quantity": 1.000, "unit_price": 100}]}'
    )
    request = translate.create_request(payload, async_pdf=True, idempotency_key="k1")
    assert request.customer_name == "Àdé"
    assert request.customer_email == "a@b.co"
    assert request.customer_phone == "+2348012345678"
    assert request.currency == "USD"
    assert request.tax_rate == "7.5"
    assert request.amount == "107.50"
    assert request.due_date == "2025-02-01"
    assert request.notes == "n"
    assert list(request.deliver) == [
        invoice_pb2.DELIVERY_CHANNEL_EMAIL,
        invoice_pb2.DELIVERY_CHANNEL_WHATSAPP,
    ]
    assert request.async_pdf is False
    assert request.idempotency_key == "k1"
    assert [(x.description, x.quantity, x.unit_price) for x in request.lines] == [
        ("d", "1.000", "100")
    ]


def test_create_request_leaves_absent_and_null_optionals_unset() -> None:
    request = translate.create_request(
        {"customer_name": "A", "notes": None}, async_pdf=None, idempotency_key=None
    )
    for name in ("customer_email", "customer_phone", "currency", "tax_rate", "amount", "notes"):
        assert not request.HasField(name), name
    assert request.async_pdf is True
    assert request.idempotency_key == ""


def test_create_request_names_every_bad_field_with_its_path() -> None:
    payload = {
        "customer_name": 7,
        "lines": [
            {"description": "a", "quantity": 1, "unit_price": 1},
            {"description": "b", "quantity": "1", "unit_price": 1, "colour": "red"},
            {"description": "c", "quantity": [], "unit_price": 1},
        ],
        "deliver": ["email", "fax"],
        "surprise": 1,
    }
    with pytest.raises(InvalidArgument) as caught:
        translate.create_request(payload, async_pdf=None, idempotency_key=None)
    assert sorted(fields_of(caught.value)) == sorted(
        ["customer_name", "lines[1].colour", "lines[2].quantity", "deliver[1]", "surprise"]
    )
    assert ("surprise", "unknown field") in caught.value.fields


def test_a_missing_required_field_is_named() -> None:
    with pytest.raises(InvalidArgument) as caught:
        translate.create_request({"amount": 1}, async_pdf=None, idempotency_key=None)
    assert caught.value.fields == [("customer_name", "required")]


@pytest.mark.parametrize(
    ("text", "value"),
    [(None, None), ("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False)],
)
def test_optional_bool_reads_the_usual_words(text: str | None, value: bool | None) -> None:
    assert translate.optional_bool(text, "async_pdf") is value


def test_optional_bool_names_the_field_when_wrong() -> None:
    with pytest.raises(InvalidArgument) as caught:
        translate.optional_bool("maybe", "async_pdf")
    assert fields_of(caught.value) == ["async_pdf"]


def test_enum_words_are_lowercase_without_prefix() -> None:
    assert translate.PDF_STATUS == {1: "pending", 2: "rendering", 3: "ready", 4: "failed"}
    assert translate.INVOICE_STATUS == {1: "pending", 2: "paid", 3: "void"}
    assert translate.CHANNEL == {1: "email", 2: "whatsapp"}
    assert translate.DELIVERY_STATUS == {1: "pending", 2: "sent", 3: "failed"}


def sample_invoice() -> invoice_pb2.Invoice:
    """An invoice as the service would return it, with a few optional fields empty."""
    invoice = invoice_pb2.Invoice(
        invoice_id="INV-000042",
        customer_name="Ada",
        customer_phone="+2348012345678",
        currency="NGN",
        lines=[
            invoice_pb2.InvoiceLine(
                description="x", quantity="2", unit_price="25000.00", amount="50000.00"
            )
        ],
        tax_rate="7.5",
        subtotal="50000.00",
        tax="3750.00",
        amount="53750.00",
        status=invoice_pb2.INVOICE_STATUS_PENDING,
        pdf_status=invoice_pb2.PDF_STATUS_READY,
        pdf_url="https://s3/x.pdf",
        deliver=[invoice_pb2.DELIVERY_CHANNEL_WHATSAPP],
        deliveries=[
            invoice_pb2.Delivery(
                channel=invoice_pb2.DELIVERY_CHANNEL_WHATSAPP,
                status=invoice_pb2.DELIVERY_STATUS_SENT,
                attempts=1,
            )
        ],
        pdf_generation=3,
        business=invoice_pb2.BusinessInfo(business_id="b1", name="Shop"),
    )
    invoice.created_at.FromSeconds(1_735_732_800)
    invoice.updated_at.FromNanoseconds(1_735_732_800_123_000_000)
    invoice.deliveries[0].sent_at.FromSeconds(1_735_732_860)
    return invoice


def test_invoice_json_has_the_contract_fields_and_nulls_for_empty_optionals() -> None:
    body = translate.invoice_json(sample_invoice())
    assert body == {
        "invoice_id": "INV-000042",
        "customer_name": "Ada",
        "customer_email": None,
        "customer_phone": "+2348012345678",
        "currency": "NGN",
        "lines": [
            {"description": "x", "quantity": "2", "unit_price": "25000.00", "amount": "50000.00"}
        ],
        "tax_rate": "7.5",
        "subtotal": "50000.00",
        "tax": "3750.00",
        "amount": "53750.00",
        "status": "pending",
        "pdf_status": "ready",
        "pdf_url": "https://s3/x.pdf",
        "due_date": None,
        "notes": None,
        "deliver": ["whatsapp"],
        "deliveries": [
            {
                "channel": "whatsapp",
                "status": "sent",
                "attempts": 1,
                "error": None,
                "sent_at": "2025-01-01T12:01:00Z",
            }
        ],
        "created_at": "2025-01-01T12:00:00Z",
        "updated_at": "2025-01-01T12:00:00.123Z",
    }


def test_unset_timestamps_are_null() -> None:
    body = translate.invoice_json(invoice_pb2.Invoice(invoice_id="INV-1"))
    assert body["created_at"] is None
    assert body["status"] is None


def test_pdf_status_json_is_the_polling_shape() -> None:
    pdf = invoice_pb2.PdfStatusInfo(
        invoice_id="INV-1",
        pdf_status=invoice_pb2.PDF_STATUS_FAILED,
        attempts=4,
        error="font missing",
        pdf_generation=2,
    )
    pdf.updated_at.FromSeconds(0)
    assert translate.pdf_status_json(pdf) == {
        "invoice_id": "INV-1",
        "pdf_status": "failed",
        "pdf_url": None,
        "attempts": 4,
        "error": "font missing",
        "updated_at": "1970-01-01T00:00:00Z",
    }


def test_list_request_maps_filter_words_to_enum_numbers() -> None:
    request = translate.list_request(
        page_size=10, page_token="t", status="paid", pdf_status="rendering"
    )
    assert request.page_size == 10
    assert request.page_token == "t"
    assert request.status == invoice_pb2.INVOICE_STATUS_PAID
    assert request.pdf_status == invoice_pb2.PDF_STATUS_RENDERING
    unfiltered = translate.list_request(page_size=50, page_token="", status=None, pdf_status=None)
    assert unfiltered.status == 0
    assert unfiltered.pdf_status == 0


def test_invoice_list_json_keeps_an_empty_next_page_token() -> None:
    reply = invoice_pb2.ListInvoicesResponse(invoices=[sample_invoice()], next_page_token="")
    body = translate.invoice_list_json(reply)
    assert body["next_page_token"] == ""
    assert [i["invoice_id"] for i in body["invoices"]] == ["INV-000042"]
