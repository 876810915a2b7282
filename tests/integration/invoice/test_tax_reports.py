"""Monthly tax reports on a real PostgreSQL: exact totals, one row per month, PDF callbacks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from services.common.queues import RENDER_TAX_REPORT_ACTOR
from services.common.tax_report_job import TaxReportJob
from services.invoice.bootstrap import InvoiceApp
from services.invoice.domain.errors import InvalidInput, NotFound
from services.invoice.domain.model import Invoice
from services.invoice.domain.rules import InvoiceDraft, LineDraft
from services.invoice.service_layer import invoices, maintenance, reports
from tests.conftest import Tenant, count_rows, new_business

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

POLICY = maintenance.MaintenancePolicy(
    render_stuck_after=timedelta(minutes=15), idempotency_key_ttl=timedelta(hours=48)
)
# (currency, quantity, unit price, tax rate, created at): three currencies, odd cents.
INVOICES = [
    ("NGN", "3", "1999.99", "7.5", datetime(2026, 10, 1, 0, 0, tzinfo=UTC)),
    ("NGN", "1.5", "333.33", "7.5", datetime(2026, 10, 15, 12, 0, tzinfo=UTC)),
    ("USD", "2", "49.95", "10", datetime(2026, 10, 20, 8, 30, tzinfo=UTC)),
    ("GHS", "7", "0.07", "12.5", datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)),
    ("USD", "1", "1000.00", "0", datetime(2026, 10, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    # Outside October: the last instant of September and the first of November.
    ("NGN", "1", "500000.00", "7.5", datetime(2026, 9, 30, 23, 59, 59, 999999, tzinfo=UTC)),
    ("EUR", "1", "70.00", "20", datetime(2026, 11, 1, 0, 0, tzinfo=UTC)),
]


async def _invoice_at(
    app: InvoiceApp, database_url: str, business: Tenant, spec: tuple[str, ...], at: datetime
) -> Invoice:
    currency, quantity, price, rate = spec
    created = await invoices.create_invoice(
        app.autocommit_unit_of_work(),
        app.creator,
        business.business_id,
        InvoiceDraft(
            customer_name="Customer",
            currency=currency,
            lines=[LineDraft("Goods", quantity, price)],
            tax_rate=rate,
        ),
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE invoices SET created_at = %s WHERE invoice_id = %s",
            (at, created.invoice.invoice_id),
        )
    return created.invoice


def _expected_october(made: list[tuple[Invoice, datetime]]) -> list[dict[str, str]]:
    """The test's own sum: plain Python over the invoices it placed in October."""
    sums: dict[str, list[Decimal]] = {}
    for invoice, at in made:
        if (at.year, at.month) != (2026, 10):
            continue
        s = sums.setdefault(invoice.currency, [Decimal(0)] * 3)
        s[0] += invoice.subtotal
        s[1] += invoice.tax
        s[2] += invoice.amount
    return [
        {"currency": c, "subtotal": f"{s[0]:.2f}", "tax": f"{s[1]:.2f}", "total": f"{s[2]:.2f}"}
        for c, s in sorted(sums.items())
    ]


async def _seed(app: InvoiceApp, database_url: str, business: Tenant) -> list[dict[str, str]]:
    made = []
    for *spec, at in INVOICES:
        made.append((await _invoice_at(app, database_url, business, tuple(spec), at), at))
    return _expected_october(made)


def _as_json(report: reports.TaxReport) -> list[dict[str, str]]:
    from services.invoice.domain.tax_report import totals_to_json

    return totals_to_json(report.totals)


async def test_a_built_report_totals_october_per_currency_and_leaves_out_other_months(
    invoice_app: InvoiceApp, database_url: str
) -> None:
    tenant = await new_business(invoice_app, "Totals Ltd")
    expected = await _seed(invoice_app, database_url, tenant)
    report = await reports.build_tax_report(
        invoice_app.unit_of_work(), tenant.business_id, "2026-10"
    )
    assert report.invoice_count == 5
    assert _as_json(report) == expected
    assert [t["currency"] for t in expected] == ["GHS", "NGN", "USD"]
    stored = await reports.get_tax_report(invoice_app.unit_of_work(), tenant.business_id, "2026-10")
    assert (stored.invoice_count, _as_json(stored), stored.pdf_status) == (5, expected, "pending")


