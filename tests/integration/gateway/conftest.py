"""Fixtures for the gateway: a fake InvoiceService on a real grpc.aio server, and the app."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
import uvicorn
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from suoops.invoice.v1 import invoice_pb2_grpc

from gateway.app import create_app
from gateway.client import INVOICE_SERVICE_NAME
from tests.integration.gateway.gateway_fakes import FakeInvoiceService, GrpcServer, gateway_settings


@pytest.fixture
def anyio_backend() -> str:
    """grpc.aio runs on asyncio only."""
    return "asyncio"


@pytest.fixture
async def invoice_server() -> AsyncIterator[GrpcServer]:
    """A real grpc.aio server on 127.0.0.1 (port 0) with the fake service and health."""
    server = grpc.aio.server()
    fake = FakeInvoiceService()
    invoice_pb2_grpc.add_InvoiceServiceServicer_to_server(fake, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await health_servicer.set(INVOICE_SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    try:
        yield GrpcServer(server, f"127.0.0.1:{port}", fake, health_servicer)
    finally:
        await server.stop(None)


@pytest.fixture
def fake(invoice_server: GrpcServer) -> FakeInvoiceService:
    """The fake service behind the gateway."""
    return invoice_server.fake


@pytest.fixture
async def client(invoice_server: GrpcServer) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the gateway app in-process (its lifespan running)."""
    app = create_app(gateway_settings(invoice_server.address))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as http,
    ):
        yield http


@pytest.fixture
async def live_gateway(invoice_server: GrpcServer) -> AsyncIterator[str]:
    """The gateway under a real uvicorn on 127.0.0.1 (port 0); yields its base URL."""
    config = uvicorn.Config(
        create_app(gateway_settings(invoice_server.address)),
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
def unused_address() -> str:
    """A 127.0.0.1 address nothing listens on (the port was bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"127.0.0.1:{port}"
