"""The delivery callbacks, webhook API and watch stream over gRPC, on a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from suoops.invoice.v1 import delivery_callback_pb2 as dpb
from suoops.invoice.v1 import (
    delivery_callback_pb2_grpc,
    invoice_pb2_grpc,
    webhooks_pb2,
    webhooks_pb2_grpc,
)
from suoops.invoice.v1 import invoice_pb2 as pb

from services.common.settings import Settings
from services.invoice.bootstrap import InvoiceApp, build_app
from services.invoice.domain.model import RenderedPdf
from services.invoice.entrypoints.server import create_server
from services.invoice.service_layer import renders
from tests.conftest import S3_TEST_CREDENTIALS, Tenant, listening, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
WAIT = 5.0
INTERNAL = (("authorization", "Bearer test-internal-token"),)
EMAIL = pb.DELIVERY_CHANNEL_EMAIL


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(
        DATABASE_URL=database_url, INTERNAL_TOKEN="test-internal-token", **S3_TEST_CREDENTIALS
    )


@pytest.fixture
async def invoice_app(settings: Settings) -> AsyncIterator[InvoiceApp]:
    app = build_app(settings)
    assert app.listener is not None
    async with listening(app.listener, WAIT):
        yield app
    await app.close()


@pytest.fixture
async def channel(invoice_app: InvoiceApp) -> AsyncIterator[grpc.aio.Channel]:
    server, port = await create_server(invoice_app, "127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as chan:
        yield chan
    invoice_app.events.close()
    await server.stop(None)


def auth(tenant: Tenant) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {tenant.token}"),)


async def ready_invoice(channel: grpc.aio.Channel, app: InvoiceApp, tenant: Tenant) -> str:
    stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
    reply = await stub.CreateInvoice(
        pb.CreateInvoiceRequest(
            customer_name="Tunde",
            customer_email="tunde@example.com",
            amount="1200",
            deliver=[EMAIL],
        ),
        metadata=auth(tenant),
    )
    invoice_id = reply.invoice.invoice_id
    await renders.complete_render(app.pdf_states, invoice_id, RenderedPdf(1, "k.pdf", "c" * 64))
    return invoice_id


async def test_delivery_callbacks_need_the_internal_credential(
    channel: grpc.aio.Channel, invoice_app: InvoiceApp, business: Tenant
) -> None:
    invoice_id = await ready_invoice(channel, invoice_app, business)
    stub = delivery_callback_pb2_grpc.DeliveryCallbackServiceStub(channel)
    request = dpb.StartDeliveryRequest(invoice_id=invoice_id, channel=EMAIL, claim="job")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.StartDelivery(request, metadata=auth(business))
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.StartDelivery(
            dpb.StartDeliveryRequest(invoice_id=invoice_id, claim="job"), metadata=INTERNAL
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_claimed_then_sent_delivery_reaches_watchers_and_the_invoice(
    channel: grpc.aio.Channel, invoice_app: InvoiceApp, business: Tenant
) -> None:
    invoice_id = await ready_invoice(channel, invoice_app, business)
    invoices = invoice_pb2_grpc.InvoiceServiceStub(channel)
    callbacks = delivery_callback_pb2_grpc.DeliveryCallbackServiceStub(channel)
    stream = invoices.WatchInvoice(
        pb.WatchInvoiceRequest(invoice_id=invoice_id), metadata=auth(business)
    )
    first = await asyncio.wait_for(stream.read(), WAIT)
    assert [d.status for d in first.deliveries] == [pb.DELIVERY_STATUS_PENDING]

    started = await callbacks.StartDelivery(
        dpb.StartDeliveryRequest(invoice_id=invoice_id, channel=EMAIL, claim="job-1"),
        metadata=INTERNAL,
    )
    assert started.send and started.attempts == 1 and started.pdf_storage_key == "k.pdf"
    assert started.invoice.customer_email == "tunde@example.com" and started.pdf_url
    twin = await callbacks.StartDelivery(
        dpb.StartDeliveryRequest(invoice_id=invoice_id, channel=EMAIL, claim="job-2"),
        metadata=INTERNAL,
    )
    assert not twin.send
    claimed = await asyncio.wait_for(stream.read(), WAIT)
    assert claimed.deliveries[0].attempts == 1

    done = await callbacks.CompleteDelivery(
        dpb.CompleteDeliveryRequest(invoice_id=invoice_id, channel=EMAIL, claim="job-1"),
        metadata=INTERNAL,
    )
    assert done.applied
    sent = await asyncio.wait_for(stream.read(), WAIT)
    assert sent.deliveries[0].status == pb.DELIVERY_STATUS_SENT
    assert sent.deliveries[0].HasField("sent_at")
    stream.cancel()

    got = await invoices.GetInvoice(
        pb.GetInvoiceRequest(invoice_id=invoice_id), metadata=auth(business)
    )
    [delivery] = got.invoice.deliveries
    assert (delivery.channel, delivery.status, delivery.attempts) == (
        EMAIL,
        pb.DELIVERY_STATUS_SENT,
        1,
    )


async def test_webhook_service_registers_lists_and_deletes(
    channel: grpc.aio.Channel, business: Tenant
) -> None:
    stub = webhooks_pb2_grpc.WebhookServiceStub(channel)
    created = await stub.CreateWebhook(
        webhooks_pb2.CreateWebhookRequest(
            url="https://shop.example/hooks", events=["invoice.delivered"]
        ),
        metadata=auth(business),
    )
    assert created.secret.startswith("whsec_") and created.webhook.webhook_id.startswith("wh_")
    listed = await stub.ListWebhooks(webhooks_pb2.ListWebhooksRequest(), metadata=auth(business))
    assert [w.url for w in listed.webhooks] == ["https://shop.example/hooks"]
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.CreateWebhook(
            webhooks_pb2.CreateWebhookRequest(url="not a url", events=["invoice.delivered"]),
            metadata=auth(business),
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await stub.DeleteWebhook(
        webhooks_pb2.DeleteWebhookRequest(webhook_id=created.webhook.webhook_id),
        metadata=auth(business),
    )
    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await stub.DeleteWebhook(
            webhooks_pb2.DeleteWebhookRequest(webhook_id=created.webhook.webhook_id),
            metadata=auth(business),
        )
    assert gone.value.code() == grpc.StatusCode.NOT_FOUND
