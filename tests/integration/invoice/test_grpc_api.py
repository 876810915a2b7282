"""The invoice gRPC API in-process on a free port: status codes, field details, tenancy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc

from services.invoice.bootstrap import InvoiceApp
from services.invoice.entrypoints.server import create_server
from tests.conftest import Tenant, count_rows, new_business
from tests.invoice_cases import BAD_REQUESTS, GOOD, to_request

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
async def channel(invoice_app: InvoiceApp) -> AsyncIterator[grpc.aio.Channel]:
    server, port = await create_server(invoice_app, "127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as chan:
        yield chan
    await server.stop(None)


def auth(tenant: Tenant) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {tenant.token}"),)


def field_violations(err: grpc.aio.AioRpcError) -> list[str]:
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None, "INVALID_ARGUMENT must carry google.rpc.Status details"
    fields = []
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        assert detail.Unpack(bad)
        fields += [v.field for v in bad.field_violations]
    return fields


@pytest.mark.parametrize(
    ("body", "field"), [c[1:] for c in BAD_REQUESTS], ids=[c[0] for c in BAD_REQUESTS]
)
async def test_each_broken_rule_is_invalid_argument_naming_the_field(
    channel: grpc.aio.Channel,
    business: Tenant,
    database_url: str,
    body: dict[str, object],
    field: str,
) -> None:
    stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
    before = count_rows(database_url, "invoices")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateInvoice(to_request(body), metadata=auth(business), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value)
    assert count_rows(database_url, "invoices") == before


async def test_create_then_get_over_grpc(channel: grpc.aio.Channel, business: Tenant) -> None:
    stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
    created = await stub.CreateInvoice(to_request(GOOD), metadata=auth(business), timeout=5)
    invoice = created.invoice
    assert invoice.invoice_id.startswith("INV-")
    assert invoice.amount == "50000.00" and invoice.currency == "NGN"
    assert (
        invoice.pdf_status == pb.PDF_STATUS_PENDING and invoice.status == pb.INVOICE_STATUS_PENDING
    )
    assert invoice.pdf_url == ""
    assert invoice.business.name == business.name
    got = await stub.GetInvoice(
        pb.GetInvoiceRequest(invoice_id=invoice.invoice_id), metadata=auth(business), timeout=5
    )
    assert got.invoice == invoice


async def test_no_token_is_unauthenticated(channel: grpc.aio.Channel) -> None:
    stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListInvoices(pb.ListInvoicesRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListInvoices(
            pb.ListInvoicesRequest(), metadata=(("authorization", "Bearer suo_nope"),), timeout=5
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_another_business_gets_not_found(
    channel: grpc.aio.Channel, invoice_app: InvoiceApp, business: Tenant
) -> None:
    stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
    other = await new_business(invoice_app, "Other")
    created = await stub.CreateInvoice(to_request(GOOD), metadata=auth(business), timeout=5)
    for call in (stub.GetInvoice, stub.GetPdfStatus):
        request_type = pb.GetInvoiceRequest if call is stub.GetInvoice else pb.GetPdfStatusRequest
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(
                request_type(invoice_id=created.invoice.invoice_id), metadata=auth(other), timeout=5
            )
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await stub.ListInvoices(pb.ListInvoicesRequest(), metadata=auth(other), timeout=5)
    assert created.invoice.invoice_id not in [i.invoice_id for i in listed.invoices]


async def test_idempotency_key_reuse_with_another_body_is_already_exists(
    channel: grpc.aio.Channel, business: Tenant
) -> None:
    stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
    first = to_request(GOOD)
    first.idempotency_key = "grpc-key"
    a = await stub.CreateInvoice(first, metadata=auth(business), timeout=5)
    b = await stub.CreateInvoice(first, metadata=auth(business), timeout=5)
    assert b.idempotent_replayed and b.invoice.invoice_id == a.invoice.invoice_id
    changed = to_request({**GOOD, "amount": "1"})
    changed.idempotency_key = "grpc-key"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateInvoice(changed, metadata=auth(business), timeout=5)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_pdf_status_of_a_new_invoice_is_pending(
    channel: grpc.aio.Channel, business: Tenant
) -> None:
    stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
    created = await stub.CreateInvoice(to_request(GOOD), metadata=auth(business), timeout=5)
    status = await stub.GetPdfStatus(
        pb.GetPdfStatusRequest(invoice_id=created.invoice.invoice_id),
        metadata=auth(business),
        timeout=5,
    )
    assert status.pdf.pdf_status == pb.PDF_STATUS_PENDING
    assert status.pdf.invoice_id == created.invoice.invoice_id and status.pdf.pdf_url == ""


async def test_health_reports_serving(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    reply = await health.Check(
        health_pb2.HealthCheckRequest(service="suoops.invoice.v1.InvoiceService")
    )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