async def test_a_report_is_not_found_before_it_is_built(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    with pytest.raises(NotFound):
        await reports.get_tax_report(invoice_app.unit_of_work(), business.business_id, "2025-03")


async def test_a_month_still_to_come_or_malformed_is_refused_naming_month(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    for month in ("2999-01", "2026-13", "last month"):
        with pytest.raises(InvalidInput) as caught:
            await reports.build_tax_report(invoice_app.unit_of_work(), business.business_id, month)
        assert [f.field for f in caught.value.fields] == ["month"]


async def test_rebuilding_replaces_the_figures_in_one_row_and_queues_a_new_pdf_generation(
    invoice_app: InvoiceApp, database_url: str
) -> None:
    tenant = await new_business(invoice_app, "Rebuild Ltd")
    first = await reports.build_tax_report(
        invoice_app.unit_of_work(), tenant.business_id, "2026-10"
    )
    assert (first.invoice_count, first.totals, first.pdf_generation) == (0, [], 1)
    await _invoice_at(
        invoice_app,
        database_url,
        tenant,
        ("NGN", "2", "10.00", "7.5"),
        datetime(2026, 10, 5, tzinfo=UTC),
    )
    second = await reports.build_tax_report(
        invoice_app.unit_of_work(), tenant.business_id, "2026-10"
    )
    assert (second.id, second.invoice_count, second.pdf_generation) == (first.id, 1, 2)
    assert _as_json(second) == [
        {"currency": "NGN", "subtotal": "20.00", "tax": "1.50", "total": "21.50"}
    ]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM tax_reports WHERE business_id = %s", (tenant.business_id,)
        ).fetchone()
        jobs = conn.execute(
            "SELECT payload FROM outbox WHERE actor = %s AND (payload->>'report_id')::bigint = %s"
            " ORDER BY id",
            (RENDER_TAX_REPORT_ACTOR, first.id),
        ).fetchall()
    assert rows == (1,)
    queued = [TaxReportJob.from_payload(payload) for (payload,) in jobs]
    assert [(j.generation, j.invoice_count, j.business_name) for j in queued] == [
        (1, 0, "Rebuild Ltd"),
        (2, 1, "Rebuild Ltd"),
    ]


async def test_the_monthly_job_run_by_two_schedulers_at_once_builds_each_report_once(
    invoice_app: InvoiceApp, database_url: str
) -> None:
    # An October invoicer, a business older than October that sent none, one made since.
    tenants = [await new_business(invoice_app, f"Job Shop {n}") for n in range(3)]
    expected = await _seed(invoice_app, database_url, tenants[0])
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE businesses SET created_at = '2026-01-01T00:00:00Z' WHERE id = %s",
            (tenants[1].business_id,),
        )
    before = count_rows(database_url, "tax_reports")
    results = await asyncio.gather(
        *(
            maintenance.run_scheduled_job(
                invoice_app.unit_of_work(), reports.MONTHLY_TAX_REPORTS, "2026-10", POLICY
            )
            for _ in range(4)
        )
    )
    assert sorted(ran for ran, _ in results) == [False, False, False, True]
    with psycopg.connect(database_url) as conn:
        per_business = conn.execute(
            "SELECT business_id, count(*) FROM tax_reports WHERE month = '2026-10'"
            " GROUP BY business_id HAVING count(*) > 1"
        ).fetchall()
        jobs = conn.execute(
            "SELECT count(*) FROM outbox WHERE actor = %s AND payload->>'month' = '2026-10'"
            " AND payload->>'business_id' = %s",
            (RENDER_TAX_REPORT_ACTOR, tenants[1].public_id),
        ).fetchone()
    assert per_business == []
    assert count_rows(database_url, "tax_reports") > before
    assert jobs == (1,)  # one PDF job per report, however many schedulers asked
    busy = await reports.get_tax_report(
        invoice_app.unit_of_work(), tenants[0].business_id, "2026-10"
    )
    quiet = await reports.get_tax_report(
        invoice_app.unit_of_work(), tenants[1].business_id, "2026-10"
    )
    assert (busy.invoice_count, _as_json(busy)) == (5, expected)
    assert (quiet.invoice_count, quiet.totals) == (0, [])
    with pytest.raises(NotFound):  # it did not exist in October
        await reports.get_tax_report(invoice_app.unit_of_work(), tenants[2].business_id, "2026-10")


