"""Property tests: totals are exact for any valid lines, with no float anywhere."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.invoice.domain import money
from services.invoice.domain.rules import InvoiceDraft, LineDraft, check_invoice

pytestmark = pytest.mark.unit

# Quantities in thousandths and prices in cents, as integers: the oracle never sees a Decimal.
quantities = st.integers(min_value=1, max_value=10_000_000)
prices = st.integers(min_value=0, max_value=100_000_000)
rates = st.integers(min_value=0, max_value=1_000_000)  # percent in ten-thousandths


def _text(units: int, places: int) -> str:
    sign = "-" if units < 0 else ""
    units = abs(units)
    whole, frac = divmod(units, 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"


def _round_half_up_div(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


@settings(max_examples=300, deadline=None)
@given(
    lines=st.lists(st.tuples(quantities, prices), min_size=1, max_size=30),
    rate=rates,
)
def test_totals_equal_an_integer_oracle(lines: list[tuple[int, int]], rate: int) -> None:
    draft = InvoiceDraft(
        customer_name="Ada",
        lines=[LineDraft(f"item {i}", _text(q, 3), _text(p, 2)) for i, (q, p) in enumerate(lines)],
        tax_rate=_text(rate, 4),
    )
    checked = check_invoice(draft)
    # line cents = round_half_up(q_milli * p_cents / 1000)
    line_cents = [_round_half_up_div(q * p, 1000) for q, p in lines]
    subtotal = sum(line_cents)
    tax = _round_half_up_div(subtotal * rate, 100 * 10_000)
    assert [money.format_money(line.amount) for line in checked.lines] == [
        _text(c, 2) for c in line_cents
    ]
    assert money.format_money(checked.subtotal) == _text(subtotal, 2)
    assert money.format_money(checked.tax) == _text(tax, 2)
    assert money.format_money(checked.amount) == _text(subtotal + tax, 2)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(st.tuples(quantities, prices), min_size=1, max_size=10), rate=rates)
def test_every_amount_is_a_decimal_never_a_float(lines: list[tuple[int, int]], rate: int) -> None:
    checked = check_invoice(
        InvoiceDraft(
            customer_name="Ada",
            lines=[LineDraft("x", _text(q, 3), _text(p, 2)) for q, p in lines],
            tax_rate=_text(rate, 4),
        )
    )
    values = [checked.subtotal, checked.tax, checked.amount, checked.tax_rate]
    for line in checked.lines:
        values += [line.quantity, line.unit_price, line.amount]
    assert all(type(v) is Decimal for v in values)


@given(cents=st.integers(min_value=0, max_value=99_999_999_999_999_999))
def test_amount_only_invoice_keeps_every_cent(cents: int) -> None:
    checked = check_invoice(InvoiceDraft(customer_name="Ada", amount=_text(cents, 2)))
    assert money.format_money(checked.amount) == _text(cents, 2)
    assert len(checked.lines) == 1 and checked.lines[0].amount == checked.amount


def test_half_cent_rounds_up() -> None:
    checked = check_invoice(
        InvoiceDraft(customer_name="Ada", lines=[LineDraft("x", "0.5", "0.01")], tax_rate="50")
    )
    assert money.format_money(checked.lines[0].amount) == "0.01"  # 0.005 -> 0.01
    assert money.format_money(checked.tax) == "0.01"  # 0.005 -> 0.01


def test_money_parser_rejects_what_is_not_a_finite_decimal() -> None:
    for text in ("NaN", "Infinity", "-inf", "1,000", " 1", "", "0x10", "1e"):
        with pytest.raises(money.DecimalFormatError):
            money.parse_decimal(text)
    assert money.parse_decimal("1E+3") == Decimal(1000)
