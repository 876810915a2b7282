"""`WS /ws/invoices/{invoice_id}`: the WatchInvoice gRPC stream, relayed to a WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import grpc
from fastapi import APIRouter
from starlette.websockets import WebSocket, WebSocketDisconnect
from suoops.invoice.v1 import invoice_pb2

from gateway.auth import Metadata, bearer_token
from gateway.client import InvoiceClient
from gateway.errors import Unauthenticated
from gateway.translate import PDF_STATUS

router = APIRouter()

# Application close codes are 4000 plus the HTTP status they stand for.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
_CLOSE_CODES = {
    grpc.StatusCode.UNAUTHENTICATED: CLOSE_UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED: 4403,
    grpc.StatusCode.NOT_FOUND: CLOSE_NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT: 4422,
    grpc.StatusCode.UNAVAILABLE: 1013,  # try again later
    grpc.StatusCode.DEADLINE_EXCEEDED: 1001,  # going away: reconnect
    grpc.StatusCode.CANCELLED: 1001,
}
CLOSE_SERVICE_RESTART = 1012
CLOSE_INTERNAL = 1011
# Every gRPC call has a deadline; a watch ends after this and the client opens another.
WATCH_DEADLINE_SECONDS = 3600.0
MAX_REASON_BYTES = 123


def _metadata(websocket: WebSocket) -> Metadata | None:
    """The caller's token as gRPC metadata: from the header, else `?token=` (browsers)."""
    header = websocket.headers.get("authorization")
    query = websocket.query_params.get("token")
    try:
        token = bearer_token(header if header else ("Bearer " + query if query else None))
    except Unauthenticated:
        return None
    return (("authorization", "Bearer " + token),)


def pdf_status_message(pdf: invoice_pb2.PdfStatusInfo) -> dict[str, Any]:
    """One socket message: the PDF's state in the polling endpoint's words."""
    return {
        "type": "pdf_status",
        "invoice_id": pdf.invoice_id,
        "pdf_status": PDF_STATUS.get(pdf.pdf_status),
        "pdf_url": pdf.pdf_url or None,
    }


def _reason(text: str) -> str:
    return text.encode()[:MAX_REASON_BYTES].decode(errors="ignore")


@router.websocket("/ws/invoices/{invoice_id}")
async def watch_invoice(websocket: WebSocket, invoice_id: str) -> None:
    """The invoice's PDF status now, then one message per change, until either side closes."""
    # Accept first: a socket refused during the handshake cannot carry a close code.
    await websocket.accept()
    metadata = _metadata(websocket)
    if metadata is None:
        await websocket.close(CLOSE_UNAUTHENTICATED, "missing or malformed bearer token")
        return
    client: InvoiceClient = websocket.app.state.invoice_client
    call = client.invoices.WatchInvoice(
        invoice_pb2.WatchInvoiceRequest(invoice_id=invoice_id),
        metadata=metadata,
        timeout=WATCH_DEADLINE_SECONDS,
    )
    relay = asyncio.create_task(_relay(call, websocket))
    hung_up = asyncio.create_task(_wait_for_hang_up(websocket))
    try:
        await asyncio.wait({relay, hung_up}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        call.cancel()  # the socket is gone (or the stream ended): end the watch upstream too
        for task in (relay, hung_up):
            task.cancel()
        await asyncio.gather(relay, hung_up, return_exceptions=True)
    if relay.done() and not relay.cancelled() and (close := relay.result()) is not None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
            await websocket.close(*close)


async def _relay(
    call: grpc.aio.UnaryStreamCall[Any, invoice_pb2.WatchInvoiceResponse], websocket: WebSocket
) -> tuple[int, str] | None:
    """Forward each change; returns how to close the socket, or None when it is gone."""
    last: tuple[int, int] | None = None
    try:
        async for reply in call:
            state = (reply.pdf.pdf_generation, reply.pdf.pdf_status)
            if state == last:  # a change the socket's message cannot show (attempts, error)
                continue
            last = state
            await websocket.send_json(pdf_status_message(reply.pdf))
    except grpc.aio.AioRpcError as exc:
        code = _CLOSE_CODES.get(exc.code(), CLOSE_INTERNAL)
        return code, _reason(exc.details() or exc.code().name.lower())
    except (WebSocketDisconnect, RuntimeError, OSError):
        return None
    return CLOSE_SERVICE_RESTART, "the invoice service is restarting; reconnect"


async def _wait_for_hang_up(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends until it disconnects."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