async def test_a_malformed_period_builds_nothing_and_leaves_the_period_unclaimed(
    invoice_app: InvoiceApp, database_url: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await maintenance.run_scheduled_job(
            invoice_app.unit_of_work(), reports.MONTHLY_TAX_REPORTS, "2026-XX", POLICY
        )
    assert caught.value.fields[0].field == "period"
    with psycopg.connect(database_url) as conn:
        claimed = conn.execute(
            "SELECT count(*) FROM scheduled_runs WHERE period = '2026-XX'"
        ).fetchone()
    assert claimed == (0,)


async def test_report_render_callbacks_apply_once_per_current_generation(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    uow = invoice_app.unit_of_work
    first = await reports.build_tax_report(uow(), business.business_id, "2026-09")
    second = await reports.build_tax_report(uow(), business.business_id, "2026-09")
    assert second.id is not None and second.pdf_generation == first.pdf_generation + 1
    stale = await reports.complete_report_render(uow(), second.id, first.pdf_generation, "old.pdf")
    assert not stale
    assert await reports.complete_report_render(uow(), second.id, second.pdf_generation, "new.pdf")
    assert not await reports.complete_report_render(
        uow(), second.id, second.pdf_generation, "again.pdf"
    )
    assert not await reports.fail_report_render(
        uow(), second.id, second.pdf_generation, "late failure", True
    )
    ready = await reports.get_tax_report(uow(), business.business_id, "2026-09")
    assert (ready.pdf_status, ready.pdf_storage_key, ready.pdf_error) == ("ready", "new.pdf", None)
    with pytest.raises(NotFound):
        await reports.complete_report_render(uow(), 10**12, 1, "nowhere.pdf")


async def test_a_final_failed_render_marks_the_report_pdf_failed_with_its_error(
    invoice_app: InvoiceApp, business: Tenant
) -> None:
    uow = invoice_app.unit_of_work
    report = await reports.build_tax_report(uow(), business.business_id, "2026-08")
    assert report.id is not None
    assert await reports.fail_report_render(uow(), report.id, 1, "S3 down", False)
    assert (await reports.get_tax_report(uow(), business.business_id, "2026-08")).pdf_status == (
        "pending"
    )
    assert await reports.fail_report_render(uow(), report.id, 1, "S3 still down", True)
    failed = await reports.get_tax_report(uow(), business.business_id, "2026-08")
    assert (failed.pdf_status, failed.pdf_error) == ("failed", "S3 still down")


async def test_the_sweeper_queues_again_a_report_pdf_whose_job_was_lost_once(
    invoice_app: InvoiceApp, database_url: str
) -> None:
    tenant = await new_business(invoice_app, "Lost Job Ltd")
    report = await reports.build_tax_report(
        invoice_app.unit_of_work(), tenant.business_id, "2026-07"
    )
    with psycopg.connect(database_url, autocommit=True) as conn:
        # The relay sent the job and Redis lost it; the PDF never came.
        conn.execute(
            "DELETE FROM outbox WHERE actor = %s AND (payload->>'report_id')::bigint = %s",
            (RENDER_TAX_REPORT_ACTOR, report.id),
        )
        conn.execute(
            "UPDATE tax_reports SET updated_at = now() - interval '1 hour' WHERE id = %s",
            (report.id,),
        )
    for period in ("sweep-1", "sweep-2"):
        ran, detail = await maintenance.run_scheduled_job(
            invoice_app.unit_of_work(), "sweep_stuck_renders", f"report-{period}", POLICY
        )
        assert ran and "tax report render(s)" in detail
    with psycopg.connect(database_url) as conn:
        jobs = conn.execute(
            "SELECT payload FROM outbox WHERE actor = %s AND (payload->>'report_id')::bigint = %s",
            (RENDER_TAX_REPORT_ACTOR, report.id),
        ).fetchall()
    # Queued again once, for the generation still wanted; the second sweep found it waiting.
    assert [TaxReportJob.from_payload(p).generation for (p,) in jobs] == [report.pdf_generation]
    assert TaxReportJob.from_payload(jobs[0][0]).business_name == "Lost Job Ltd"
