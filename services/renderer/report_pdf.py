"""Tax report to PDF bytes: its own template in the invoice's look, rendered in a child process.

Reports are rare (one per business a month), so each render forks a fresh process from the
render pool's warm fork server instead of holding processes of its own; the child can be
killed at the hard time limit like any render process, and the worker's threads never run
WeasyPrint themselves.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import jinja2
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from services.common.tax_report_job import TaxReportJob
from services.renderer.formatting import MONTHS, format_money
from services.renderer.pdf import BASE_URL, bundled_assets, parse_stylesheet, template_environment
from services.renderer.render_pool import PermanentRenderError, RenderError, RenderTimeout
from services.renderer.url_fetcher import BundleUrlFetcher

STYLESHEETS = ("user_agent.css", "invoice.css")


class ReportTemplateError(Exception):
    """The template cannot render this report: permanent, retrying will not help."""


@dataclass(frozen=True)
class _TotalRow:
    currency: str
    subtotal: str
    tax: str
    total: str


@dataclass(frozen=True)
class ReportView:
    """The report as the template prints it: every value already text."""

    business_name: str
    month: str
    month_label: str
    facts: list[str]
    summary: str
    totals: list[_TotalRow]
    basis: str


def report_view(job: TaxReportJob) -> ReportView:
    """Words and formatted amounts for one report."""
    year, month = (int(part) for part in job.month.split("-"))
    label = f"{MONTHS[month - 1]} {year}"
    built = dt.datetime.fromisoformat(job.built_at).astimezone(dt.UTC)
    count = job.invoice_count
    return ReportView(
        business_name=job.business_name,
        month=job.month,
        month_label=label,
        facts=[f"Built {built:%Y-%m-%d %H:%M} UTC", f"Business {job.business_id}"],
        summary=f"{count} invoice{'' if count == 1 else 's'} created in {label}",
        totals=[
            _TotalRow(
                t.currency,
                format_money(t.subtotal, t.currency),
                format_money(t.tax, t.currency),
                format_money(t.total, t.currency),
            )
            for t in job.totals
        ],
        basis=(
            f"Every invoice created from 1 {label} 00:00 UTC up to the start of the next "
            "month, summed per currency: subtotal, tax and total as invoiced."
            if job.totals
            else f"No invoices were created in {label} (UTC)."
        ),
    )


class TaxReportPdfRenderer:
    """Renders tax reports to PDF with the invoice's fonts and stylesheet. Not thread-safe."""

    def __init__(self) -> None:
        self._fetcher = BundleUrlFetcher.from_files(bundled_assets())
        self._font_config = FontConfiguration()
        self._template = template_environment().get_template("tax_report.html")
        self._stylesheets = [
            parse_stylesheet(name, self._fetcher, self._font_config) for name in STYLESHEETS
        ]

    def render_html(self, job: TaxReportJob) -> str:
        try:
            return self._template.render(r=report_view(job))
        except (jinja2.TemplateError, ValueError, IndexError) as error:
            raise ReportTemplateError(f"tax report template failed: {error}") from error

    def render(self, job: TaxReportJob) -> bytes:
        """The report as PDF bytes."""
        document = HTML(string=self.render_html(job), base_url=BASE_URL, url_fetcher=self._fetcher)
        pdf = document.write_pdf(stylesheets=self._stylesheets, font_config=self._font_config)
        if pdf is None:  # only when given a target
            raise RenderError("WeasyPrint returned no PDF")
        return pdf


def _child_main(conn: Connection, payload: dict[str, Any]) -> None:
    """One render in a fresh process: the PDF, or the error, back over the pipe."""
    try:
        conn.send(("ok", TaxReportPdfRenderer().render(TaxReportJob.from_payload(payload))))
    except ReportTemplateError as exc:
        conn.send(("permanent", str(exc)))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def render_report_pdf(
    job: TaxReportJob, hard_limit: float, start_method: str = "forkserver"
) -> bytes:
    """Render in a child process, killed if it overruns `hard_limit` seconds."""
    context: Any = multiprocessing.get_context(start_method)
    parent, child = context.Pipe()
    process = context.Process(
        target=_child_main, args=(child, job.to_payload()), daemon=True, name="suoops-report"
    )
    process.start()
    child.close()
    try:
        if not parent.poll(hard_limit):
            process.kill()
            raise RenderTimeout(f"report render killed after its hard limit of {hard_limit:g}s")
        try:
            status, value = parent.recv()
        except (EOFError, OSError) as exc:
            raise RenderError("the report render process died") from exc
    finally:
        parent.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    if status == "ok":
        return bytes(value)
    if status == "permanent":
        raise PermanentRenderError(value)
    raise RenderError(value)
