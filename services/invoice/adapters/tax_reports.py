"""The tax_reports table and the repository that reads, sums and writes monthly reports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    Row,
    String,
    Table,
    Text,
    UniqueConstraint,
    cast,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.invoice.adapters.orm import businesses, invoices, metadata, outbox
from services.invoice.domain.model import Business, PdfStatus
from services.invoice.domain.tax_report import (
    CurrencyTotal,
    Month,
    TaxReport,
    totals_from_json,
    totals_to_json,
)

tax_reports = Table(
    "tax_reports",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("business_id", BigInteger, ForeignKey("businesses.id"), nullable=False),
    Column("month", String(7), nullable=False),
    Column("invoice_count", Integer, nullable=False),
    Column("totals", JSONB, nullable=False),
    Column("pdf_status", String(16), nullable=False),
    Column("pdf_generation", Integer, nullable=False),
    Column("pdf_storage_key", Text, nullable=True),
    Column("pdf_error", Text, nullable=True),
    Column("built_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("business_id", "month", name="uq_tax_reports_business_month"),
)


def _report(row: Row[Any]) -> TaxReport:
    return TaxReport(
        business_id=row.business_id,
        month=row.month,
        invoice_count=row.invoice_count,
        totals=totals_from_json(row.totals),
        built_at=row.built_at,
        updated_at=row.updated_at,
        pdf_status=row.pdf_status,
        pdf_generation=row.pdf_generation,
        pdf_storage_key=row.pdf_storage_key,
        pdf_error=row.pdf_error,
        id=row.id,
    )


class MonthAmounts:
    """One month's invoices per business: how many, and their sums per currency."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.amounts: dict[int, list[CurrencyTotal]] = {}

    def add(self, business_id: int, count: int, amount: CurrencyTotal) -> None:
        self.counts[business_id] = self.counts.get(business_id, 0) + count
        self.amounts.setdefault(business_id, []).append(amount)

    def of(self, business_id: int) -> tuple[int, list[CurrencyTotal]]:
        return self.counts.get(business_id, 0), self.amounts.get(business_id, [])


class TaxReportRepository:
    """Monthly reports, one row per business and month, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def month_amounts(self, month: Month, business_id: int | None = None) -> MonthAmounts:
        """Invoices created in the month, counted and summed in the database per currency."""
        stmt = (
            select(
                invoices.c.business_id,
                invoices.c.currency,
                func.count().label("invoices"),
                func.sum(invoices.c.subtotal).label("subtotal"),
                func.sum(invoices.c.tax).label("tax"),
                func.sum(invoices.c.amount).label("total"),
            )
            .where(invoices.c.created_at >= month.start, invoices.c.created_at < month.end)
            .group_by(invoices.c.business_id, invoices.c.currency)
        )
        if business_id is not None:
            stmt = stmt.where(invoices.c.business_id == business_id)
        found = MonthAmounts()
        for row in await self._session.execute(stmt):
            found.add(
                row.business_id,
                int(row.invoices),
                CurrencyTotal(row.currency, row.subtotal, row.tax, row.total),
            )
        return found

    async def businesses_created_before(self, instant: datetime) -> list[Business]:
        stmt = select(Business).where(businesses.c.created_at < instant).order_by(businesses.c.id)
        return list((await self._session.scalars(stmt)).all())

    async def upsert(
        self,
        business_id: int,
        month: Month,
        invoice_count: int,
        totals: list[CurrencyTotal],
        now: datetime,
    ) -> TaxReport:
        """Write the report's figures; a rebuild replaces them and starts a new PDF generation."""
        values = {
            "business_id": business_id,
            "month": str(month),
            "invoice_count": invoice_count,
            "totals": totals_to_json(totals),
            "pdf_status": PdfStatus.PENDING.value,
            "pdf_generation": 1,
            "pdf_storage_key": None,
            "pdf_error": None,
            "built_at": now,
            "updated_at": now,
        }
        insert = pg_insert(tax_reports).values(**values)
        stmt = insert.on_conflict_do_update(
            constraint="uq_tax_reports_business_month",
            set_={
                **{
                    name: insert.excluded[name]
                    for name in values
                    if name not in ("business_id", "month", "pdf_generation")
                },
                "pdf_generation": tax_reports.c.pdf_generation + literal(1),
            },
        ).returning(*tax_reports.c)
        return _report((await self._session.execute(stmt)).one())

    async def get(self, business_id: int, month: Month) -> TaxReport | None:
        stmt = select(tax_reports).where(
            tax_reports.c.business_id == business_id, tax_reports.c.month == str(month)
        )
        row = (await self._session.execute(stmt)).first()
        return _report(row) if row else None

    async def get_for_update(self, report_id: int) -> TaxReport | None:
        """The report, locked until the transaction ends."""
        stmt = select(tax_reports).where(tax_reports.c.id == report_id).with_for_update()
        row = (await self._session.execute(stmt)).first()
        return _report(row) if row else None

    async def save_pdf_state(self, report: TaxReport) -> None:
        await self._session.execute(
            update(tax_reports)
            .where(tax_reports.c.id == report.id)
            .values(
                pdf_status=report.pdf_status,
                pdf_storage_key=report.pdf_storage_key,
                pdf_error=report.pdf_error,
                updated_at=report.updated_at,
            )
        )

    async def stuck_pending(
        self, actor: str, cutoff: datetime, limit: int = 1000
    ) -> list[tuple[TaxReport, Business]]:
        """Reports whose PDF is pending since before `cutoff` with no job waiting in the
        outbox (its message was lost), locked; each with its business."""
        queued = exists().where(
            outbox.c.actor == actor,
            outbox.c.payload["report_id"].astext == cast(tax_reports.c.id, Text),
        )
        stmt = (
            select(tax_reports)
            .where(
                tax_reports.c.pdf_status == PdfStatus.PENDING.value,
                tax_reports.c.updated_at < cutoff,
                ~queued,
            )
            .order_by(tax_reports.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        found = [_report(row) for row in await self._session.execute(stmt)]
        if not found:
            return []
        ids = {r.business_id for r in found}
        owners = {
            b.id: b
            for b in await self._session.scalars(select(Business).where(businesses.c.id.in_(ids)))
        }
        return [(r, owners[r.business_id]) for r in found]

    async def touch(self, report_id: int, now: datetime) -> None:
        """Mark the report as handled now, so one sweep does not queue it again at once."""
        await self._session.execute(
            update(tax_reports).where(tax_reports.c.id == report_id).values(updated_at=now)
        )
