"""The display strings the template prints for an invoice."""

from __future__ import annotations

import pytest

from services.renderer.invoice_view import invoice_view
from services.renderer.samples import sample_invoice

pytestmark = pytest.mark.unit


def test_view_formats_lines_and_totals_in_the_invoice_currency() -> None:
    view = invoice_view(sample_invoice())
    assert view.lines[7].quantity == "3.5"
    assert view.lines[7].unit_price == "₦12,000.00"
    assert view.lines[7].amount == "₦42,000.00"
    assert (view.subtotal, view.tax, view.total) == ("₦1,172,000.00", "₦87,900.00", "₦1,259,900.00")
    assert view.tax_rate == "7.5%"


def test_view_gives_issue_and_due_dates_and_what_is_due_by_when() -> None:
    view = invoice_view(sample_invoice())
    assert view.dates == ("Issued 5 March 2025", "Due 14 April 2025")
    assert view.amount_due == "₦1,259,900.00 due 14 April 2025"


def test_without_a_due_date_the_amount_is_due_on_receipt() -> None:
    invoice = sample_invoice()
    invoice.due_date = ""
    invoice.ClearField("created_at")
    view = invoice_view(invoice)
    assert view.dates == ()
    assert view.amount_due == "₦1,259,900.00 due on receipt"


def test_a_malformed_due_date_is_printed_as_given() -> None:
    invoice = sample_invoice()
    invoice.due_date = "end of month"
    assert invoice_view(invoice).due_on == "end of month"


def test_text_fields_pass_through_untouched() -> None:
    invoice = sample_invoice(customer_name="  <b>Ada</b>  ", notes="a\n\n  b")
    view = invoice_view(invoice)
    assert view.customer_name == "  <b>Ada</b>  "
    assert view.notes == "a\n\n  b"


def test_an_empty_currency_means_naira() -> None:
    view = invoice_view(sample_invoice(currency=""))
    assert view.currency == "NGN"
    assert view.total.startswith("₦")
