"""`suoops worker`: Dramatiq worker threads feeding the render processes."""

from __future__ import annotations

import logging
import signal
import threading

import dramatiq
from prometheus_client import REGISTRY, start_http_server

from services.common.broker import create_broker, redis_client
from services.common.logging import configure_logging
from services.common.queue_metrics import QueueDepthCollector
from services.common.queues import ALL_QUEUES, DELIVERY_QUEUES, PDF_GENERATION
from services.common.settings import Settings
from services.common.tracing import configure_tracing
from services.delivery.worker import start_delivery_actors
from services.renderer.actors import register_render_actors
from services.renderer.assembly import build_pipeline
from services.renderer.callbacks import RenderCallbacks
from services.renderer.report_actors import register_report_actors

log = logging.getLogger(__name__)


def main(settings: Settings, queues: list[str] | None = None, threads: int | None = None) -> None:
    """Consume the queues until SIGTERM or SIGINT, then finish the jobs in hand and stop."""
    configure_logging("worker", settings.log_level)
    configure_tracing("worker", settings)
    settings.require("redis_url", "internal_token")
    assert settings.internal_token is not None
    broker = create_broker(settings)
    consumed = set(queues or [PDF_GENERATION.name])
    callbacks = RenderCallbacks(settings.invoice_grpc_addr, settings.internal_token)
    pool = None
    report_callbacks = None
    if PDF_GENERATION.name in consumed:
        # Only a render pool starts render processes and needs the bucket.
        pipeline, pool = build_pipeline(settings, queued=True)
        register_render_actors(broker, pipeline, callbacks, settings)
        # Tax report PDFs share the queue (CONTRACT §4) and the bucket.
        report_callbacks = register_report_actors(broker, settings)
    delivery_callbacks = None
    if consumed & {q.name for q in DELIVERY_QUEUES}:
        # A delivery pool (its own processes, CONTRACT §4): no render processes, no backlog.
        delivery_callbacks = start_delivery_actors(broker, settings)
    for name in consumed:
        broker.declare_queue(name)
    # One process (worker threads; render children only render): the default registry
    # holds this worker's totals, and queue depths are read from Redis at scrape time.
    REGISTRY.register(
        QueueDepthCollector(
            redis_client(settings, socket_timeout=2.0), [q.name for q in ALL_QUEUES]
        )
    )
    start_http_server(settings.worker_metrics_port)
    worker = dramatiq.Worker(
        broker,
        queues=consumed,
        worker_threads=threads or settings.worker_threads,
        worker_timeout=settings.worker_poll_ms,
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    broker.emit_after("process_boot")
    worker.start()
    log.info("worker consuming", extra={"queues": sorted(consumed)})
    stop.wait()
    log.info("worker draining")
    # Unstarted prefetched messages go back to Redis; running renders finish first.
    worker.stop(timeout=int(settings.render_hard_limit_seconds * 1000) + 10_000)
    broker.close()
    if pool is not None:
        pool.close()
    callbacks.close()
    if report_callbacks is not None:
        report_callbacks.close()
    if delivery_callbacks is not None:
        delivery_callbacks.close()
