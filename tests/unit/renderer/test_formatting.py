"""Money, quantities, rates and dates as an invoice prints them."""

from __future__ import annotations

import datetime as dt

import pytest

from services.renderer.formatting import (
    currency_prefix,
    format_date,
    format_money,
    format_quantity,
    format_rate,
    group_digits,
    parse_iso_date,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("amount", "currency", "printed"),
    [
        ("50000.00", "NGN", "₦50,000.00"),
        ("50000", "NGN", "₦50,000.00"),
        ("1234567.5", "ngn", "₦1,234,567.50"),
        ("0", "NGN", "₦0.00"),
        ("999.99", "USD", "$999.99"),
        ("10", "EUR", "€10.00"),
        ("10", "GHS", "GH₵10.00"),
        ("10", "KES", "KSh 10.00"),
        ("10", "CHF", "CHF 10.00"),
        ("10", "", "₦10.00"),
        ("-5.5", "GBP", "-£5.50"),
        # Exact far beyond a float's 15-16 significant digits.
        ("12345678901234567890.12", "NGN", "₦12,345,678,901,234,567,890.12"),
    ],
)
def test_money_prints_with_sign_grouping_and_two_places(
    amount: str, currency: str, printed: str
) -> None:
    assert format_money(amount, currency) == printed


def test_an_unparsable_amount_is_printed_as_given_not_invented() -> None:
    assert format_money("about 5k", "NGN") == "₦about 5k"
    assert group_digits("n/a") == "n/a"


def test_unknown_currency_prints_its_iso_code() -> None:
    assert currency_prefix("xof") == "XOF "


@pytest.mark.parametrize(
    ("quantity", "printed"),
    [("2", "2"), ("2.500", "2.5"), ("3.000", "3"), ("0.125", "0.125"), ("12000", "12,000")],
)
def test_quantities_drop_trailing_zeros(quantity: str, printed: str) -> None:
    assert format_quantity(quantity) == printed


@pytest.mark.parametrize(("rate", "printed"), [("7.5", "7.5%"), ("7.50", "7.5%"), ("", "0%")])
def test_tax_rate_prints_as_a_percentage(rate: str, printed: str) -> None:
    assert format_rate(rate) == printed


def test_dates_spell_the_month_out() -> None:
    assert format_date(dt.date(2025, 3, 5)) == "5 March 2025"
    assert format_date(None) == ""


@pytest.mark.parametrize(
    ("text", "date"), [("2025-04-14", dt.date(2025, 4, 14)), ("", None), ("14/04/2025", None)]
)
def test_iso_dates_parse_or_give_none(text: str, date: dt.date | None) -> None:
    assert parse_iso_date(text) == date
