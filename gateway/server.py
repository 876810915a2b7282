"""Runs the gateway under uvicorn until SIGINT or SIGTERM, then drains in-flight requests."""

from __future__ import annotations

import uvicorn

from gateway.app import create_app
from services.common.runtime import freeze_startup_heap
from services.common.settings import Settings

GRACEFUL_SHUTDOWN_SECONDS = 10


def build_server(settings: Settings) -> uvicorn.Server:
    """A uvicorn server for the gateway on settings.gateway_host:gateway_port."""
    config = uvicorn.Config(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        # "auto" picks uvloop and httptools when they are installed (uvicorn[standard]).
        loop="auto",
        http="auto",
        lifespan="on",
        # Logging is configured once by the caller's main(); uvicorn must not replace it.
        log_config=None,
        log_level=settings.log_level.lower(),
        # Per-request access lines cost throughput; /metrics counts every request instead.
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return uvicorn.Server(config)


def serve(settings: Settings) -> None:
    """Serve the gateway in the foreground; uvicorn stops gracefully on SIGINT and SIGTERM."""
    server = build_server(settings)
    freeze_startup_heap()
    server.run()
