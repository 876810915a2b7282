"""Change events on a real PostgreSQL: LISTEN/NOTIFY to the hub, and WatchInvoice over gRPC."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import psycopg
import pytest
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc

from services.common.settings import Settings
from services.invoice.adapters.change_events import CHANNEL, ChangeListener, change_payload
from services.invoice.bootstrap import InvoiceApp, build_app
from services.invoice.domain.model import RenderedPdf
from services.invoice.entrypoints.server import create_server
from services.invoice.service_layer import renders
from services.invoice.service_layer.events import ChangeHub, InvoiceChanged
from tests.conftest import S3_TEST_CREDENTIALS, Tenant, listening, make_settings, new_business
from tests.invoice_cases import GOOD, to_request

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
WAIT = 5.0


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Credentials so the servicer can presign the URL of a ready PDF (no S3 call is made).
    return make_settings(
        DATABASE_URL=database_url, INTERNAL_TOKEN="test-internal-token", **S3_TEST_CREDENTIALS
    )


@pytest.fixture
async def invoice_app(settings: Settings) -> AsyncIterator[InvoiceApp]:
    """The app with its change listener running, as `suoops serve invoice` runs it."""
    app = build_app(settings)
    assert app.listener is not None
    async with listening(app.listener, WAIT):
        yield app
    await app.close()


@pytest.fixture
async def stub(invoice_app: InvoiceApp) -> AsyncIterator[invoice_pb2_grpc.InvoiceServiceStub]:
    server, port = await create_server(invoice_app, "127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield invoice_pb2_grpc.InvoiceServiceStub(channel)
    invoice_app.events.close()
    await server.stop(None)


def auth(tenant: Tenant) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {tenant.token}"),)


def notify(database_url: str, change: InvoiceChanged) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, change_payload(change)))


async def test_listener_delivers_a_notify_to_the_invoices_subscriber_only(
    database_url: str,
) -> None:
    hub = ChangeHub()
    async with listening(ChangeListener(database_url, hub), WAIT):
        with hub.subscribe("INV-WATCHED") as watched, hub.subscribe("INV-OTHER") as other:
            await asyncio.to_thread(
                notify, database_url, InvoiceChanged("INV-WATCHED", 1, 1, "ready")
            )
            assert await asyncio.wait_for(watched.wait(), WAIT)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(other.wait(), 0.2)
        assert hub.subscriber_count == 0


async def test_listener_reconnects_and_wakes_every_watcher(database_url: str) -> None:
    hub = ChangeHub()
    async with listening(ChangeListener(database_url, hub), WAIT) as listener:
        first_pid = listener.backend_pid
        with hub.subscribe("INV-WATCHED") as watched:
            with psycopg.connect(database_url, autocommit=True) as conn:
                conn.execute("SELECT pg_terminate_backend(%s)", (first_pid,))
            # Whatever was committed while the connection was down: the watcher reads again.
            assert await asyncio.wait_for(watched.wait(), WAIT)
            deadline = time.monotonic() + WAIT
            while listener.backend_pid in (None, first_pid) or not listener.listening.is_set():
                assert time.monotonic() < deadline, "the listener did not reconnect"
                await asyncio.sleep(0.02)
            await asyncio.to_thread(
                notify, database_url, InvoiceChanged("INV-WATCHED", 1, 2, "pending")
            )
            assert await asyncio.wait_for(watched.wait(), WAIT)


async def test_closing_the_hub_ends_every_watch() -> None:
    hub = ChangeHub()
    with hub.subscribe("INV-A") as subscription:
        hub.close()
        assert not await asyncio.wait_for(subscription.wait(), WAIT)
    with hub.subscribe("INV-A") as late:
        assert not await asyncio.wait_for(late.wait(), WAIT)


async def test_a_completed_render_reaches_a_watch_stream(
    stub: invoice_pb2_grpc.InvoiceServiceStub, invoice_app: InvoiceApp, business: Tenant
) -> None:
    created = await stub.CreateInvoice(to_request(GOOD), metadata=auth(business), timeout=5)
    invoice_id = created.invoice.invoice_id
    stream = stub.WatchInvoice(
        pb.WatchInvoiceRequest(invoice_id=invoice_id), metadata=auth(business), timeout=30
    )
    first = await asyncio.wait_for(stream.read(), WAIT)
    assert first.pdf.invoice_id == invoice_id
    assert first.pdf.pdf_status == pb.PDF_STATUS_PENDING and first.pdf.pdf_url == ""

    async def read_timed() -> tuple[pb.WatchInvoiceResponse, float]:
        message = await stream.read()
        return message, time.monotonic()

    reading = asyncio.create_task(asyncio.wait_for(read_timed(), WAIT))
    called = time.monotonic()
    applied, _ = await renders.complete_render(
        invoice_app.pdf_states, invoice_id, RenderedPdf(1, "pdfs/k.pdf", "c" * 64)
    )
    committed = time.monotonic()
    assert applied
    ready, arrived = await reading
    print(
        f"\ncomplete_render -> WatchInvoice message: {(arrived - called) * 1000:.1f} ms after"
        f" the call, {(arrived - committed) * 1000:.1f} ms after it returned (commit)"
    )
    assert ready.pdf.pdf_status == pb.PDF_STATUS_READY
    assert ready.pdf.pdf_url.startswith("http") and "pdfs/k.pdf" in ready.pdf.pdf_url

    # A duplicate report changes nothing, so nothing is sent; a regeneration is.
    again, _ = await renders.complete_render(
        invoice_app.pdf_states, invoice_id, RenderedPdf(1, "pdfs/other.pdf", "d" * 64)
    )
    assert not again
    invoice_app.events.wake_all()  # as after a listener reconnect: same state, no message
    regenerated = await stub.RegeneratePdf(
        pb.RegeneratePdfRequest(invoice_id=invoice_id), metadata=auth(business), timeout=5
    )
    assert regenerated.pdf.pdf_generation == 2
    pending = await asyncio.wait_for(stream.read(), WAIT)
    assert pending.pdf.pdf_status == pb.PDF_STATUS_PENDING and pending.pdf.pdf_generation == 2
    stream.cancel()


async def test_a_stopping_server_ends_the_watch(
    stub: invoice_pb2_grpc.InvoiceServiceStub, invoice_app: InvoiceApp, business: Tenant
) -> None:
    created = await stub.CreateInvoice(to_request(GOOD), metadata=auth(business), timeout=5)
    stream = stub.WatchInvoice(
        pb.WatchInvoiceRequest(invoice_id=created.invoice.invoice_id),
        metadata=auth(business),
        timeout=30,
    )
    await asyncio.wait_for(stream.read(), WAIT)
    invoice_app.events.close()
    assert await asyncio.wait_for(stream.read(), WAIT) is grpc.aio.EOF
    assert await stream.code() == grpc.StatusCode.OK


async def test_watching_another_business_or_unknown_invoice_is_not_found(
    stub: invoice_pb2_grpc.InvoiceServiceStub, invoice_app: InvoiceApp, business: Tenant
) -> None:
    other = await new_business(invoice_app, "Other")
    created = await stub.CreateInvoice(to_request(GOOD), metadata=auth(business), timeout=5)
    for tenant, invoice_id in ((other, created.invoice.invoice_id), (business, "INV-NOPE00")):
        stream = stub.WatchInvoice(
            pb.WatchInvoiceRequest(invoice_id=invoice_id), metadata=auth(tenant), timeout=5
        )
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stream.read()
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert invoice_app.events.subscriber_count == 0
    stream = stub.WatchInvoice(
        pb.WatchInvoiceRequest(invoice_id=created.invoice.invoice_id), timeout=5
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stream.read()
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
