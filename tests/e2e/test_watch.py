"""Watching an invoice over real processes: WS /ws/invoices/{id} and gRPC WatchInvoice."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc
import httpx
import psycopg
import pytest
from suoops.invoice.v1 import invoice_pb2 as pb
from suoops.invoice.v1 import invoice_pb2_grpc
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import Stack, new_token

pytestmark = pytest.mark.e2e
WAIT = 60.0


def ws_url(stack: Stack, invoice_id: str, token: str | None = None) -> str:
    url = stack.gateway_url.replace("http://", "ws://") + f"/ws/invoices/{invoice_id}"
    return url + (f"?token={token}" if token is not None else "")


def create_invoice(stack: Stack) -> str:
    response = httpx.post(
        stack.gateway_url + "/invoices",
        json={"customer_name": "Ngozi Eze", "amount": "12500"},
        headers={"Authorization": f"Bearer {stack.token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    invoice_id: str = response.json()["invoice_id"]
    return invoice_id


def pdf_updated_at(stack: Stack, invoice_id: str) -> datetime:
    with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
        row = conn.execute(
            "SELECT pdf_updated_at FROM invoices WHERE invoice_id = %s", (invoice_id,)
        ).fetchone()
    assert row is not None
    updated: datetime = row[0]
    return updated


async def ws_until(ws: ClientConnection, status: str) -> list[tuple[dict[str, Any], float]]:
    """Messages (with their arrival, wall clock) up to the first with this status."""
    seen = []
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
        seen.append((message, time.time()))
        if message["pdf_status"] == status:
            return seen


async def grpc_until(stream: Any, status: int) -> list[tuple[pb.WatchInvoiceResponse, float]]:
    seen = []
    while True:
        reply = await asyncio.wait_for(stream.read(), WAIT)
        assert reply is not grpc.aio.EOF
        seen.append((reply, time.time()))
        if reply.pdf.pdf_status == status:
            return seen


def test_websocket_and_grpc_watchers_see_pending_then_ready(
    make_stack: Callable[..., Stack],
) -> None:
    # No worker yet: the invoice stays pending until the watchers are open.
    stack = make_stack(("invoice", "gateway"))
    invoice_id = create_invoice(stack)

    async def scenario() -> None:
        headers = {"Authorization": f"Bearer {stack.token}"}
        async with (
            connect(ws_url(stack, invoice_id), additional_headers=headers) as ws,
            grpc.aio.insecure_channel(stack.invoice_addr) as channel,
            httpx.AsyncClient(base_url=stack.gateway_url, headers=headers, timeout=10) as http,
        ):
            stream = invoice_pb2_grpc.InvoiceServiceStub(channel).WatchInvoice(
                pb.WatchInvoiceRequest(invoice_id=invoice_id), metadata=stack.metadata, timeout=WAIT
            )
            first = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert first == {
                "type": "pdf_status",
                "invoice_id": invoice_id,
                "pdf_status": "pending",
                "pdf_url": None,
            }
            first_reply = await asyncio.wait_for(stream.read(), WAIT)
            assert first_reply.pdf.pdf_status == pb.PDF_STATUS_PENDING

            await asyncio.to_thread(stack.start, "worker")
            ws_seen, grpc_seen = await asyncio.gather(
                ws_until(ws, "ready"), grpc_until(stream, pb.PDF_STATUS_READY)
            )
            statuses = [message["pdf_status"] for message, _ in ws_seen]
            assert statuses in (["ready"], ["rendering", "ready"]), statuses
            ready, ws_arrival = ws_seen[-1]
            assert ready["invoice_id"] == invoice_id and ready["pdf_url"]
            response = await http.get(ready["pdf_url"])
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/pdf"
            ready_reply, grpc_arrival = grpc_seen[-1]
            assert ready_reply.pdf.pdf_url and ready_reply.pdf.attempts == 1

            committed = pdf_updated_at(stack, invoice_id).timestamp()
            print(
                f"\ncallback commit (pdf_updated_at) -> message: WebSocket"
                f" {(ws_arrival - committed) * 1000:.1f} ms,"
                f" gRPC WatchInvoice {(grpc_arrival - committed) * 1000:.1f} ms"
            )

            # Regenerate: its commit reaches both watchers as pending (generation 2).
            sent = time.time()
            response = await http.post(f"/invoices/{invoice_id}/pdf/regenerate")
            assert response.status_code == 202
            ws_pending, grpc_pending = await asyncio.gather(
                ws_until(ws, "pending"), grpc_until(stream, pb.PDF_STATUS_PENDING)
            )
            assert grpc_pending[-1][0].pdf.pdf_generation == 2
            print(
                f"RegeneratePdf sent -> pending message: WebSocket"
                f" {(ws_pending[-1][1] - sent) * 1000:.1f} ms,"
                f" gRPC {(grpc_pending[-1][1] - sent) * 1000:.1f} ms"
            )
            await ws_until(ws, "ready")
            await grpc_until(stream, pb.PDF_STATUS_READY)
            stream.cancel()

    try:
        asyncio.run(scenario())
    except BaseException:
        with psycopg.connect(stack.env["DATABASE_URL"]) as conn:
            row = conn.execute(
                "SELECT pdf_status, pdf_generation, pdf_attempts, pdf_error, pdf_updated_at"
                " FROM invoices WHERE invoice_id = %s",
                (invoice_id,),
            ).fetchone()
        print(f"--- invoice state: {row}")
        for name in stack.started:
            print(f"--- {name} ---\n{stack.group.logs(name)[-4000:]}")
        raise


async def close_code(url: str, headers: dict[str, str] | None = None) -> int:
    async with connect(url, additional_headers=headers) as ws:
        with pytest.raises(ConnectionClosed) as caught:
            await asyncio.wait_for(ws.recv(), WAIT)
    assert caught.value.rcvd is not None
    return caught.value.rcvd.code


def test_bad_token_closes_4401_and_someone_elses_invoice_4404(
    make_stack: Callable[..., Stack],
) -> None:
    stack = make_stack(("invoice", "gateway"))
    invoice_id = create_invoice(stack)
    other_token = new_token(stack.env["DATABASE_URL"], "Another shop")

    async def scenario() -> None:
        assert await close_code(ws_url(stack, invoice_id)) == 4401
        assert await close_code(ws_url(stack, invoice_id, "suo_not-a-token")) == 4401
        assert (
            await close_code(ws_url(stack, invoice_id), {"Authorization": "Bearer suo_nope"})
            == 4401
        )
        assert await close_code(ws_url(stack, invoice_id, other_token)) == 4404
        assert await close_code(ws_url(stack, "INV-UNKNOWN1", stack.token)) == 4404
        # The same token in the query works for the invoice's own business.
        async with connect(ws_url(stack, invoice_id, stack.token)) as ws:
            first = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert first["invoice_id"] == invoice_id and first["pdf_status"] == "pending"

    asyncio.run(scenario())

    with grpc.insecure_channel(stack.invoice_addr) as channel:
        stream = invoice_pb2_grpc.InvoiceServiceStub(channel).WatchInvoice(
            pb.WatchInvoiceRequest(invoice_id=invoice_id),
            metadata=(("authorization", f"Bearer {other_token}"),),
            timeout=10,
        )
        with pytest.raises(grpc.RpcError) as caught:
            next(iter(stream))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
