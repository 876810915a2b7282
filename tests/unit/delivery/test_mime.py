"""The MIME structure of a delivery email: text and HTML alternatives, the PDF attached."""

from __future__ import annotations

import pytest

from services.delivery.email import EmailMessage, build_mime
from services.delivery.errors import PermanentDeliveryError

pytestmark = pytest.mark.unit

MESSAGE = EmailMessage(
    to="ade@example.com",
    subject="Invoice INV-000123 from Ìyá Àdùnní Foods",
    text="Amount due: ₦53,750.00",
    html="<p>Amount due: ₦53,750.00</p>",
    attachment_name="INV-000123.pdf",
    attachment=b"%PDF-1.7\x00\xff binary",
)


def test_the_message_is_mixed_with_alternative_bodies_and_a_pdf() -> None:
    mime = build_mime(MESSAGE, "Billing <billing@shop.test>")
    assert mime.get_content_type() == "multipart/mixed"
    assert mime.get_body(("plain",)).get_content().strip() == "Amount due: ₦53,750.00"  # type: ignore[union-attr]
    assert "₦53,750.00" in mime.get_body(("html",)).get_content()  # type: ignore[union-attr]
    [attachment] = list(mime.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "INV-000123.pdf"
    assert attachment.get_payload(decode=True) == MESSAGE.attachment


def test_headers_name_sender_recipient_and_a_message_id() -> None:
    mime = build_mime(MESSAGE, "Billing <billing@shop.test>")
    assert mime["To"] == "ade@example.com"
    assert mime["From"] == "Billing <billing@shop.test>"
    assert mime["Subject"] == MESSAGE.subject
    assert mime["Message-ID"].endswith("@shop.test>")


def test_a_header_with_a_line_break_is_refused_not_sent() -> None:
    bad = EmailMessage("a@example.com\r\nBcc: x@example.com", "s", "t", "h", "f.pdf", b"")
    with pytest.raises(PermanentDeliveryError, match="header"):
        build_mime(bad, "billing@shop.test")
