"""suoops.renderer.v1.RendererService: the synchronous render, on the same pipeline as the queue."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any, TypeAlias

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from suoops.renderer.v1 import renderer_pb2, renderer_pb2_grpc

from services.common.grpc_metrics import RpcMetricsInterceptor
from services.common.tracing_grpc import TracingServerInterceptor
from services.renderer.pipeline import RenderPipeline
from services.renderer.render_pool import PermanentRenderError, RenderError, RenderTimeout

Context: TypeAlias = grpc.aio.ServicerContext[Any, Any]
SERVICE_NAME = renderer_pb2.DESCRIPTOR.services_by_name["RendererService"].full_name


class RendererServicer(renderer_pb2_grpc.RendererServiceServicer):
    """Renders and stores one invoice's PDF, answering once it is stored."""

    def __init__(self, pipeline: RenderPipeline, internal_token: str) -> None:
        self._pipeline = pipeline
        self._token = internal_token

    async def RenderInvoice(
        self, request: renderer_pb2.RenderInvoiceRequest, context: Context
    ) -> renderer_pb2.RenderInvoiceResponse:
        supplied = dict(context.invocation_metadata() or ()).get("authorization", "")
        if not hmac.compare_digest(str(supplied), f"Bearer {self._token}"):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "needs the internal credential")
        try:
            outcome = await asyncio.to_thread(self._pipeline.render_and_store, request)
        except PermanentRenderError as exc:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
        except RenderTimeout as exc:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(exc))
        except RenderError as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
        return renderer_pb2.RenderInvoiceResponse(
            storage_key=outcome.stored.key,
            checksum_sha256=outcome.stored.checksum_sha256,
            size_bytes=outcome.stored.size_bytes,
            render_seconds=outcome.render_seconds,
        )


async def create_server(
    pipeline: RenderPipeline, internal_token: str, address: str
) -> tuple[grpc.aio.Server, int]:
    """The renderer's server with health and reflection; port 0 picks a free port."""
    server = grpc.aio.server(
        interceptors=[TracingServerInterceptor(), RpcMetricsInterceptor()],
        options=[("grpc.so_reuseport", 0)],
    )
    renderer_pb2_grpc.add_RendererServiceServicer_to_server(
        RendererServicer(pipeline, internal_token), server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    port = server.add_insecure_port(address)
    for name in ("", SERVICE_NAME):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, port
