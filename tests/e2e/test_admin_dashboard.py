"""The monitoring dashboard in headless Chromium (Debian's, driven by Playwright), on a stack."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright
from suoops.invoice.v1 import invoice_pb2 as pb

from tests.e2e.conftest import Stack
from tests.e2e.test_operations import eventually, scrape, value
from tests.e2e.test_render_faults import create
from tests.support.processes import ROOT
from tests.support.s3_faults import S3FaultProxy

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture
def s3_proxy(s3_endpoint: str) -> Iterator[S3FaultProxy]:
    proxy = S3FaultProxy(s3_endpoint)
    yield proxy
    proxy.close()


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium, headless. Started only once the stack is up: Playwright's sync API
    keeps an event loop running in this thread, where asyncio.run (the stack's setup) fails."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def operator_token(stack: Stack) -> str:
    """`suoops create-operator`, run with the stack's settings; the token it prints."""
    return stack.cli("create-operator", "Night shift").strip()


def pdf_status_over_rest(stack: Stack, invoice_id: str) -> str:
    reply = httpx.get(
        f"{stack.gateway_url}/invoices/{invoice_id}/pdf_status",
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=10,
    )
    reply.raise_for_status()
    return str(reply.json()["pdf_status"])


def test_dashboard_shows_a_failed_render_and_its_retry_button_makes_it_ready(
    make_stack: Callable[..., Stack], s3_proxy: S3FaultProxy
) -> None:
    stack = make_stack(
        ("invoice", "worker", "gateway"),
        S3_ENDPOINT_URL=s3_proxy.url,
        S3_MAX_ATTEMPTS="1",
        RENDER_MAX_RETRIES="0",
    )
    stack.wait_for_pdf(create(stack))
    s3_proxy.fail_all_puts = True
    failing = create(stack, "Ngozi Eze")
    stack.wait_for_pdf(failing, (pb.PDF_STATUS_FAILED,))
    token = operator_token(stack)

    # The invoice service serves queue_depth too (CONTRACT §7), read from Redis at scrape time.
    invoice_metrics = eventually(
        lambda: (
            (s := scrape(stack.env["INVOICE_METRICS_PORT"]))
            and value(s, "queue_depth", queue="pdf_generation", state="dead") == 1
            and s
        )
    )
    assert invoice_metrics, "the invoice service's metrics never showed the dead letter"
    assert value(invoice_metrics, "queue_depth", queue="pdf_generation", state="ready") == 0
    assert ("queue_depth", frozenset({("queue", "email_sending"), ("state", "delayed")})) in (
        invoice_metrics
    )

    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        first = page.goto(f"{stack.gateway_url}/admin?token={token}")
        assert first is not None and first.ok
        assert page.url == f"{stack.gateway_url}/admin"  # the token left the address bar
        (cookie,) = context.cookies()
        assert (cookie["name"], cookie["httpOnly"], cookie["sameSite"]) == (
            "suoops_admin",
            True,
            "Strict",
        )
        assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it

        row = page.locator(f'#failures tr[data-invoice-id="{failing}"]')
        expect(row).to_be_visible(timeout=15_000)
        expect(row).to_contain_text(re.compile("503|ServiceUnavailable"))
        expect(page.locator("#failed-hour")).to_have_text("1")
        expect(page.locator("#chart rect.ready")).not_to_have_count(0)
        expect(page.locator("#chart circle.p95dot")).not_to_have_count(0)
        expect(page.locator("#queues")).to_contain_text("pdf_generation")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "admin-dashboard.png"), full_page=True)

        s3_proxy.fail_all_puts = False
        row.get_by_role("button", name="Retry").click()
        expect(page.locator("#notice")).to_contain_text(f"{failing} queued again")
        deadline = time.monotonic() + 60
        while pdf_status_over_rest(stack, failing) != "ready":
            assert time.monotonic() < deadline, "the retried render never became ready"
            time.sleep(0.2)
        expect(row).to_have_count(0, timeout=15_000)
        expect(page.locator("#failures")).to_contain_text("No failed jobs.")
        # The page refreshes itself: the retried render shows up in the hour's count.
        expect(page.locator("#ready-hour")).to_have_text("2", timeout=15_000)
        page.screenshot(path=str(ARTIFACTS / "admin-dashboard-after-retry.png"), full_page=True)
        context.close()

        outsider = browser.new_context()
        denied = outsider.new_page().goto(f"{stack.gateway_url}/admin?token={stack.token}")
        assert denied is not None and denied.status == 403
        assert outsider.cookies() == []
        outsider.close()
