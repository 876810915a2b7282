"""Webhooks and their events: registration, and the event rows (with their jobs) to send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.queues import DEFAULT, SEND_WEBHOOK_ACTOR
from services.common.tracing import current_traceparent
from services.invoice.adapters.orm import webhook_events, webhooks
from services.invoice.adapters.outbox_sql import with_traceparent
from services.invoice.domain.webhooks import Webhook, WebhookEvent

# One event row per live webhook of the business subscribed to the type, and a job for each:
# written together, so no event lacks its job. Event ids are random (`evt_` and 32 hex).
EVENT_ROWS_SQL = (
    "INSERT INTO webhook_events (event_id, webhook_pk, type, invoice_id, payload, status,"
    " attempts, created_at, updated_at)"
    " SELECT 'evt_' || replace(gen_random_uuid()::text, '-', ''), w.id, {type}, {invoice_id},"
    " {payload}, 'pending', 0, {now}, {now}"
    " FROM {source} webhooks w WHERE w.business_id = {business_id} AND w.deleted_at IS NULL"
    " AND {type} = ANY(w.events)"
    " RETURNING event_id"
)


def event_jobs_sql(traceparent: str) -> str:
    """The job for each new event, continuing the trace of the call that raised it."""
    payload = with_traceparent("jsonb_build_object('event_id', event_id)", traceparent)
    return (
        "INSERT INTO outbox (queue, actor, payload)"
        f" SELECT '{DEFAULT.name}', '{SEND_WEBHOOK_ACTOR}', {payload} FROM new_events"
    )


_ADD_EVENTS = text(
    "WITH new_events AS ("
    + EVENT_ROWS_SQL.format(
        type="CAST(:type AS varchar)",
        invoice_id=":invoice_id",
        payload=":payload",
        now=":now",
        source="",
        business_id=":business_id",
    )
    + ") "
    + event_jobs_sql(":traceparent")
).bindparams(bindparam("payload", type_=JSONB))


class WebhookRepository:
    """A business's webhooks, and the events queued for them."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, webhook: Webhook) -> None:
        self._session.add(webhook)

    async def live(self, business_id: int) -> list[Webhook]:
        stmt = (
            select(Webhook)
            .where(webhooks.c.business_id == business_id, webhooks.c.deleted_at.is_(None))
            .order_by(webhooks.c.id)
        )
        return list((await self._session.scalars(stmt)).all())

    async def get_live(self, business_id: int, webhook_id: str) -> Webhook | None:
        stmt = select(Webhook).where(
            webhooks.c.business_id == business_id,
            webhooks.c.webhook_id == webhook_id,
            webhooks.c.deleted_at.is_(None),
        )
        return (await self._session.scalars(stmt)).first()

    async def event_for_update(self, event_id: str) -> tuple[WebhookEvent, Webhook] | None:
        """The event (locked until the transaction ends) and its webhook."""
        stmt = select(WebhookEvent).where(webhook_events.c.event_id == event_id).with_for_update()
        event = (await self._session.scalars(stmt)).first()
        if event is None:
            return None
        webhook = await self._session.get(Webhook, event.webhook_pk)
        assert webhook is not None
        return event, webhook

    async def add_events(
        self, business_id: int, type_: str, invoice_id: str, data: dict[str, Any], now: datetime
    ) -> None:
        """An event (and its job) for every live webhook of the business subscribed to it."""
        await self._session.execute(
            _ADD_EVENTS,
            {
                "type": type_,
                "invoice_id": invoice_id,
                "payload": data,
                "now": now,
                "business_id": business_id,
                "traceparent": current_traceparent(),
            },
        )
