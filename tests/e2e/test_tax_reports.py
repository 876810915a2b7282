"""Monthly tax reports over real processes: two schedulers, one report, its PDF, the REST API."""

from __future__ import annotations

import contextlib
import io
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import grpc
import httpx
import psycopg
import pytest
import redis
from pypdf import PdfReader
from suoops.invoice.v1 import invoice_pb2 as pb

from services.common.queues import dead_key
from services.scheduler.schedules import Monthly
from tests.conftest import S3_TEST_CREDENTIALS
from tests.e2e.conftest import ROLE_ARGS, Stack, new_token
from tests.support.processes import free_port
from tests.support.s3_faults import S3FaultProxy

pytestmark = pytest.mark.e2e

# (currency, quantity, unit price, tax rate, where it lands): "in" the reported month,
# "before" it or "after" it (left where it is: created today).
INVOICES = [
    ("NGN", "3", "1999.99", "7.5", "in"),
    ("NGN", "1.5", "333.33", "7.5", "in"),
    ("USD", "2", "49.95", "10", "in"),
    ("GHS", "7", "0.07", "12.5", "in"),
    ("NGN", "1", "900000.00", "7.5", "before"),
    ("EUR", "1", "70.00", "20", "after"),
]


def _create(stack: Stack, currency: str, quantity: str, price: str, rate: str) -> pb.Invoice:
    request = pb.CreateInvoiceRequest(customer_name="Tax Payer", currency=currency, tax_rate=rate)
    request.lines.add(description="Goods", quantity=quantity, unit_price=price)
    with grpc.insecure_channel(stack.invoice_addr) as channel:
        return stack.stub(channel).CreateInvoice(request, metadata=stack.metadata).invoice


def _independent_totals(invoices: list[pb.Invoice]) -> list[dict[str, str]]:
    """The test's own sum of the invoices it put in the month, in plain Python."""
    sums: dict[str, list[Decimal]] = {}
    for invoice in invoices:
        s = sums.setdefault(invoice.currency, [Decimal(0)] * 3)
        s[0] += Decimal(invoice.subtotal)
        s[1] += Decimal(invoice.tax)
        s[2] += Decimal(invoice.amount)
    return [
        {"currency": c, "subtotal": f"{s[0]:.2f}", "tax": f"{s[1]:.2f}", "total": f"{s[2]:.2f}"}
        for c, s in sorted(sums.items())
    ]


