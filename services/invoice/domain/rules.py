"""The rules a new invoice must meet (CONTRACT §2), checked all at once, with its totals."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from services.invoice.domain import money
from services.invoice.domain.currencies import DEFAULT_CURRENCY, is_currency_code
from services.invoice.domain.errors import FieldError, InvalidInput
from services.invoice.domain.model import Channel, InvoiceLine

MAX_NAME = 200
MAX_DESCRIPTION = 500
MAX_NOTES = 2000
MAX_LINES = 200
MAX_EMAIL = 254
# Bounds that keep every amount inside the NUMERIC(17, 2) and NUMERIC(15, 3) columns.
MAX_QUANTITY = Decimal("1000000000")
MAX_MONEY = Decimal("999999999999999.99")
QUANTITY_PLACES = 3
MONEY_PLACES = 2
TAX_RATE_PLACES = 4
AMOUNT_ONLY_DESCRIPTION = "Amount due"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


@dataclass(frozen=True)
class LineDraft:
    """A line as the caller sent it: text, not yet checked."""

    description: str
    quantity: str
    unit_price: str


@dataclass(frozen=True)
class InvoiceDraft:
    """A create request as the caller sent it; None means the field was left out."""

    customer_name: str
    customer_email: str | None = None
    customer_phone: str | None = None
    currency: str | None = None
    lines: list[LineDraft] = field(default_factory=list)
    tax_rate: str | None = None
    amount: str | None = None
    due_date: str | None = None
    notes: str | None = None
    deliver: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CheckedInvoice:
    """A draft that meets every rule, with its lines and totals computed."""

    customer_name: str
    customer_email: str | None
    customer_phone: str | None
    currency: str
    lines: list[InvoiceLine]
    tax_rate: Decimal
    subtotal: Decimal
    tax: Decimal
    amount: Decimal
    due_date: date | None
    notes: str | None
    deliver: list[str]


class _Errors:
    """Collects every broken rule so the caller sees them all in one answer."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, name: str, message: str) -> None:
        self.items.append(FieldError(name, message))

    def text(
        self, name: str, value: str | None, *, max_len: int, required: bool = False
    ) -> str | None:
        if value is None:
            if required:
                self.add(name, "is required")
            return None
        if "\x00" in value:
            self.add(name, "must not contain NUL characters")
            return None
        trimmed = value.strip()
        if required and not trimmed:
            self.add(name, "must not be empty")
            return None
        if len(trimmed) > max_len:
            self.add(name, f"must be at most {max_len} characters")
            return None
        return trimmed

    def decimal(
        self,
        name: str,
        text: str,
        *,
        places: int,
        minimum: Decimal,
        maximum: Decimal,
        exclusive_minimum: bool = False,
    ) -> Decimal | None:
        try:
            value = money.parse_decimal(text)
        except money.DecimalFormatError as exc:
            self.add(name, str(exc))
            return None
        if exclusive_minimum and value <= minimum:
            self.add(name, f"must be greater than {minimum}")
        elif value < minimum:
            self.add(name, f"must be at least {minimum}")
        elif value > maximum:
            self.add(name, f"must be at most {money.format_decimal(maximum)}")
        elif not money.has_at_most_places(value, places):
            self.add(name, f"must have at most {places} decimal places")
        else:
            return value
        return None


