"""Invoice change events inside one process: a fan-out hub keyed by invoice, and watching.

The hub only says "this invoice changed"; a watcher then reads the invoice again. A burst of
changes therefore costs a slow watcher one read, not a growing queue, and a change the
listener may have missed (while it reconnected) is caught by waking every watcher.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from services.invoice.domain.model import Invoice
from services.invoice.service_layer import invoices
from services.invoice.service_layer.ports import PdfStates
from services.invoice.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class InvoiceChanged:
    """An invoice's PDF (or delivery) state changed and was committed."""

    invoice_id: str
    business_id: int
    generation: int
    pdf_status: str


class Subscription:
    """One watcher's wake-up flag: changes coalesce until the watcher reads."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()
        self.closed = False

    def wake(self) -> None:
        self._changed.set()

    def close(self) -> None:
        self.closed = True
        self._changed.set()

    async def wait(self) -> bool:
        """Wait for the next change; False once the hub is closed (the server is stopping)."""
        await self._changed.wait()
        self._changed.clear()
        return not self.closed


class ChangeHub:
    """Fans each change out to the subscribers of its invoice (event-loop only, no locks)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}
        self._closed = False

    @contextmanager
    def subscribe(self, invoice_id: str) -> Iterator[Subscription]:
        subscription = Subscription()
        if self._closed:
            subscription.close()
        subscribers = self._subscribers.setdefault(invoice_id, set())
        subscribers.add(subscription)
        try:
            yield subscription
        finally:
            subscribers.discard(subscription)
            if not subscribers and self._subscribers.get(invoice_id) is subscribers:
                del self._subscribers[invoice_id]

    def publish(self, change: InvoiceChanged) -> None:
        for subscription in self._subscribers.get(change.invoice_id, ()):
            subscription.wake()

    def wake_all(self) -> None:
        """Changes may have been missed (the listener reconnected): every watcher reads again."""
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.wake()

    def close(self) -> None:
        """End every watch (the server is stopping); later subscriptions end at once."""
        self._closed = True
        for subscribers in self._subscribers.values():
            for subscription in subscribers:
                subscription.close()

    @property
    def subscriber_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._subscribers.values())


def _pdf_state(invoice: Invoice) -> tuple[object, ...]:
    return (
        invoice.pdf_generation,
        invoice.pdf_status,
        invoice.pdf_attempts,
        invoice.pdf_error,
        invoice.pdf_storage_key,
        # Delivery changes are announced on the same channel: watchers see them too.
        tuple((d.channel, d.status, d.attempts, d.error) for d in invoice.deliveries),
    )


async def watch_invoice(
    uow: UnitOfWork, store: PdfStates, hub: ChangeHub, business_id: int, invoice_id: str
) -> AsyncIterator[Invoice]:
    """The business's invoice now, then again after each change of its state, until closed."""
    # Subscribe before the first read: a change committed in between still wakes us.
    with hub.subscribe(invoice_id) as subscription:
        invoice: Invoice | None = await invoices.get_invoice(uow, business_id, invoice_id)
        last: tuple[object, ...] | None = None
        while invoice is not None:
            state = _pdf_state(invoice)
            if state != last:
                last = state
                yield invoice
            if not await subscription.wait():
                return
            invoice = await store.load(invoice_id)
