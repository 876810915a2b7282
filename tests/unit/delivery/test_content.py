"""The delivery email and WhatsApp caption: number, amount with currency, escaped user text."""

from __future__ import annotations

import pytest
from suoops.invoice.v1 import invoice_pb2

from services.delivery.content import CAPTION_LIMIT, invoice_email, whatsapp_caption

pytestmark = pytest.mark.unit

PDF = b"%PDF-1.7 fake invoice bytes"


def _invoice(**fields: object) -> invoice_pb2.Invoice:
    values: dict[str, object] = {
        "invoice_id": "INV-000123",
        "customer_name": "Adébáyọ̀ Ọlá",
        "customer_email": "ade@example.com",
        "customer_phone": "+2348012345678",
        "currency": "NGN",
        "amount": "53750.00",
        "due_date": "2026-03-05",
        "business": invoice_pb2.BusinessInfo(business_id="b1", name="Ìyá Àdùnní Foods"),
    }
    values.update(fields)
    return invoice_pb2.Invoice(**values)  # type: ignore[arg-type]


def test_email_goes_to_the_customer_with_the_pdf_attached() -> None:
    message = invoice_email(_invoice(), PDF, "SuoOps")
    assert message.to == "ade@example.com"
    assert message.attachment == PDF
    assert message.attachment_name == "INV-000123.pdf"


def test_subject_names_the_invoice_and_the_business() -> None:
    message = invoice_email(_invoice(), PDF, "SuoOps")
    assert message.subject == "Invoice INV-000123 from Ìyá Àdùnní Foods"


def test_bodies_show_number_amount_in_naira_and_due_date() -> None:
    message = invoice_email(_invoice(), PDF, "SuoOps")
    for body in (message.text, message.html):
        assert "INV-000123" in body
        assert "₦53,750.00" in body
        assert "5 March 2026" in body
        assert "Adébáyọ̀ Ọlá" in body


def test_other_currencies_show_their_own_symbol_or_code() -> None:
    assert "$1,200.50" in invoice_email(_invoice(currency="USD", amount="1200.5"), PDF, "").text
    assert "XOF 10.00" in invoice_email(_invoice(currency="XOF", amount="10"), PDF, "").text


def test_markup_in_user_fields_is_escaped_in_the_html_body() -> None:
    invoice = _invoice(
        customer_name='<script>alert("x")</script>',
        business=invoice_pb2.BusinessInfo(name="<b>Bold & Co</b>"),
    )
    message = invoice_email(invoice, PDF, "SuoOps")
    assert "<script>" not in message.html and "<b>Bold" not in message.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in message.html
    assert "&lt;b&gt;Bold &amp; Co&lt;/b&gt;" in message.html
    # The plain-text body shows the text exactly as given.
    assert '<script>alert("x")</script>' in message.text


def test_newlines_in_the_business_name_cannot_break_the_subject_header() -> None:
    invoice = _invoice(business=invoice_pb2.BusinessInfo(name="Shop\r\nBcc: victim@example.com"))
    message = invoice_email(invoice, PDF, "SuoOps")
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.subject == "Invoice INV-000123 from Shop Bcc: victim@example.com"


def test_sender_name_signs_the_email_when_the_invoice_has_no_business_name() -> None:
    message = invoice_email(_invoice(business=invoice_pb2.BusinessInfo()), PDF, "Acme Billing")
    assert message.subject == "Invoice INV-000123 from Acme Billing"


def test_no_due_date_means_no_due_line() -> None:
    message = invoice_email(_invoice(due_date=""), PDF, "SuoOps")
    assert "Due date" not in message.text and "Due date" not in message.html


def test_caption_has_number_amount_business_and_due_date() -> None:
    caption = whatsapp_caption(_invoice())
    assert caption == "Invoice INV-000123: ₦53,750.00 from Ìyá Àdùnní Foods, due 5 March 2026"


def test_caption_never_exceeds_the_cloud_api_limit() -> None:
    long_name = "N" * 3000
    caption = whatsapp_caption(_invoice(business=invoice_pb2.BusinessInfo(name=long_name)))
    assert len(caption) == CAPTION_LIMIT
    assert caption.startswith("Invoice INV-000123: ₦53,750.00")