def check_invoice(draft: InvoiceDraft) -> CheckedInvoice:
    """Check every rule of a new invoice and compute its totals, or raise InvalidInput."""
    errors = _Errors()
    name = errors.text("customer_name", draft.customer_name, max_len=MAX_NAME, required=True)
    email = _check_email(errors, draft.customer_email)
    phone = _check_phone(errors, draft.customer_phone)
    currency = _check_currency(errors, draft.currency)
    lines = _check_lines(errors, draft.lines)
    tax_rate = Decimal(0)
    if draft.tax_rate is not None:
        checked_rate = errors.decimal(
            "tax_rate",
            draft.tax_rate,
            places=TAX_RATE_PLACES,
            minimum=Decimal(0),
            maximum=Decimal(100),
        )
        tax_rate = checked_rate if checked_rate is not None else Decimal(0)
    amount = None
    if draft.amount is not None:
        amount = errors.decimal(
            "amount", draft.amount, places=MONEY_PLACES, minimum=Decimal(0), maximum=MAX_MONEY
        )
    due_date = _check_due_date(errors, draft.due_date)
    notes = errors.text("notes", draft.notes, max_len=MAX_NOTES)
    deliver = _check_deliver(errors, draft.deliver, email, phone)

    if not draft.lines:
        if draft.amount is None:
            errors.add("amount", "is required when there are no lines")
        elif tax_rate != 0:
            errors.add("tax_rate", "needs lines: without lines, amount is the total due")
        if amount is not None:
            lines = [InvoiceLine(AMOUNT_ONLY_DESCRIPTION, Decimal(1), amount, amount)]

    subtotal = money.total([line.amount for line in lines])
    tax = money.percent_of(subtotal, tax_rate)
    grand_total = money.total([subtotal, tax])
    if not errors.items:
        if grand_total > MAX_MONEY:
            errors.add("amount", f"the total must be at most {money.format_money(MAX_MONEY)}")
        elif amount is not None and draft.lines and amount != grand_total:
            errors.add(
                "amount",
                f"must equal subtotal + tax ({money.format_money(grand_total)})"
                " when lines are given",
            )
    if errors.items or name is None:
        raise InvalidInput(errors.items)
    return CheckedInvoice(
        customer_name=name,
        customer_email=email,
        customer_phone=phone,
        currency=currency,
        lines=lines,
        tax_rate=tax_rate,
        subtotal=money.round_money(subtotal),
        tax=tax,
        amount=money.round_money(grand_total),
        due_date=due_date,
        notes=notes,
        deliver=deliver,
    )


def _check_email(errors: _Errors, value: str | None) -> str | None:
    email = errors.text("customer_email", value, max_len=MAX_EMAIL)
    if email is not None and not _EMAIL.match(email):
        errors.add("customer_email", "must be a valid email address")
        return None
    return email


def _check_phone(errors: _Errors, value: str | None) -> str | None:
    if value is None:
        return None
    if not _E164.match(value):
        errors.add("customer_phone", "must be an E.164 number such as +2348012345678")
        return None
    return value


def _check_currency(errors: _Errors, value: str | None) -> str:
    if value is None:
        return DEFAULT_CURRENCY
    if not is_currency_code(value):
        errors.add("currency", "must be an ISO 4217 currency code such as NGN")
    return value


def _check_lines(errors: _Errors, drafts: list[LineDraft]) -> list[InvoiceLine]:
    if len(drafts) > MAX_LINES:
        errors.add("lines", f"must have at most {MAX_LINES} lines")
        return []
    lines = []
    for index, draft in enumerate(drafts):
        prefix = f"lines[{index}]"
        description = errors.text(
            f"{prefix}.description", draft.description, max_len=MAX_DESCRIPTION, required=True
        )
        quantity = errors.decimal(
            f"{prefix}.quantity",
            draft.quantity,
            places=QUANTITY_PLACES,
            minimum=Decimal(0),
            maximum=MAX_QUANTITY,
            exclusive_minimum=True,
        )
        unit_price = errors.decimal(
            f"{prefix}.unit_price",
            draft.unit_price,
            places=MONEY_PLACES,
            minimum=Decimal(0),
            maximum=MAX_MONEY,
        )
        if description is None or quantity is None or unit_price is None:
            continue
        amount = money.round_money(money.multiply(quantity, unit_price))
        if amount > MAX_MONEY:
            errors.add(prefix, f"amount must be at most {money.format_money(MAX_MONEY)}")
            continue
        lines.append(InvoiceLine(description, quantity, unit_price, amount))
    return lines


def _check_due_date(errors: _Errors, value: str | None) -> date | None:
    if value is None:
        return None
    if _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors.add("due_date", "must be a date in the form YYYY-MM-DD")
    return None


def _check_deliver(
    errors: _Errors, channels: list[str], email: str | None, phone: str | None
) -> list[str]:
    chosen: list[str] = []
    needs = {
        Channel.EMAIL.value: ("customer_email", email),
        Channel.WHATSAPP.value: ("customer_phone", phone),
    }
    for index, channel in enumerate(channels):
        if channel not in needs:
            errors.add(f"deliver[{index}]", "must be one of: email, whatsapp")
            continue
        contact_field, contact = needs[channel]
        if contact is None:
            errors.add(f"deliver[{index}]", f"needs {contact_field}")
            continue
        if channel not in chosen:
            chosen.append(channel)
    return chosen
