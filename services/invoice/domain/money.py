"""Exact decimal money: parsing caller input, rounding half-up, formatting with two places."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

CENT = Decimal("0.01")
# Wide enough that no product or sum of allowed inputs is ever rounded by the context itself.
_CONTEXT = Context(prec=60)


class DecimalFormatError(ValueError):
    """Text that is not a finite decimal number."""


def parse_decimal(text: str) -> Decimal:
    """Parse a finite decimal from text; never goes through float."""
    if not isinstance(text, str) or text != text.strip() or not text:
        raise DecimalFormatError("must be a decimal number")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise DecimalFormatError("must be a decimal number") from exc
    if not value.is_finite():
        raise DecimalFormatError("must be a finite decimal number")
    return value


_STEPS = {places: Decimal(1).scaleb(-places) for places in range(0, 7)}
_HUNDRED = Decimal(100)


def has_at_most_places(value: Decimal, places: int) -> bool:
    """True when the value needs no more than `places` decimal places (1.500 needs one)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -places:
        return True
    return value == value.quantize(_STEPS[places], context=_CONTEXT)


def round_money(value: Decimal) -> Decimal:
    """Round half-up to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP, context=_CONTEXT)


def multiply(a: Decimal, b: Decimal) -> Decimal:
    """Exact product."""
    return _CONTEXT.multiply(a, b)


def percent_of(value: Decimal, rate: Decimal) -> Decimal:
    """`rate` percent of `value`, rounded half-up to cents."""
    return round_money(_CONTEXT.divide(_CONTEXT.multiply(value, rate), _HUNDRED))


def total(values: list[Decimal]) -> Decimal:
    """Exact sum."""
    result = Decimal(0)
    for value in values:
        result = _CONTEXT.add(result, value)
    return result


def format_money(value: Decimal) -> str:
    """Two places, no exponent: `50000.00`."""
    return f"{round_money(value):f}"


def format_decimal(value: Decimal) -> str:
    """Plain notation without an exponent and without needless trailing zeros."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
