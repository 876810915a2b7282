"""A psycopg connection pool for the hot statements, opened on first use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from services.invoice.adapters.database import libpq_url


class LazyPool:
    """Autocommit connections straight from psycopg: for statements where SQLAlchemy's
    async layer would cost more than the statement itself."""

    def __init__(self, database_url: str, size: int) -> None:
        conninfo = libpq_url(database_url)
        self._pool = AsyncConnectionPool(
            conninfo, min_size=size, max_size=size, kwargs={"autocommit": True}, open=False
        )
        self._opened = False
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        if not self._opened:
            async with self._lock:
                if not self._opened:
                    await self._pool.open()
                    self._opened = True
        async with self._pool.connection() as conn:
            yield conn

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()
