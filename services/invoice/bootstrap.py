"""Wires the invoice service's collaborators together, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from services.common.settings import Settings
from services.invoice.adapters.database import create_async_db, session_factory
from services.invoice.adapters.orm import start_mappers
from services.invoice.service_layer.auth import Authenticator
from services.invoice.service_layer.unit_of_work import UnitOfWork


@dataclass
class InvoiceApp:
    """Everything the invoice service's entry points need."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    autocommit_sessions: async_sessionmaker[AsyncSession]
    authenticator: Authenticator

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work around one transaction."""
        return UnitOfWork(self.sessions)

    def autocommit_unit_of_work(self) -> UnitOfWork:
        """A unit of work whose every statement commits itself: for reads and one-statement
        writes, which so cost one round trip instead of three."""
        return UnitOfWork(self.autocommit_sessions)

    async def close(self) -> None:
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
    return InvoiceApp(settings, engine, sessions, autocommit, authenticator)
