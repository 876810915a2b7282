"""The tax report PDF: its figures in the invoice's look, markup printed as text."""

from __future__ import annotations

import dataclasses

import pytest

from services.common.tax_report_job import ReportTotal, TaxReportJob
from services.renderer.report_pdf import ReportTemplateError, TaxReportPdfRenderer
from tests.unit.renderer.conftest import pdf_text

pytestmark = pytest.mark.unit

JOB = TaxReportJob(
    report_id=7,
    generation=1,
    business_id="biz_123",
    business_name="Ọlá's <b>Fabrics</b>",
    month="2026-10",
    invoice_count=4,
    totals=(
        ReportTotal("GHS", "0.49", "0.06", "0.55"),
        ReportTotal("NGN", "6499.97", "487.50", "6987.47"),
        ReportTotal("USD", "99.90", "9.99", "109.89"),
    ),
    built_at="2026-12-01T02:00:03+00:00",
)


@pytest.fixture(scope="module")
def report_renderer() -> TaxReportPdfRenderer:
    return TaxReportPdfRenderer()


def test_the_report_pdf_shows_the_business_month_count_and_every_currency_total(
    report_renderer: TaxReportPdfRenderer,
) -> None:
    pdf = report_renderer.render(JOB)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for expected in (
        "Ọlá's <b>Fabrics</b>",
        "October 2026",
        "4 invoices created in October 2026",
        "Built 2026-12-01 02:00 UTC",
        "GH₵0.55",
        "₦6,499.97",
        "₦487.50",
        "₦6,987.47",
        "$109.89",
    ):
        assert expected in text, expected


def test_markup_in_the_business_name_is_printed_as_text(
    report_renderer: TaxReportPdfRenderer,
) -> None:
    html = report_renderer.render_html(JOB)
    assert "&lt;b&gt;Fabrics&lt;/b&gt;" in html
    assert "<b>Fabrics" not in html


def test_a_month_without_invoices_says_so(report_renderer: TaxReportPdfRenderer) -> None:
    empty = dataclasses.replace(JOB, invoice_count=0, totals=())
    text = pdf_text(report_renderer.render(empty))
    assert "0 invoices created in October 2026" in text
    assert "No invoices were created in October 2026" in text


def test_a_job_with_an_impossible_month_is_a_template_error(
    report_renderer: TaxReportPdfRenderer,
) -> None:
    with pytest.raises(ReportTemplateError):
        report_renderer.render_html(dataclasses.replace(JOB, month="2026-13"))
