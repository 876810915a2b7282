"""Publishes committed outbox rows to the job queues: woken right after a commit, and swept.

At least once: a batch's rows are deleted in the transaction that commits only after their jobs
were enqueued, so a crash in between sends the jobs again, and everything downstream is
idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection

from services.common.tracing import TRACEPARENT
from services.invoice.adapters.job_publisher import DramatiqPublisher, Job
from services.invoice.adapters.pg_pool import LazyPool
from services.invoice.adapters.publish_tracing import publish_spans

log = logging.getLogger(__name__)

# Takes due rows off the outbox, locked, in one round trip; the transaction commits the
# deletion only once their jobs are in Redis (a failed publish rolls it back).
_TAKE_DUE = (
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE available_at <= now()"
    " ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)"
    " RETURNING id, queue, actor, payload"
)


@dataclass(frozen=True)
class OutboxRow:
    """A job row waiting to be published."""

    id: int
    queue: str
    actor: str
    payload: dict[str, Any]
    # The trace of the call that wrote the row, taken out of the payload the job receives.
    traceparent: str | None = None

    @classmethod
    def from_stored(cls, row_id: int, queue: str, actor: str, payload: dict[str, Any]) -> OutboxRow:
        """The row as read back, its trace context split off the payload."""
        payload = dict(payload)
        traceparent = payload.pop(TRACEPARENT, None)
        return cls(row_id, queue, actor, payload, traceparent)

    def job_options(self) -> dict[str, Any]:
        """The Dramatiq message options that carry the row's trace to the job."""
        return {TRACEPARENT: self.traceparent} if self.traceparent else {}


# Turns due rows into the jobs to send; rows it leaves out (stale work) are dropped too.
Expander = Callable[[AsyncConnection, list[OutboxRow]], Awaitable[list[Job]]]


class OutboxRelay:
    """Moves outbox rows to Redis soon after they commit, and again after Redis comes back.

    Straight on psycopg (a pool of its own, normally one connection): on the path of every
    create-to-ready, SQLAlchemy's async layer cost more than the relay's two statements.
    """

    def __init__(
        self,
        pool: LazyPool,
        publisher: DramatiqPublisher,
        expand: Expander,
        *,
        batch_size: int = 200,
        sweep_seconds: float = 1.0,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self._pool = pool
        self._publisher = publisher
        self._expand = expand
        self._batch_size = batch_size
        self._sweep_seconds = sweep_seconds
        self._max_backoff = max_backoff_seconds
        self._wakeup = asyncio.Event()
        self.published_total = 0

    async def close(self) -> None:
        """Close the relay's connection."""
        await self._pool.close()

    def wake(self) -> None:
        """Publish soon: a transaction with outbox rows has just committed."""
        self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set, backing off while Redis or PostgreSQL is down."""
        backoff = 0.1
        while not stop.is_set():
            try:
                sent = await self.publish_due()
                backoff = 0.1
                if sent >= self._batch_size:
                    continue  # more are waiting
            except Exception as exc:  # keep going: the rows are safe in PostgreSQL
                log.warning("outbox publish failed; will retry", extra={"error": repr(exc)})
                await _sleep_unless(stop, backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            await self._wait(stop)

    async def _wait(self, stop: asyncio.Event) -> None:
        waiters = {asyncio.ensure_future(self._wakeup.wait()), asyncio.ensure_future(stop.wait())}
        try:
            await asyncio.wait(
                waiters, timeout=self._sweep_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wakeup.clear()

    async def publish_due(self) -> int:
        """Publish one batch of due rows; returns how many rows it took off the outbox."""
        async with self._pool.connection() as conn, conn.transaction():
            cursor = await conn.execute(_TAKE_DUE, {"limit": self._batch_size})
            rows = sorted(
                (OutboxRow.from_stored(*r) for r in await cursor.fetchall()),
                key=lambda row: row.id,  # RETURNING has no order of its own
            )
            if not rows:
                return 0
            jobs = await self._expand(conn, rows)
            if jobs:
                with publish_spans(jobs):
                    await asyncio.to_thread(self._publisher.publish, jobs)
        self.published_total += len(jobs)
        return len(rows)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
