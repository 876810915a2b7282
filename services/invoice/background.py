"""The invoice service's background work: the outbox relay, the render-backlog reading and
the change-event listener."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services.invoice.bootstrap import InvoiceApp

log = logging.getLogger(__name__)
BACKLOG_REFRESH_SECONDS = 1.0


async def run_background_tasks(app: InvoiceApp, stop: asyncio.Event) -> None:
    """Run until `stop` is set."""
    tasks = []
    if app.listener is not None:
        tasks.append(asyncio.create_task(app.listener.run(stop)))
    if app.relay is not None:
        tasks.append(asyncio.create_task(app.relay.run(stop)))
        tasks.append(asyncio.create_task(_watch_backlog(app, stop)))
    if tasks:
        await asyncio.gather(*tasks)


async def _watch_backlog(app: InvoiceApp, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.to_thread(app.refresh_render_backlog)
        except Exception as exc:  # Redis down: keep the last reading, try again
            log.debug("could not read the render backlog", extra={"error": repr(exc)})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), BACKLOG_REFRESH_SECONDS)
