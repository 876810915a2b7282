"""The words of an invoice delivery: the email (text and HTML) and the WhatsApp caption."""

from __future__ import annotations

import html

from suoops.invoice.v1 import invoice_pb2

from services.delivery.email import EmailMessage
from services.renderer.formatting import format_date, format_money, parse_iso_date

# The Cloud API refuses document captions longer than this.
CAPTION_LIMIT = 1024


def _one_line(text: str) -> str:
    """Text with every run of whitespace (newlines included) made one space."""
    return " ".join(text.split())


def _issuer(invoice: invoice_pb2.Invoice, sender_name: str) -> str:
    """Who the invoice is from: the business on it, else the configured sender name."""
    return _one_line(invoice.business.name) or _one_line(sender_name) or "SuoOps"


def _due(invoice: invoice_pb2.Invoice) -> str:
    """The due date spelled out, or the text as given when it is not a date."""
    parsed = parse_iso_date(invoice.due_date)
    return format_date(parsed) if parsed else invoice.due_date.strip()


def pdf_filename(invoice: invoice_pb2.Invoice) -> str:
    """The attachment's name, e.g. ``INV-000123.pdf``."""
    return f"{invoice.invoice_id}.pdf"


def invoice_email(invoice: invoice_pb2.Invoice, pdf: bytes, sender_name: str) -> EmailMessage:
    """The email carrying an invoice's PDF to its customer; every field is escaped in HTML.

    ``sender_name`` signs the email when the invoice carries no business name.
    """
    issuer = _issuer(invoice, sender_name)
    number = invoice.invoice_id
    amount = format_money(invoice.amount, invoice.currency)
    due = _due(invoice)
    customer = _one_line(invoice.customer_name)
    greeting = f"Dear {customer}," if customer else "Hello,"

    text_lines = [
        greeting,
        "",
        f"Please find attached invoice {number} from {issuer}.",
        "",
        f"Amount due: {amount}",
    ]
    if due:
        text_lines.append(f"Due date: {due}")
    text_lines += ["", "Thank you,", issuer, ""]

    e = html.escape
    due_row = f'<tr><th align="left">Due date</th><td>{e(due)}</td></tr>' if due else ""
    html_body = (
        "<!DOCTYPE html>\n<html><body>\n"
        f"<p>{e(greeting)}</p>\n"
        f"<p>Please find attached invoice <strong>{e(number)}</strong> from {e(issuer)}.</p>\n"
        "<table>\n"
        f'<tr><th align="left">Amount due</th><td>{e(amount)}</td></tr>\n'
        f"{due_row}\n"
        "</table>\n"
        f"<p>Thank you,<br>{e(issuer)}</p>\n"
        "</body></html>\n"
    )
    return EmailMessage(
        to=invoice.customer_email.strip(),
        subject=f"Invoice {number} from {issuer}",
        text="\n".join(text_lines),
        html=html_body,
        attachment_name=pdf_filename(invoice),
        attachment=pdf,
    )


def whatsapp_caption(invoice: invoice_pb2.Invoice) -> str:
    """The caption under the PDF on WhatsApp: number, amount and due date."""
    caption = f"Invoice {invoice.invoice_id}: {format_money(invoice.amount, invoice.currency)}"
    issuer = _one_line(invoice.business.name)
    if issuer:
        caption += f" from {issuer}"
    due = _due(invoice)
    if due:
        caption += f", due {due}"
    return caption[:CAPTION_LIMIT]