def _wait_for_pdf(http: httpx.Client, month: str, stack: Stack, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        response = http.get("/reports/tax", params={"month": month})
        body = response.json()
        if response.status_code == 200 and body["pdf_url"]:
            return body
        if time.monotonic() > deadline:
            logs = {n: stack.group.logs(n)[-3000:] for n in stack.started}
            raise AssertionError(f"report PDF not ready: {response.status_code} {body}; {logs}")
        time.sleep(0.2)


def _pdf_text(url: str) -> str:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_two_schedulers_build_one_report_per_business_whose_totals_and_pdf_are_right(
    make_stack: Callable[..., Stack],
) -> None:
    # Reports due from 00:00 on the 1st, so "last month" is always due whatever today is.
    stack = make_stack(("invoice", "gateway"), TAX_REPORT_DAY="1", TAX_REPORT_HOUR="0")
    month = Monthly(day=1, hour=0).period(datetime.now(UTC))
    assert month is not None
    start = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    made = [(_create(stack, *spec[:4]), spec[4]) for spec in INVOICES]
    quiet_token = new_token(stack.database_url, "Quiet Shop")
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        for n, (invoice, where) in enumerate(made):
            if where != "after":
                at = start + timedelta(hours=n) if where == "in" else start - timedelta(seconds=1)
                conn.execute(
                    "UPDATE invoices SET created_at = %s WHERE invoice_id = %s",
                    (at, invoice.invoice_id),
                )
        # Both businesses existed in the month being reported.
        conn.execute("UPDATE businesses SET created_at = %s", (start - timedelta(days=40),))
    expected = _independent_totals([inv for inv, where in made if where == "in"])
    auth = {"Authorization": f"Bearer {stack.token}"}
    with httpx.Client(base_url=stack.gateway_url, headers=auth, timeout=30) as http:
        missing = http.get("/reports/tax", params={"month": month})
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "not_found"
        for bad in ("2026-13", "October", ""):
            refused = http.get("/reports/tax", params={"month": bad})
            assert refused.status_code == 422, bad
            assert [f["field"] for f in refused.json()["error"]["fields"]] == ["month"]
        future = http.post("/reports/tax", params={"month": "2999-01"})
        assert future.status_code == 422
        assert future.json()["error"]["fields"][0]["field"] == "month"

        # Two schedulers started together: both want last month's reports at once.
        for name in ("scheduler-a", "scheduler-b"):
            stack.group.start(
                name,
                ROLE_ARGS["scheduler"],
                {**stack.env, "SCHEDULER_METRICS_PORT": str(free_port())},
            )
        for name in ("scheduler-a", "scheduler-b"):
            stack.group.wait_log(name, "scheduler running")
            stack.started.append(name)
        stack.start("worker")
        report = _wait_for_pdf(http, month, stack)
        assert report["month"] == month
        assert report["invoice_count"] == 4
        assert report["totals"] == expected
        assert report["pdf_status"] == "ready"
        text = _pdf_text(report["pdf_url"])
        assert month in report["pdf_url"]
        for total in expected:
            assert total["currency"] in text
            for key in ("subtotal", "tax", "total"):
                assert f"{Decimal(total[key]):,.2f}" in text, (key, total, text)
        assert "4 invoices created in" in text

        quiet = httpx.get(
            f"{stack.gateway_url}/reports/tax",
            params={"month": month},
            headers={"Authorization": f"Bearer {quiet_token}"},
        )
        assert quiet.status_code == 200
        assert (quiet.json()["invoice_count"], quiet.json()["totals"]) == (0, [])

        # Built on demand: the same figures, a new PDF generation, still one row.
        rebuilt = http.post("/reports/tax", params={"month": month})
        assert rebuilt.status_code == 202
        assert (rebuilt.json()["totals"], rebuilt.json()["invoice_count"]) == (expected, 4)
        assert rebuilt.json()["pdf_url"] is None
        again = _wait_for_pdf(http, month, stack)
        assert again["pdf_url"] != report["pdf_url"]
        assert "/g2.pdf" in again["pdf_url"]

    with psycopg.connect(stack.database_url) as conn:
        rows = conn.execute(
            "SELECT business_id, month, count(*) FROM tax_reports GROUP BY business_id, month"
        ).fetchall()
        runs = conn.execute(
            "SELECT count(*) FROM scheduled_runs WHERE job = 'monthly_tax_reports'"
        ).fetchone()
    assert sorted(count for _, _, count in rows) == [1, 1]  # one per business, one month
    assert {m for _, m, _ in rows} == {month}
    assert runs == (1,)
    fired = [
        event["ran"]
        for name in ("scheduler-a", "scheduler-b")
        for event in _log_events(stack.group.logs(name))
        if event.get("job") == "monthly_tax_reports" and event.get("period") == month
    ]
    assert sorted(fired) == [False, True]  # each asked once; one of them built


def _log_events(text: str) -> list[dict[str, Any]]:
    events = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if isinstance(event, dict):
                events.append(event)
    return events


@pytest.fixture
def s3_proxy(s3_endpoint: str) -> Iterator[S3FaultProxy]:
    proxy = S3FaultProxy(s3_endpoint)
    yield proxy
    proxy.close()


def _report_row(stack: Stack, month: str) -> tuple[str, int, str | None]:
    with psycopg.connect(stack.database_url) as conn:
        row = conn.execute(
            "SELECT pdf_status, pdf_generation, pdf_error FROM tax_reports WHERE month = %s",
            (month,),
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def _wait_for_status(stack: Stack, month: str, status: str, timeout: float = 90) -> tuple[Any, ...]:
    deadline = time.monotonic() + timeout
    while (row := _report_row(stack, month))[0] != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"report stuck at {row}; {stack.group.logs('worker')[-3000:]}")
        time.sleep(0.2)
    return row


def test_report_uploads_failing_are_retried_then_fail_cleanly_and_a_rebuild_recovers(
    make_stack: Callable[..., Stack], s3_proxy: S3FaultProxy, redis_url: str
) -> None:
    stack = make_stack(
        ("invoice", "gateway", "worker"),
        S3_ENDPOINT_URL=s3_proxy.url,
        S3_MAX_ATTEMPTS="1",
        RENDER_MAX_RETRIES="2",
    )
    month = "2026-06"
    auth = {"Authorization": f"Bearer {stack.token}"}
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.env["S3_ENDPOINT_URL"],
        aws_access_key_id=S3_TEST_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_TEST_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=S3_TEST_CREDENTIALS["AWS_REGION"],
    )

    def stored() -> list[str]:
        listing = s3.list_objects_v2(Bucket=stack.env["S3_BUCKET"], Prefix="reports/")
        return sorted(o["Key"] for o in listing.get("Contents", []))

    with httpx.Client(base_url=stack.gateway_url, headers=auth, timeout=30) as http:
        # Two failed uploads, then one that works: ready, stored once.
        s3_proxy.fail_next_puts = 2
        assert http.post("/reports/tax", params={"month": month}).status_code == 202
        ready = _wait_for_pdf(http, month, stack)
        assert s3_proxy.failed_puts == 2
        assert [key.rsplit("/", 1)[1] for key in stored()] == ["g1.pdf"]
        assert ready["pdf_status"] == "ready"

        # Every upload failing: the retries run out and the PDF is marked failed.
        s3_proxy.fail_all_puts = True
        assert http.post("/reports/tax", params={"month": month}).status_code == 202
        _, generation, error = _wait_for_status(stack, month, "failed")
        assert generation == 2
        assert error is not None and ("ServiceUnavailable" in error or "503" in error)
        failed = http.get("/reports/tax", params={"month": month}).json()
        assert (failed["pdf_status"], failed["pdf_url"]) == ("failed", None)
        assert redis.Redis.from_url(redis_url).zcard(dead_key("pdf_generation")) >= 1

        # Building again once S3 is back gives a new generation that is ready.
        s3_proxy.fail_all_puts = False
        assert http.post("/reports/tax", params={"month": month}).status_code == 202
        again = _wait_for_pdf(http, month, stack)
        assert "/g3.pdf" in again["pdf_url"]
    assert [key.rsplit("/", 1)[1] for key in stored()] == ["g1.pdf", "g3.pdf"]
