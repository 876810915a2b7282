"""`suoops serve renderer`: the synchronous RendererService's entry point."""

from __future__ import annotations

import asyncio
import logging
import signal

from prometheus_client import start_http_server

from services.common.logging import configure_logging
from services.common.settings import Settings
from services.common.tracing import configure_tracing
from services.renderer.assembly import build_pipeline
from services.renderer.pipeline import RenderPipeline
from services.renderer.server import create_server

log = logging.getLogger(__name__)


def main(settings: Settings) -> None:
    """Serve RenderInvoice until SIGTERM or SIGINT; renders in flight finish first."""
    configure_logging("renderer", settings.log_level)
    configure_tracing("renderer", settings)
    settings.require("internal_token")
    assert settings.internal_token is not None
    pipeline, pool = build_pipeline(settings, queued=False)
    # After the render processes' fork server starts, so it inherits no metrics socket.
    start_http_server(settings.renderer_metrics_port)
    try:
        asyncio.run(_serve(settings, pipeline, settings.internal_token))
    finally:
        pool.close()


async def _serve(settings: Settings, pipeline: RenderPipeline, token: str) -> None:
    server, _ = await create_server(pipeline, token, settings.renderer_grpc_addr)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    log.info("renderer listening", extra={"address": settings.renderer_grpc_addr})
    await stop.wait()
    await server.stop(settings.sync_render_timeout_seconds)
