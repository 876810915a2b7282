"""RetryFailedRenders over gRPC on a real PostgreSQL, and the per-RPC metrics it leaves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import grpc
import psycopg
import pytest
from prometheus_client import REGISTRY
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc, maintenance_pb2, maintenance_pb2_grpc

from services.invoice.bootstrap import InvoiceApp
from services.invoice.entrypoints.server import create_server
from tests.conftest import Tenant

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
RETRY_METHOD = "/suoops.invoice.v1.MaintenanceService/RetryFailedRenders"


@pytest.fixture
async def channel(invoice_app: InvoiceApp) -> AsyncIterator[grpc.aio.Channel]:
    server, port = await create_server(invoice_app, "127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as chan:
        yield chan
    await server.stop(None)


async def counted(read: Callable[[], float], expected: float) -> float:
    """The value once it reaches `expected`, looked at every 10 ms for up to 5 s."""
    for _ in range(500):
        if (value := read()) >= expected:
            break
        await asyncio.sleep(0.01)
    assert value == expected
    return value


def requests(method: str, code: str) -> float:
    labels = {"method": method, "code": code}
    return REGISTRY.get_sample_value("grpc_server_requests_total", labels) or 0.0


async def new_invoice(channel: grpc.aio.Channel, business: Tenant) -> str:
    stub = invoice_pb2_grpc.InvoiceServiceStub(channel)
    created = await stub.CreateInvoice(
        pb.CreateInvoiceRequest(customer_name="Retry Me", amount="100"),
        metadata=(("authorization", f"Bearer {business.token}"),),
        timeout=5,
    )
    return str(created.invoice.invoice_id)


async def test_failed_invoice_gets_a_new_generation_and_others_are_skipped(
    channel: grpc.aio.Channel, business: Tenant, database_url: str, invoice_app: InvoiceApp
) -> None:
    failed_id = await new_invoice(channel, business)
    pending_id = await new_invoice(channel, business)
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE invoices SET pdf_status = 'failed', pdf_error = 'S3 said 503'"
            " WHERE invoice_id = %s",
            (failed_id,),
        )
    stub = maintenance_pb2_grpc.MaintenanceServiceStub(channel)
    internal = (("authorization", f"Bearer {invoice_app.settings.internal_token}"),)
    ok_before = requests(RETRY_METHOD, "OK")
    reply = await stub.RetryFailedRenders(
        maintenance_pb2.RetryFailedRendersRequest(invoice_ids=[failed_id, pending_id, "INV-NOPE"]),
        metadata=internal,
        timeout=10,
    )
    assert list(reply.requeued) == [failed_id]
    assert list(reply.skipped) == [pending_id, "INV-NOPE"]
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT pdf_status, pdf_generation, pdf_error FROM invoices WHERE invoice_id = %s",
            (failed_id,),
        ).fetchone()
        jobs = conn.execute(
            "SELECT payload->>'generation' FROM outbox WHERE payload->>'invoice_id' = %s"
            " ORDER BY 1",
            (failed_id,),
        ).fetchall()
    assert row == ("pending", 2, None)
    assert ("2",) in jobs
    assert requests(RETRY_METHOD, "OK") == ok_before + 1


async def test_retry_needs_the_internal_credential_and_the_refusal_is_counted(
    channel: grpc.aio.Channel, business: Tenant
) -> None:
    stub = maintenance_pb2_grpc.MaintenanceServiceStub(channel)
    refused_before = requests(RETRY_METHOD, "UNAUTHENTICATED")
    latency_before = (
        REGISTRY.get_sample_value("grpc_server_request_seconds_count", {"method": RETRY_METHOD})
        or 0.0
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.RetryFailedRenders(
            maintenance_pb2.RetryFailedRendersRequest(invoice_ids=["INV-X"]),
            metadata=(("authorization", f"Bearer {business.token}"),),
            timeout=5,
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # An abort sends its status before the handler unwinds through the metrics: wait for it.
    await counted(lambda: requests(RETRY_METHOD, "UNAUTHENTICATED"), refused_before + 1)
    latency_after = await counted(
        lambda: (
            REGISTRY.get_sample_value("grpc_server_request_seconds_count", {"method": RETRY_METHOD})
            or 0.0
        ),
        latency_before + 1,
    )
    assert latency_after == latency_before + 1
