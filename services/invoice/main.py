"""`suoops serve invoice`: the invoice gRPC service's entry point."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from prometheus_client import REGISTRY, start_http_server

from services.common.broker import redis_client
from services.common.logging import configure_logging
from services.common.queue_metrics import QueueDepthCollector
from services.common.queues import ALL_QUEUES
from services.common.runtime import freeze_startup_heap
from services.common.settings import Settings
from services.common.tracing import configure_tracing
from services.invoice.background import run_background_tasks
from services.invoice.bootstrap import build_app
from services.invoice.entrypoints.server import create_server

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 10.0


def main(settings: Settings) -> None:
    """Serve the invoice API until SIGTERM or SIGINT, then stop gracefully."""
    configure_logging("invoice", settings.log_level)
    configure_tracing("invoice", settings)
    if settings.redis_url:
        # queue_depth{queue,state}, read from Redis at scrape time, as the worker serves it.
        client = redis_client(settings, socket_timeout=2.0)
        REGISTRY.register(QueueDepthCollector(client, [q.name for q in ALL_QUEUES]))
    start_http_server(settings.invoice_metrics_port)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve(settings))


async def _serve(settings: Settings) -> None:
    app = build_app(settings)
    server, _ = await create_server(app, settings.invoice_grpc_addr)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    freeze_startup_heap()
    background = asyncio.create_task(run_background_tasks(app, stop))
    log.info("invoice service listening", extra={"address": settings.invoice_grpc_addr})
    await stop.wait()
    log.info(
        "invoice service stopping",
        extra={"created_rows": app.creator.rows, "create_statements": app.creator.statements},
    )
    app.events.close()  # open WatchInvoice streams end now instead of holding up the grace
    await server.stop(SHUTDOWN_GRACE_SECONDS)
    await background
    await app.close()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed: less event-loop overhead per RPC."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
