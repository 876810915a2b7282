"""Wires the invoice service's collaborators together, in one place."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.broker import create_broker
from services.common.queues import PDF_GENERATION
from services.common.s3 import create_s3_client, presigned_get_url
from services.common.settings import Settings
from services.invoice.adapters.change_events import ChangeListener
from services.invoice.adapters.database import create_async_db, session_factory
from services.invoice.adapters.invoice_creator import BatchingInvoiceCreator
from services.invoice.adapters.job_publisher import DramatiqPublisher
from services.invoice.adapters.orm import start_mappers
from services.invoice.adapters.outbox_relay import OutboxRelay
from services.invoice.adapters.pdf_state_store import PdfStateStore
from services.invoice.adapters.pg_pool import LazyPool
from services.invoice.adapters.renderer_client import RendererClient
from services.invoice.domain.model import Invoice, PdfStatus
from services.invoice.service_layer.auth import Authenticator
from services.invoice.service_layer.events import ChangeHub
from services.invoice.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
# Connections for the hot statements: the create batches and the render callbacks.
FAST_POOL_SIZE = 6
# The outbox relay runs one batch at a time, on a connection of its own.
RELAY_POOL_SIZE = 1


@dataclass
class InvoiceApp:
    """Everything the invoice service's entry points need."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    autocommit_sessions: async_sessionmaker[AsyncSession]
    authenticator: Authenticator
    creator: BatchingInvoiceCreator
    pdf_states: PdfStateStore
    pg_pool: LazyPool
    s3: Any
    publisher: DramatiqPublisher | None = None
    relay: OutboxRelay | None = None
    renderer: RendererClient | None = None
    render_backlog: int = 0
    # Change events: the listener (run as a background task) feeds the hub the watchers use.
    events: ChangeHub = field(default_factory=ChangeHub)
    listener: ChangeListener | None = None

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work around one transaction."""
        return UnitOfWork(self.sessions)

    def autocommit_unit_of_work(self) -> UnitOfWork:
        """A unit of work whose every statement commits itself: for reads and one-statement
        writes, which so cost one round trip instead of three."""
        return UnitOfWork(self.autocommit_sessions)

    def jobs_committed(self) -> None:
        """Outbox rows were just committed: publish them now rather than at the next sweep."""
        if self.relay is not None:
            self.relay.wake()

    def pdf_url(self, invoice: Invoice) -> str:
        """A fresh presigned link for a ready PDF; empty otherwise."""
        if invoice.pdf_status != PdfStatus.READY.value or not invoice.pdf_storage_key:
            return ""
        return presigned_get_url(
            self.s3,
            self.settings.s3_bucket,
            invoice.pdf_storage_key,
            self.settings.pdf_url_expiry_seconds,
        )

    def refresh_render_backlog(self) -> None:
        """Read how many renders wait in Redis (for the create call's admission check)."""
        if self.publisher is not None:
            self.render_backlog = self.publisher.depth(PDF_GENERATION.name)

    async def close(self) -> None:
        if self.renderer is not None:
            await self.renderer.close()
        if self.relay is not None:
            await self.relay.close()
        await self.pg_pool.close()
        await self.engine.dispose()


def build_app(settings: Settings) -> InvoiceApp:
    """Create the engine and the services on top of it; nothing connects until first use."""
    settings.require("database_url")
    assert settings.database_url is not None
    start_mappers()
    engine = create_async_db(settings.database_url, settings.db_pool_size)
    sessions = session_factory(engine)
    autocommit = session_factory(engine.execution_options(isolation_level="AUTOCOMMIT"))
    authenticator = Authenticator(lambda: UnitOfWork(autocommit))
    # New invoices go through their own small pool: a few connections carry every batch.
    pg_pool = LazyPool(settings.database_url, FAST_POOL_SIZE)
    creator = BatchingInvoiceCreator(pg_pool, linger_seconds=settings.create_batch_linger_ms / 1000)
    s3 = create_s3_client(settings)
    app = InvoiceApp(
        settings,
        engine,
        sessions,
        autocommit,
        authenticator,
        creator,
        PdfStateStore(pg_pool),
        pg_pool,
        s3,
    )
    if settings.redis_url:
        # Imported here: the job expander needs the entry points' message translation.
        from services.invoice.entrypoints.render_jobs import expand_jobs

        app.publisher = DramatiqPublisher(create_broker(settings))
        app.relay = OutboxRelay(
            LazyPool(settings.database_url, RELAY_POOL_SIZE), app.publisher, expand_jobs
        )
    else:
        log.warning("REDIS_URL is not set: render jobs stay in the outbox until it is")
    if settings.internal_token:
        app.renderer = RendererClient(settings.renderer_grpc_addr, settings.internal_token)
    app.listener = ChangeListener(settings.database_url, app.events)
    # Imported here like the job expander: webhook event data is the API's view of an invoice.
    from services.invoice.entrypoints.event_data import invoice_describer

    app.pdf_states.describe = invoice_describer(app.pdf_url)
    return app
