"""Monthly tax reports: built on demand or by the scheduler, their PDFs queued and reported."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.common.queues import PDF_GENERATION, RENDER_TAX_REPORT_ACTOR
from services.common.tax_report_job import ReportTotal, TaxReportJob
from services.invoice.adapters.tax_reports import MonthAmounts, TaxReportRepository
from services.invoice.domain import tax_report
from services.invoice.domain.errors import FieldError, InvalidInput, NotFound
from services.invoice.domain.model import Business
from services.invoice.domain.tax_report import Month, TaxReport, parse_month
from services.invoice.service_layer.invoices import utc_now
from services.invoice.service_layer.unit_of_work import UnitOfWork

MONTHLY_TAX_REPORTS = "monthly_tax_reports"


def report_job(report: TaxReport, business: Business) -> TaxReportJob:
    """The render job for the report's current PDF generation."""
    assert report.id is not None
    return TaxReportJob(
        report_id=report.id,
        generation=report.pdf_generation,
        business_id=business.public_id,
        business_name=business.name,
        month=report.month,
        invoice_count=report.invoice_count,
        totals=tuple(ReportTotal(**item) for item in tax_report.totals_to_json(report.totals)),
        built_at=report.built_at.isoformat(),
    )


async def _build(
    uow: UnitOfWork,
    reports: TaxReportRepository,
    business: Business,
    month: Month,
    amounts: MonthAmounts,
    now: datetime,
) -> TaxReport:
    """Write the business's figures and queue their PDF, in the caller's transaction."""
    assert business.id is not None
    count, parts = amounts.of(business.id)
    report = await reports.upsert(
        business.id, month, count, tax_report.totals_by_currency(parts), now
    )
    await uow.outbox.add(
        PDF_GENERATION.name,
        RENDER_TAX_REPORT_ACTOR,
        report_job(report, business).to_payload(),
        available_at=now,
    )
    return report


async def build_tax_report(
    uow: UnitOfWork, business_id: int, month_text: str, clock: Callable[[], datetime] = utc_now
) -> TaxReport:
    """Build (or rebuild) one business's report for a month, and queue a new PDF of it."""
    month = parse_month(month_text)
    now = clock()
    if month > Month.of(now):
        raise InvalidInput([FieldError("month", "must not be a month still to come")])
    async with uow:
        business = await uow.businesses.get(business_id)
        if business is None:
            raise NotFound("no such business")
        reports = TaxReportRepository(uow.session)
        amounts = await reports.month_amounts(month, business_id)
        report = await _build(uow, reports, business, month, amounts, now)
        await uow.commit()
    return report


async def get_tax_report(uow: UnitOfWork, business_id: int, month_text: str) -> TaxReport:
    """The report as last built; NotFound before it is built."""
    month = parse_month(month_text)
    async with uow:
        report = await TaxReportRepository(uow.session).get(business_id, month)
    if report is None:
        raise NotFound(f"no tax report for {month} yet")
    return report


async def build_monthly_tax_reports(uow: UnitOfWork, period: str, now: datetime) -> str:
    """The scheduled job: every business's report for the month `period` names.

    Runs inside the caller's open transaction (the one that claims the period), so the
    reports, their jobs and the claim commit together or not at all.
    """
    month = parse_month(period, "period")
    reports = TaxReportRepository(uow.session)
    amounts = await reports.month_amounts(month)
    # Every business that existed in the month, and any that invoiced in it.
    owners = {b.id: b for b in await reports.businesses_created_before(month.end)}
    missing = set(amounts.counts) - set(owners)
    for business_id in sorted(missing):
        business = await uow.businesses.get(business_id)
        if business is not None:
            owners[business_id] = business
    for business_id in sorted(b for b in owners if b is not None):
        await _build(uow, reports, owners[business_id], month, amounts, now)
    return f"built {len(owners)} tax report(s) for {month}"


async def complete_report_render(
    uow: UnitOfWork,
    report_id: int,
    generation: int,
    storage_key: str,
    clock: Callable[[], datetime] = utc_now,
) -> bool:
    """Record the report's stored PDF; a stale or duplicate callback changes nothing."""
    return await _change_report_pdf(
        uow,
        report_id,
        lambda report: tax_report.complete_pdf(report, generation, storage_key, clock()),
    )


async def fail_report_render(
    uow: UnitOfWork,
    report_id: int,
    generation: int,
    error: str,
    final: bool,
    clock: Callable[[], datetime] = utc_now,
) -> bool:
    """Record a failed report render; the last one marks the PDF failed."""
    return await _change_report_pdf(
        uow,
        report_id,
        lambda report: tax_report.fail_pdf(report, generation, error, final, clock()),
    )


async def _change_report_pdf(
    uow: UnitOfWork, report_id: int, change: Callable[[TaxReport], bool]
) -> bool:
    """Apply a domain change to the report's PDF state under its row lock; False if none."""
    async with uow:
        reports = TaxReportRepository(uow.session)
        report = await reports.get_for_update(report_id)
        if report is None:
            raise NotFound("no such tax report")
        if not change(report):
            return False
        await reports.save_pdf_state(report)
        await uow.commit()
    return True


async def requeue_stuck_report_renders(uow: UnitOfWork, cutoff: datetime, now: datetime) -> int:
    """Queue again the PDF of every report pending since before `cutoff` with no job waiting
    (Redis lost its message); in the caller's open transaction. Returns how many."""
    reports = TaxReportRepository(uow.session)
    stuck = await reports.stuck_pending(RENDER_TAX_REPORT_ACTOR, cutoff)
    for report, business in stuck:
        assert report.id is not None
        await reports.touch(report.id, now)
        await uow.outbox.add(
            PDF_GENERATION.name,
            RENDER_TAX_REPORT_ACTOR,
            report_job(report, business).to_payload(),
            available_at=now,
        )
    return len(stuck)
