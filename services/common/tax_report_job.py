"""The report render job's message: everything the worker prints, written by the invoice
service and read by the renderer, so neither needs the other's database or code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReportTotal:
    """One currency's line on the report: decimal strings with two places."""

    currency: str
    subtotal: str
    tax: str
    total: str


@dataclass(frozen=True)
class TaxReportJob:
    """One PDF generation of one business's report for one month."""

    report_id: int
    generation: int
    business_id: str
    business_name: str
    month: str
    invoice_count: int
    totals: tuple[ReportTotal, ...]
    built_at: str

    def to_payload(self) -> dict[str, Any]:
        """The JSON the job carries (no secrets: figures the business already sees)."""
        return {
            "report_id": self.report_id,
            "generation": self.generation,
            "business_id": self.business_id,
            "business_name": self.business_name,
            "month": self.month,
            "invoice_count": self.invoice_count,
            "totals": [
                {"currency": t.currency, "subtotal": t.subtotal, "tax": t.tax, "total": t.total}
                for t in self.totals
            ],
            "built_at": self.built_at,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TaxReportJob:
        """The job back from its JSON; a malformed one raises KeyError, TypeError or ValueError."""
        return cls(
            report_id=int(payload["report_id"]),
            generation=int(payload["generation"]),
            business_id=str(payload["business_id"]),
            business_name=str(payload["business_name"]),
            month=str(payload["month"]),
            invoice_count=int(payload["invoice_count"]),
            totals=tuple(
                ReportTotal(str(t["currency"]), str(t["subtotal"]), str(t["tax"]), str(t["total"]))
                for t in payload["totals"]
            ),
            built_at=str(payload["built_at"]),
        )

    def storage_key(self) -> str:
        """One object per business, month and PDF generation: a rerun lands on the same key."""
        return f"reports/{self.business_id}/tax-{self.month}/g{self.generation}.pdf"
