"""The invoice service's client of the renderer's synchronous RenderInvoice call."""

from __future__ import annotations

import grpc
from suoops.renderer.v1 import renderer_pb2, renderer_pb2_grpc

from services.common.tracing_grpc import traced_aio_channel


class RendererClient:
    """Calls RendererService over one channel, opened on first use (inside the event loop)."""

    def __init__(self, address: str, internal_token: str) -> None:
        self._address = address
        self._metadata = (("authorization", f"Bearer {internal_token}"),)
        self._channel: grpc.aio.Channel | None = None
        self._stub: renderer_pb2_grpc.RendererServiceStub | None = None

    async def render(
        self, request: renderer_pb2.RenderInvoiceRequest, deadline_seconds: float
    ) -> renderer_pb2.RenderInvoiceResponse:
        if self._stub is None:
            self._channel = traced_aio_channel(self._address)
            self._stub = renderer_pb2_grpc.RendererServiceStub(self._channel)
        response: renderer_pb2.RenderInvoiceResponse = await self._stub.RenderInvoice(
            request, metadata=self._metadata, timeout=deadline_seconds
        )
        return response

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
