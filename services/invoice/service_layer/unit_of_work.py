"""The unit of work: one transaction, rolled back unless the handler commits it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.invoice.adapters.repositories import (
    BusinessRepository,
    IdempotencyKeyRepository,
    InvoiceRepository,
    MaintenanceRepository,
    OutboxRepository,
)
from services.invoice.adapters.webhook_repository import WebhookRepository


class UnitOfWork:
    """Repositories sharing one database transaction."""

    invoices: InvoiceRepository
    idempotency_keys: IdempotencyKeyRepository
    outbox: OutboxRepository
    businesses: BusinessRepository
    maintenance: MaintenanceRepository
    webhooks: WebhookRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._sessions()
        self.invoices = InvoiceRepository(self._session)
        self.idempotency_keys = IdempotencyKeyRepository(self._session)
        self.outbox = OutboxRepository(self._session)
        self.businesses = BusinessRepository(self._session)
        self.maintenance = MaintenanceRepository(self._session)
        self.webhooks = WebhookRepository(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            # Detach what was read first, so a rollback does not expire it under the caller.
            session.expunge_all()
            await session.rollback()
        finally:
            await session.close()
            self._session = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def flush(self) -> None:
        """Send pending writes so database-made keys are known."""
        await self.session.flush()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
