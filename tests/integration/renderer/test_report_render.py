"""Tax report renders in a child process: a PDF, a kill at the hard limit, permanent errors."""

from __future__ import annotations

import dataclasses
import multiprocessing

import pytest

from services.common.tax_report_job import ReportTotal, TaxReportJob
from services.renderer.render_pool import PermanentRenderError, RenderTimeout
from services.renderer.report_pdf import render_report_pdf

pytestmark = pytest.mark.integration

JOB = TaxReportJob(
    report_id=1,
    generation=3,
    business_id="biz_1",
    business_name="Kemi Stores",
    month="2026-10",
    invoice_count=1,
    totals=(ReportTotal("NGN", "1000.00", "75.00", "1075.00"),),
    built_at="2026-12-01T02:00:00+00:00",
)


def _report_children() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "suoops-report"]


def test_a_report_renders_to_a_pdf_in_a_child_process_that_then_exits() -> None:
    pdf = render_report_pdf(JOB, hard_limit=120)
    assert pdf.startswith(b"%PDF-")
    assert _report_children() == []


def test_a_report_render_past_its_hard_limit_is_killed_and_may_be_retried() -> None:
    # No render finishes within a millisecond of its process starting.
    with pytest.raises(RenderTimeout):
        render_report_pdf(JOB, hard_limit=0.001)
    assert _report_children() == []


def test_a_report_the_template_cannot_print_fails_permanently() -> None:
    with pytest.raises(PermanentRenderError):
        render_report_pdf(dataclasses.replace(JOB, month="2026-13"), hard_limit=120)
