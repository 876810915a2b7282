"""Markup in any invoice field is printed as text and can make the renderer fetch nothing."""

from __future__ import annotations

from http.server import ThreadingHTTPServer

import pytest
from suoops.invoice.v1 import invoice_pb2
from weasyprint import HTML

from services.renderer.pdf import BASE_URL, InvoicePdfRenderer
from services.renderer.samples import sample_invoice
from services.renderer.url_fetcher import BundleUrlFetcher
from tests.unit.renderer.conftest import pdf_text, squeeze

pytestmark = pytest.mark.unit

FIELDS = ("customer_name", "customer_email", "customer_phone", "notes", "description", "business")


def hostile_values(port: int) -> list[str]:
    """Markup that would fetch from the listener or read a file if it were obeyed."""
    return [
        f'<img src="http://127.0.0.1:{port}/x">',
        '<link href="file:///etc/passwd">',
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/style.css">',
        f"<style>@import url(http://127.0.0.1:{port}/import.css);</style>",
        f'<div style="background: url(http://127.0.0.1:{port}/bg)">x</div>',
        '<object data="file:///etc/passwd"></object>',
        f'<svg><image href="http://127.0.0.1:{port}/svg"/></svg>',
        '<iframe src="data:text/html,<b>hi</b>"></iframe>',
    ]


def invoice_with(field: str, value: str) -> invoice_pb2.Invoice:
    """The standard invoice with one field set to `value`."""
    invoice = sample_invoice()
    if field == "description":
        invoice.lines[0].description = value
    elif field == "business":
        invoice.business.name = value
    else:
        setattr(invoice, field, value)
    return invoice


@pytest.mark.parametrize("field", FIELDS)
def test_markup_in_a_field_is_printed_literally_and_fetches_nothing(
    renderer: InvoicePdfRenderer, listener: ThreadingHTTPServer, field: str
) -> None:
    port = listener.server_address[1]
    for value in hostile_values(port):
        text = pdf_text(renderer.render(invoice_with(field, value)))
        assert squeeze(value) in squeeze(text), value
        assert "root:" not in text  # /etc/passwd was never read into the page
    assert listener.requests == []  # type: ignore[attr-defined]


def test_the_listener_does_see_fetches_when_markup_is_obeyed(
    listener: ThreadingHTTPServer,
) -> None:
    # Proves the test above can fail: WeasyPrint's default fetcher does call the host.
    port = listener.server_address[1]
    HTML(string=f'<img src="http://127.0.0.1:{port}/x">').write_pdf()
    assert listener.requests == ["/x"]  # type: ignore[attr-defined]


def test_raw_markup_through_the_renderer_fetcher_reaches_no_host_or_file(
    renderer: InvoicePdfRenderer, listener: ThreadingHTTPServer
) -> None:
    # Defence in depth: even markup that escaped the template's escaping is harmless.
    port = listener.server_address[1]
    markup = "".join(
        [
            f'<link rel="stylesheet" href="http://127.0.0.1:{port}/a.css">',
            f"<style>@import url(http://127.0.0.1:{port}/b.css); "
            f"p {{ background: url(http://127.0.0.1:{port}/c.png) }}</style>",
            f'<img src="http://127.0.0.1:{port}/d.png"><img src="file:///etc/passwd">',
            '<img src="data:image/svg+xml,<svg xmlns=%22http://www.w3.org/2000/svg%22/>">',
            f'<svg><image href="http://127.0.0.1:{port}/e.png"/></svg><p>text</p>',
        ]
    )
    fetcher = BundleUrlFetcher.from_files([])
    pdf = HTML(string=markup, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()
    assert pdf is not None and pdf.startswith(b"%PDF-")
    assert listener.requests == []  # type: ignore[attr-defined]
