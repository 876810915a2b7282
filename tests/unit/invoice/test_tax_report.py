"""Tax report rules: months, their UTC bounds, exact totals per currency, the PDF's state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from services.common.tax_report_job import ReportTotal, TaxReportJob
from services.invoice.domain.errors import InvalidInput
from services.invoice.domain.tax_report import (
    CurrencyTotal,
    Month,
    TaxReport,
    complete_pdf,
    fail_pdf,
    parse_month,
    totals_by_currency,
    totals_from_json,
    totals_to_json,
)

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_a_month_written_yyyy_mm_parses_and_prints_back() -> None:
    assert parse_month("2026-11") == Month(2026, 11)
    assert str(parse_month("2026-01")) == "2026-01"


@pytest.mark.parametrize(
    "text", ["", "2026-13", "2026-00", "2026-1", "26-11", "2026/11", " 2026-11", "2026-11-01", "x"]
)
def test_a_malformed_month_is_refused_naming_the_month_field(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_month(text)
    assert [f.field for f in caught.value.fields] == ["month"]


def test_the_field_named_in_a_month_error_can_be_chosen() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_month("November", "period")
    assert caught.value.fields[0].field == "period"


def test_a_month_spans_its_utc_days_up_to_the_first_instant_of_the_next() -> None:
    november = Month(2026, 11)
    assert november.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert november.end == datetime(2026, 12, 1, tzinfo=UTC)
    assert Month(2026, 12).end == datetime(2027, 1, 1, tzinfo=UTC)
    assert Month(2027, 1).previous() == Month(2026, 12)


def test_the_month_of_an_instant_is_taken_in_utc() -> None:
    lagos_new_year = datetime(2027, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert Month.of(lagos_new_year) == Month(2026, 12)


def test_totals_are_exact_sums_per_currency_in_currency_order() -> None:
    parts = [
        CurrencyTotal("NGN", Decimal("0.10"), Decimal("0.01"), Decimal("0.11")),
        CurrencyTotal("USD", Decimal("5.00"), Decimal("0.38"), Decimal("5.38")),
        CurrencyTotal("NGN", Decimal("0.20"), Decimal("0.02"), Decimal("0.22")),
        CurrencyTotal("EUR", Decimal("99999999999.99"), Decimal("0"), Decimal("99999999999.99")),
        CurrencyTotal("EUR", Decimal("0.01"), Decimal("0"), Decimal("0.01")),
    ]
    totals = totals_by_currency(parts)
    assert [t.currency for t in totals] == ["EUR", "NGN", "USD"]
    assert totals_to_json(totals) == [
        {
            "currency": "EUR",
            "subtotal": "100000000000.00",
            "tax": "0.00",
            "total": "100000000000.00",
        },
        {"currency": "NGN", "subtotal": "0.30", "tax": "0.03", "total": "0.33"},
        {"currency": "USD", "subtotal": "5.00", "tax": "0.38", "total": "5.38"},
    ]


def test_no_invoices_give_no_totals() -> None:
    assert totals_by_currency([]) == []


def test_totals_survive_their_stored_form_exactly() -> None:
    totals = [CurrencyTotal("NGN", Decimal("1234.50"), Decimal("92.59"), Decimal("1327.09"))]
    assert totals_from_json(totals_to_json(totals)) == totals


def _report(generation: int = 2) -> TaxReport:
    return TaxReport(1, "2026-11", 3, [], NOW, NOW, pdf_generation=generation, id=7)


def test_a_completed_render_of_the_current_generation_makes_the_pdf_ready_once() -> None:
    report = _report()
    assert complete_pdf(report, 2, "reports/b/tax-2026-11/g2.pdf", NOW)
    assert (report.pdf_status, report.pdf_storage_key) == ("ready", "reports/b/tax-2026-11/g2.pdf")
    assert not complete_pdf(report, 2, "elsewhere.pdf", NOW)
    assert report.pdf_storage_key == "reports/b/tax-2026-11/g2.pdf"


def test_a_stale_generation_changes_nothing() -> None:
    report = _report()
    assert not complete_pdf(report, 1, "old.pdf", NOW)
    assert not fail_pdf(report, 1, "boom", True, NOW)
    assert (report.pdf_status, report.pdf_storage_key, report.pdf_error) == ("pending", None, None)


def test_only_the_last_failed_attempt_marks_the_pdf_failed() -> None:
    report = _report()
    assert fail_pdf(report, 2, "S3 down", False, NOW)
    assert (report.pdf_status, report.pdf_error) == ("pending", "S3 down")
    assert fail_pdf(report, 2, "S3 still down", True, NOW)
    assert (report.pdf_status, report.pdf_error) == ("failed", "S3 still down")


def test_a_report_job_survives_its_message_form_and_names_a_key_per_generation() -> None:
    job = TaxReportJob(
        7, 3, "biz_1", "Ada's Fabrics", "2026-11", 2,
        (ReportTotal("NGN", "10.00", "0.75", "10.75"),), NOW.isoformat(),
    )  # fmt: skip
    assert TaxReportJob.from_payload(job.to_payload()) == job
    assert job.storage_key() == "reports/biz_1/tax-2026-11/g3.pdf"
