"""The render pipeline over real processes: outbox → Dramatiq → worker → S3 → callback."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import httpx
import pytest
from pypdf import PdfReader
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import render_callback_pb2 as cb
from suoops.invoice.v1 import render_callback_pb2_grpc

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

LINES = [
    ("Ankara fabric, 6 yards", "2", "15000"),
    ("Aso-oke head tie", "1", "8500.50"),
    ("Tailoring and fitting", "1.5", "3333.33"),
]


def create(stack: Stack, *, async_pdf: bool = True, **fields: str) -> pb.Invoice:
    request = pb.CreateInvoiceRequest(customer_name="Adéwálé Ọ̀ṣọ́", tax_rate="7.5", **fields)
    for description, quantity, price in LINES:
        request.lines.add(description=description, quantity=quantity, unit_price=price)
    if not async_pdf:
        request.async_pdf = False
    with grpc.insecure_channel(stack.invoice_addr) as channel:
        reply = stack.stub(channel).CreateInvoice(request, metadata=stack.metadata, timeout=30)
    return reply.invoice


def pdf_text(url: str) -> str:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_created_invoice_gets_a_correct_pdf(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(("invoice", "worker"))
    invoice = create(stack)
    assert invoice.pdf_status == pb.PDF_STATUS_PENDING and invoice.pdf_url == ""
    ready = stack.wait_for_pdf(invoice.invoice_id)
    assert ready.pdf_url.startswith(stack.env["S3_ENDPOINT_URL"])
    text = pdf_text(ready.pdf_url)
    assert invoice.invoice_id in text
    assert "Adéwálé" in text
    for description, _, _ in LINES:
        assert description in text
    assert "₦" in text and invoice.amount.replace(".", "")[:3] in text.replace(",", "")
    assert stack.business_name in text


def test_sync_create_answers_with_the_pdf(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(("invoice", "renderer"))
    invoice = create(stack, async_pdf=False)
    assert invoice.pdf_status == pb.PDF_STATUS_READY
    assert invoice.invoice_id in pdf_text(invoice.pdf_url)


def test_sync_create_without_a_renderer_still_saves_and_queues(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(("invoice", "worker"), SYNC_RENDER_TIMEOUT_SECONDS="1")
    invoice = create(stack, async_pdf=False)  # no renderer service is running
    assert invoice.pdf_status == pb.PDF_STATUS_PENDING
    assert stack.wait_for_pdf(invoice.invoice_id).pdf_url


class _Listener:
    """A local HTTP server that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener.requests.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_markup_in_fields_is_printed_not_fetched(make_stack: Callable[..., Stack]) -> None:
    listener = _Listener()
    try:
        stack = make_stack(("invoice", "worker"))
        name = f'<img src="http://127.0.0.1:{listener.port}/x">'
        notes = '<link rel="stylesheet" href="file:///etc/passwd"><b>bold?</b>'
        request = pb.CreateInvoiceRequest(customer_name=name, amount="100", notes=notes)
        with grpc.insecure_channel(stack.invoice_addr) as channel:
            invoice = stack.stub(channel).CreateInvoice(request, metadata=stack.metadata).invoice
        # The PDF wraps long lines; the text itself must be there literally.
        text = pdf_text(stack.wait_for_pdf(invoice.invoice_id).pdf_url).replace("\n", "")
        assert f"127.0.0.1:{listener.port}/x" in text
        assert "file:///etc/passwd" in text and "<b>bold?</b>" in text
        assert "root:" not in text
        assert listener.requests == []
    finally:
        listener.server.shutdown()


def test_regenerate_makes_a_new_generation(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(("invoice", "worker"))
    invoice = create(stack)
    first = stack.wait_for_pdf(invoice.invoice_id)
    with grpc.insecure_channel(stack.invoice_addr) as channel:
        reply = stack.stub(channel).RegeneratePdf(
            pb.RegeneratePdfRequest(invoice_id=invoice.invoice_id), metadata=stack.metadata
        )
    assert reply.pdf.pdf_generation == first.pdf_generation + 1
    assert reply.pdf.pdf_status == pb.PDF_STATUS_PENDING
    second = stack.wait_for_pdf(invoice.invoice_id)
    assert second.pdf_generation == first.pdf_generation + 1
    assert "/g2.pdf" in second.pdf_url and invoice.invoice_id in pdf_text(second.pdf_url)


def test_duplicate_and_stale_callbacks_change_nothing(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(("invoice", "worker"))
    invoice = create(stack)
    ready = stack.wait_for_pdf(invoice.invoice_id)
    internal = (("authorization", f"Bearer {stack.env['INTERNAL_TOKEN']}"),)
    with grpc.insecure_channel(stack.invoice_addr) as channel:
        callbacks = render_callback_pb2_grpc.RenderCallbackServiceStub(channel)
        duplicate = callbacks.CompleteRender(
            cb.CompleteRenderRequest(
                invoice_id=invoice.invoice_id,
                generation=ready.pdf_generation,
                storage_key="invoices/elsewhere.pdf",
                checksum_sha256="0" * 64,
            ),
            metadata=internal,
        )
        stale = callbacks.FailRender(
            cb.FailRenderRequest(
                invoice_id=invoice.invoice_id,
                generation=ready.pdf_generation - 1,
                error="old news",
                attempts=9,
                final=True,
            ),
            metadata=internal,
        )
        with pytest.raises(grpc.RpcError) as caught:
            callbacks.CompleteRender(
                cb.CompleteRenderRequest(invoice_id=invoice.invoice_id, generation=1),
                metadata=stack.metadata,  # a business token is not the internal credential
            )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert not duplicate.applied and not stale.applied
    after = stack.wait_for_pdf(invoice.invoice_id)
    assert after.pdf_url.split("?")[0] == ready.pdf_url.split("?")[0]
    assert after.error == "" and after.attempts == ready.attempts


def test_rest_pdf_status_download_redirect_and_regenerate(make_stack: Callable[..., Stack]) -> None:
    stack = make_stack(("invoice", "gateway"))  # no worker yet: the PDF cannot be ready
    headers = {"Authorization": f"Bearer {stack.token}"}
    with httpx.Client(base_url=stack.gateway_url, headers=headers, timeout=30) as http:
        created = http.post("/invoices/", json={"customer_name": "Ngozi Eze", "amount": "1500"})
        invoice_id = created.json()["invoice_id"]
        early = http.get(f"/invoices/{invoice_id}/pdf")
        stack.start("worker")
        stack.wait_for_pdf(invoice_id)
        status = http.get(f"/invoices/{invoice_id}/pdf_status").json()
        redirect = http.get(f"/invoices/{invoice_id}/pdf", follow_redirects=False)
        regenerated = http.post(f"/invoices/{invoice_id}/pdf/regenerate")
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "failed_precondition"
    assert status["pdf_status"] == "ready" and status["pdf_url"] and status["attempts"] == 1
    assert redirect.status_code == 302
    assert invoice_id in pdf_text(redirect.headers["location"])
    assert regenerated.status_code == 202 and regenerated.json()["pdf_status"] == "pending"
    assert "/g2.pdf" in stack.wait_for_pdf(invoice_id).pdf_url
