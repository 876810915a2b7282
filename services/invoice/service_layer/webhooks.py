"""Handlers for a business's webhooks, and for the worker sending their events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.invoice.domain import webhooks
from services.invoice.domain.errors import NotFound
from services.invoice.domain.webhooks import Webhook
from services.invoice.service_layer.invoices import utc_now
from services.invoice.service_layer.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class EventAttempt:
    """What one attempt at sending an event needs: where, how to sign, and what."""

    event_id: str
    url: str
    secret: str
    body: bytes
    attempts: int


async def register_webhook(
    uow: UnitOfWork,
    business_id: int,
    url: str,
    events: list[str],
    clock: Callable[[], datetime] = utc_now,
) -> Webhook:
    """Register an endpoint; the returned webhook carries its secret (shown only now)."""
    url, events = webhooks.checked_registration(url, events)
    webhook = Webhook(
        webhook_id=webhooks.new_webhook_id(),
        business_id=business_id,
        url=url,
        events=events,
        secret=webhooks.new_secret(),
        created_at=clock(),
    )
    async with uow:
        uow.webhooks.add(webhook)
        await uow.commit()
    return webhook


async def list_webhooks(uow: UnitOfWork, business_id: int) -> list[Webhook]:
    async with uow:
        return await uow.webhooks.live(business_id)


async def delete_webhook(
    uow: UnitOfWork, business_id: int, webhook_id: str, clock: Callable[[], datetime] = utc_now
) -> None:
    """Stop sending to the endpoint; its events not yet sent are given up."""
    async with uow:
        webhook = await uow.webhooks.get_live(business_id, webhook_id)
        if webhook is None:
            raise NotFound(f"no webhook {webhook_id}")
        webhook.deleted_at = clock()
        await uow.commit()


async def start_attempt(
    uow: UnitOfWork, event_id: str, clock: Callable[[], datetime] = utc_now
) -> EventAttempt | None:
    """Count an attempt and return what to send; None when there is nothing to send."""
    async with uow:
        found = await uow.webhooks.event_for_update(event_id)
        if found is None:
            raise NotFound(f"no webhook event {event_id}")
        event, webhook = found
        send = webhooks.start_attempt(event, webhook, clock())
        await uow.commit()
    if not send:
        return None
    return EventAttempt(
        event.event_id, webhook.url, webhook.secret, webhooks.event_body(event), event.attempts
    )


async def finish_attempt(
    uow: UnitOfWork,
    event_id: str,
    *,
    error: str | None = None,
    final: bool = True,
    window: timedelta | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> bool:
    """Record the attempt's outcome: sent when there is no error; failures end with the
    last retry or once the event is older than `window`."""
    async with uow:
        found = await uow.webhooks.event_for_update(event_id)
        if found is None:
            raise NotFound(f"no webhook event {event_id}")
        event, _ = found
        if error is None:
            applied = webhooks.complete_attempt(event, clock())
        else:
            applied = webhooks.fail_attempt(event, error, final, clock(), window)
        if applied:
            await uow.commit()
    return applied
