"""Monthly tax reports: the UTC month reported, and the exact totals per currency."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from services.invoice.domain import money
from services.invoice.domain.errors import FieldError, InvalidInput
from services.invoice.domain.model import PdfStatus

_MONTH = re.compile(r"(\d{4})-(\d{2})")
FIRST_YEAR = 2000
LAST_YEAR = 9998  # the month after December 9998 must still be a datetime


@dataclass(frozen=True, order=True)
class Month:
    """One calendar month in UTC."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        """The first instant of the month (inclusive)."""
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant of the next month (exclusive)."""
        return self.following().start

    def following(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    @classmethod
    def of(cls, instant: datetime) -> Month:
        """The UTC month an instant falls in."""
        utc = instant.astimezone(UTC)
        return cls(utc.year, utc.month)


def parse_month(text: str, field_name: str = "month") -> Month:
    """'YYYY-MM' as a Month; anything else is an InvalidInput naming the field."""
    match = _MONTH.fullmatch(text or "")
    if match is None:
        raise InvalidInput([FieldError(field_name, "must be a month written YYYY-MM")])
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise InvalidInput([FieldError(field_name, "month must be 01 to 12")])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput([FieldError(field_name, f"year must be {FIRST_YEAR} to {LAST_YEAR}")])
    return Month(year, month)


@dataclass(frozen=True)
class CurrencyTotal:
    """What a business invoiced in one currency: subtotal, tax and total."""

    currency: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal


def totals_by_currency(amounts: Iterable[CurrencyTotal]) -> list[CurrencyTotal]:
    """Exact sums per currency, in currency order; the parts may be invoices or partial sums."""
    sums: dict[str, tuple[list[Decimal], list[Decimal], list[Decimal]]] = {}
    for item in amounts:
        subtotals, taxes, totals = sums.setdefault(item.currency, ([], [], []))
        subtotals.append(item.subtotal)
        taxes.append(item.tax)
        totals.append(item.total)
    return [
        CurrencyTotal(
            currency,
            money.total(subtotals),
            money.total(taxes),
            money.total(totals),
        )
        for currency, (subtotals, taxes, totals) in sorted(sums.items())
    ]


def totals_to_json(totals: list[CurrencyTotal]) -> list[dict[str, str]]:
    """Totals as stored and returned: decimal strings with two places."""
    return [
        {
            "currency": t.currency,
            "subtotal": money.format_money(t.subtotal),
            "tax": money.format_money(t.tax),
            "total": money.format_money(t.total),
        }
        for t in totals
    ]


def totals_from_json(items: list[dict[str, str]]) -> list[CurrencyTotal]:
    """Totals back from their stored form."""
    return [
        CurrencyTotal(
            item["currency"],
            Decimal(item["subtotal"]),
            Decimal(item["tax"]),
            Decimal(item["total"]),
        )
        for item in items
    ]


@dataclass
class TaxReport:
    """A business's invoices created in one UTC month, summed, and the state of its PDF."""

    business_id: int
    month: str
    invoice_count: int
    totals: list[CurrencyTotal]
    built_at: datetime
    updated_at: datetime
    pdf_status: str = PdfStatus.PENDING.value
    pdf_generation: int = 1
    pdf_storage_key: str | None = None
    pdf_error: str | None = None
    id: int | None = field(default=None)


def complete_pdf(report: TaxReport, generation: int, storage_key: str, now: datetime) -> bool:
    """Record the stored PDF of this generation; False (nothing changes) when stale or done."""
    if generation != report.pdf_generation or report.pdf_status != PdfStatus.PENDING.value:
        return False
    report.pdf_status = PdfStatus.READY.value
    report.pdf_storage_key = storage_key
    report.pdf_error = None
    report.updated_at = now
    return True


def fail_pdf(report: TaxReport, generation: int, error: str, final: bool, now: datetime) -> bool:
    """Record a failed render of this generation; final failures mark the PDF failed."""
    if generation != report.pdf_generation or report.pdf_status != PdfStatus.PENDING.value:
        return False
    report.pdf_error = error[:1000]
    if final:
        report.pdf_status = PdfStatus.FAILED.value
    report.updated_at = now
    return True
