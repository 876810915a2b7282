"""How money, quantities, rates and dates read on a printed invoice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

# Symbols a reader recognises at a glance; "$" alone is kept for USD so that
# other dollars never pass for it.
CURRENCY_SYMBOLS: dict[str, str] = {
    "NGN": "₦",
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "GHS": "GH₵",
    "KES": "KSh ",
    "ZAR": "R ",
    "EGP": "E£",
    "INR": "₹",
    "JPY": "¥",
    "CNY": "CN¥",
    "CAD": "CA$",
    "AUD": "A$",
}


def currency_prefix(currency: str) -> str:
    """The text printed before an amount: a symbol where one is known, else the ISO code."""
    code = currency.strip().upper() or "NGN"
    return CURRENCY_SYMBOLS.get(code, f"{code} ")


def _decimal(text: str) -> Decimal | None:
    """The decimal a string holds, or None when it holds none."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def group_digits(text: str) -> str:
    """A decimal string with thousands separators, its decimals kept as written."""
    value = _decimal(text)
    if value is None:
        # Never invent a number: print what we were given.
        return text
    plain = format(value, "f")
    sign, plain = ("-", plain[1:]) if plain.startswith("-") else ("", plain)
    whole, dot, fraction = plain.partition(".")
    return f"{sign}{int(whole):,}{dot}{fraction}"


def format_money(amount: str, currency: str) -> str:
    """An amount with its currency, e.g. "₦50,000.00"; exact, never through a float."""
    value = _decimal(amount or "0")
    if value is None:
        return f"{currency_prefix(currency)}{amount}"
    text = group_digits(format(value.quantize(Decimal("0.01")), "f"))
    if text.startswith("-"):
        return f"-{currency_prefix(currency)}{text[1:]}"
    return f"{currency_prefix(currency)}{text}"


def format_quantity(quantity: str) -> str:
    """A quantity without trailing zeros: "2.500" reads "2.5", "3.000" reads "3"."""
    value = _decimal(quantity)
    if value is None:
        return quantity
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return group_digits(text)


def format_rate(rate: str) -> str:
    """A tax rate as a percentage, e.g. "7.5%"."""
    return f"{format_quantity(rate or '0')}%"


MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_date(value: dt.date | None) -> str:
    """A date spelled out so no reader confuses day and month, e.g. "5 March 2025"."""
    if value is None:
        return ""
    # Our own month names: strftime's %B follows the process locale.
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def parse_iso_date(text: str) -> dt.date | None:
    """The date of a YYYY-MM-DD string, or None when empty or malformed."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
