"""Invoice change events over PostgreSQL LISTEN/NOTIFY: the NOTIFY side and the listener.

Why PostgreSQL and not Redis pub/sub: every change is a row the invoice service commits in
PostgreSQL, and a NOTIFY issued by the same statement or transaction is delivered exactly
when that transaction commits and never when it rolls back. So there is no event without
its commit and no commit without its event, with no second system to fail in between (a
Redis PUBLISH after the commit would be lost if the process died between the two). Every
invoice-service replica LISTENs on its own connection, so each change reaches all of them.
NOTIFY payloads are small (the ids, generation and status); watchers read the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.invoice.adapters.database import libpq_url
from services.invoice.service_layer.events import ChangeHub, InvoiceChanged

log = logging.getLogger(__name__)
CHANNEL = "invoice_events"
# A select-list item for a statement whose FROM is the changed invoice rows (a CTE's
# RETURNING): the notification then exists only if the row really changed.
NOTIFY_CHANGED_ROW = (
    f"pg_notify('{CHANNEL}', json_build_object('invoice_id', invoice_id,"
    " 'business_id', business_id, 'generation', pdf_generation,"
    " 'pdf_status', pdf_status)::text)"
)
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")
# How often an idle listener checks its connection is still alive.
HEARTBEAT_SECONDS = 10.0
RECONNECT_MIN_SECONDS = 0.2
RECONNECT_MAX_SECONDS = 5.0


def change_payload(change: InvoiceChanged) -> str:
    return json.dumps(
        {
            "invoice_id": change.invoice_id,
            "business_id": change.business_id,
            "generation": change.generation,
            "pdf_status": change.pdf_status,
        }
    )


def parse_change(payload: str) -> InvoiceChanged | None:
    """The change a notification carries; None (logged) for one this version cannot read."""
    try:
        data = json.loads(payload)
        return InvoiceChanged(
            str(data["invoice_id"]),
            int(data["business_id"]),
            int(data["generation"]),
            str(data["pdf_status"]),
        )
    except (ValueError, KeyError, TypeError):
        log.warning("unreadable invoice change event", extra={"payload": payload[:200]})
        return None


async def notify_in_transaction(session: AsyncSession, change: InvoiceChanged) -> None:
    """Queue the change's notification in the session's transaction: sent if it commits."""
    await session.execute(_NOTIFY, {"channel": CHANNEL, "payload": change_payload(change)})


class ChangeListener:
    """One LISTEN connection per process, dispatching to the hub; reconnects when it drops."""

    def __init__(
        self, database_url: str, hub: ChangeHub, heartbeat_seconds: float = HEARTBEAT_SECONDS
    ) -> None:
        self._conninfo = libpq_url(database_url)
        self._hub = hub
        self._heartbeat_seconds = heartbeat_seconds
        self.listening = asyncio.Event()
        self.backend_pid: int | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until `stop` is set."""
        delay = RECONNECT_MIN_SECONDS
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                listening = asyncio.create_task(self._listen())
                await asyncio.wait({listening, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not listening.done():
                    listening.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await listening
                    break
                self.listening.clear()
                if self.backend_pid is not None:
                    # It was listening: reconnect quickly. Failing to connect backs off.
                    delay = RECONNECT_MIN_SECONDS
                log.warning(
                    "change listener lost its connection; reconnecting",
                    extra={"error": repr(listening.exception()), "retry_in_seconds": delay},
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, RECONNECT_MAX_SECONDS)
        finally:
            stopping.cancel()
            self.listening.clear()

    async def _listen(self) -> None:
        self.backend_pid = None
        conn = await psycopg.AsyncConnection.connect(
            self._conninfo, autocommit=True, connect_timeout=5
        )
        async with conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.backend_pid = conn.info.backend_pid
            self.listening.set()
            log.info("listening for invoice changes", extra={"channel": CHANNEL})
            # Whatever committed while nobody listened: every watcher reads its invoice again.
            self._hub.wake_all()
            while True:
                async for notify in conn.notifies(timeout=self._heartbeat_seconds):
                    change = parse_change(notify.payload)
                    if change is not None:
                        self._hub.publish(change)
                await asyncio.wait_for(conn.execute("SELECT 1"), self._heartbeat_seconds)
