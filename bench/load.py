"""Closed-loop load generators: N requests at concurrency C, latency of each recorded."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import grpc
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc


@dataclass
class Result:
    """Latencies (seconds) of a run, its wall time and how many calls failed."""

    latencies: list[float]
    wall_seconds: float
    errors: int

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.wall_seconds if self.wall_seconds else 0.0


async def closed_loop(
    total: int, concurrency: int, make_call: Callable[[int], Awaitable[bool]]
) -> Result:
    """Run `total` calls with `concurrency` in flight; each call returns whether it succeeded."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def worker() -> None:
        nonlocal errors
        for i in counter:
            start = time.perf_counter()
            ok = await make_call(i)
            latencies.append(time.perf_counter() - start)
            errors += not ok

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(latencies, time.perf_counter() - start, errors)


LINES: list[dict[str, str]] = [
    {"description": f"Ankara fabric, pattern {i}", "quantity": "2", "unit_price": "15000.00"}
    for i in range(8)
]
BODY: dict[str, object] = {
    "customer_name": "Adéwálé Ọ̀ṣọ́",
    "customer_email": "ade@example.com",
    "currency": "NGN",
    "tax_rate": "7.5",
    "lines": LINES,
}


def grpc_request() -> pb.CreateInvoiceRequest:
    req = pb.CreateInvoiceRequest(
        customer_name=str(BODY["customer_name"]),
        customer_email=str(BODY["customer_email"]),
        currency="NGN",
        tax_rate="7.5",
    )
    for line in LINES:
        req.lines.add(**line)
    return req


async def grpc_creates(address: str, token: str, total: int, concurrency: int) -> Result:
    """CreateInvoice over one HTTP/2 channel, as a gRPC client would."""
    request = grpc_request()
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(address) as channel:
        stub = invoice_pb2_grpc.InvoiceServiceStub(channel)

        async def call(_: int) -> bool:
            try:
                await stub.CreateInvoice(request, metadata=metadata, timeout=30)
                return True
            except grpc.aio.AioRpcError:
                return False

        await call(0)  # warm the channel
        return await closed_loop(total, concurrency, call)


async def rest_creates(base_url: str, token: str, total: int, concurrency: int) -> Result:
    """POST /invoices/ over `concurrency` keep-alive HTTP/1.1 connections.

    A minimal client on asyncio streams: a full HTTP library would spend more CPU than the
    server on this 2-core machine and so measure itself.
    """
    url = urlsplit(base_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    body = json.dumps(BODY).encode()
    request = (
        f"POST /invoices/ HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    connections: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(concurrency):
        connections.put_nowait(await asyncio.open_connection(host, port))

    async def call(_: int) -> bool:
        reader, writer = await connections.get()
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            return status == 201
        finally:
            connections.put_nowait((reader, writer))

    result = await closed_loop(total, concurrency, call)
    while not connections.empty():
        _, writer = connections.get_nowait()
        writer.close()
    return result
