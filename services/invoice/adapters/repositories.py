"""Repositories: how the service layer reads and writes invoices, keys, tokens and jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.tracing import TRACEPARENT, current_traceparent
from services.invoice.adapters.orm import (
    api_tokens,
    businesses,
    idempotency_keys,
    invoices,
    outbox,
    scheduled_runs,
)
from services.invoice.adapters.outbox_sql import with_traceparent
from services.invoice.adapters.stuck_delivery_sql import (
    REQUEUE_STUCK_DELIVERIES,
    SWEEP_STUCK_WEBHOOK_EVENTS,
)
from services.invoice.domain.model import Business, Invoice


@dataclass(frozen=True)
class StoredKey:
    """An idempotency key as first used: the request it was used for and its invoice."""

    request_hash: str
    invoice_id: str


@dataclass(frozen=True)
class StuckCutoffs:
    """When a pending delivery or event counts as abandoned: untouched since before
    `never_tried` (no attempt yet) or `retried` (attempted before)."""

    now: datetime
    never_tried: datetime
    retried: datetime

    def params(self) -> dict[str, datetime]:
        return {"now": self.now, "cutoff": self.never_tried, "retried_cutoff": self.retried}


@dataclass(frozen=True)
class TokenOwner:
    """Who a token belongs to: an operator, or a business."""

    role: str
    business_id: int | None
    business_public_id: str | None
    business_name: str | None


class InvoiceRepository:
    """Invoices, always read within one business."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, business_id: int, invoice_id: str) -> Invoice | None:
        stmt = select(Invoice).where(
            invoices.c.business_id == business_id, invoices.c.invoice_id == invoice_id
        )
        return (await self._session.scalars(stmt)).first()

    async def get_by_pk(self, pk: int) -> Invoice | None:
        return await self._session.get(Invoice, pk)

    async def get_for_update(
        self, invoice_id: str, business_id: int | None = None
    ) -> Invoice | None:
        """The invoice, locked until the transaction ends; any business's when none is given."""
        stmt = select(Invoice).where(invoices.c.invoice_id == invoice_id)
        if business_id is not None:
            stmt = stmt.where(invoices.c.business_id == business_id)
        return (await self._session.scalars(stmt.with_for_update())).first()

    async def list_newest_first(
        self,
        business_id: int,
        *,
        before_pk: int | None,
        limit: int,
        status: str | None,
        pdf_status: str | None,
    ) -> list[Invoice]:
        stmt = select(Invoice).where(invoices.c.business_id == business_id)
        if before_pk is not None:
            stmt = stmt.where(invoices.c.id < before_pk)
        if status is not None:
            stmt = stmt.where(invoices.c.status == status)
        if pdf_status is not None:
            stmt = stmt.where(invoices.c.pdf_status == pdf_status)
        stmt = stmt.order_by(invoices.c.id.desc()).limit(limit)
        return list((await self._session.scalars(stmt)).all())


class IdempotencyKeyRepository:
    """Idempotency keys, one per business and key."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(self, business_id: int, key: str) -> StoredKey | None:
        stmt = select(idempotency_keys.c.request_hash, idempotency_keys.c.invoice_id).where(
            idempotency_keys.c.business_id == business_id, idempotency_keys.c.key == key
        )
        row = (await self._session.execute(stmt)).first()
        return StoredKey(row.request_hash, row.invoice_id) if row else None


class OutboxRepository:
    """Jobs to publish once the transaction that wrote them commits."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(
        self, queue: str, actor: str, payload: dict[str, Any], available_at: datetime
    ) -> None:
        traceparent = current_traceparent()
        if traceparent is not None:  # the job continues the trace of the call that queued it
            payload = {**payload, TRACEPARENT: traceparent}
        stmt = insert(outbox).values(
            queue=queue, actor=actor, payload=payload, available_at=available_at
        )
        await self._session.execute(stmt)

    async def release(self, actor: str, invoice_id: str) -> None:
        """Make an invoice's held-back jobs due now."""
        stmt = (
            update(outbox)
            .where(outbox.c.actor == actor, outbox.c.payload["invoice_id"].astext == invoice_id)
            .values(available_at=func.now())
        )
        await self._session.execute(stmt)


class BusinessRepository:
    """Businesses and the tokens that act for them."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    def add(self, business: Business) -> None:
        self._session.add(business)

    async def add_token(
        self, token_hash: str, role: str, name: str, business_id: int | None
    ) -> None:
        await self._session.execute(
            insert(api_tokens).values(
                token_hash=token_hash, role=role, name=name, business_id=business_id
            )
        )

    async def owner_of(self, token_hash: str) -> TokenOwner | None:
        stmt = (
            select(api_tokens.c.role, businesses.c.id, businesses.c.public_id, businesses.c.name)
            .select_from(
                api_tokens.outerjoin(businesses, api_tokens.c.business_id == businesses.c.id)
            )
            .where(api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None))
        )
        row = (await self._session.execute(stmt)).first()
        if row is None:
            return None
        return TokenOwner(row.role, row.id, row.public_id, row.name)

    async def get(self, business_id: int) -> Business | None:
        return await self._session.get(Business, business_id)


class MaintenanceRepository:
    """The scheduler's jobs: who runs each period, and the bulk work itself."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def claim_period(self, job: str, period: str) -> bool:
        """Take this job's period; False when it was taken (waits while another run holds it)."""
        stmt = (
            pg_insert(scheduled_runs)
            .values(job=job, period=period)
            .on_conflict_do_nothing(index_elements=["job", "period"])
            .returning(scheduled_runs.c.job)
        )
        return (await self._session.execute(stmt)).first() is not None

    async def record_detail(self, job: str, period: str, detail: str) -> None:
        await self._session.execute(
            update(scheduled_runs)
            .where(scheduled_runs.c.job == job, scheduled_runs.c.period == period)
            .values(detail=detail)
        )

    async def requeue_stuck_renders(self, actor: str, queue: str, cutoff: datetime) -> int:
        """Queue again every render unfinished since before `cutoff` that has no job waiting."""
        result = await self._session.execute(
            _REQUEUE_STUCK,
            {
                "actor": actor,
                "queue": queue,
                "cutoff": cutoff,
                "traceparent": current_traceparent(),
            },
        )
        return len(result.all())

    async def requeue_stuck_deliveries(
        self, cutoffs: StuckCutoffs, lease_cutoff: datetime, limit: int
    ) -> int:
        """Queue again (at most `limit`) pending deliveries whose job was lost and whose claim,
        if any, was taken before `lease_cutoff`; how many."""
        params = {
            **cutoffs.params(),
            "lease_cutoff": lease_cutoff,
            "limit": limit,
            "traceparent": current_traceparent(),
        }
        result = await self._session.execute(REQUEUE_STUCK_DELIVERIES, params)
        return len(result.all())

    async def sweep_stuck_webhook_events(
        self, cutoffs: StuckCutoffs, window_start: datetime, limit: int
    ) -> tuple[int, int]:
        """Queue again the pending events whose job was lost, or give up those past their
        retry window (created before `window_start`); how many of each."""
        params = {
            **cutoffs.params(),
            "window_start": window_start,
            "limit": limit,
            "traceparent": current_traceparent(),
        }
        row = (await self._session.execute(SWEEP_STUCK_WEBHOOK_EVENTS, params)).one()
        return int(row.requeued), int(row.given_up)

    async def purge_idempotency_keys(self, cutoff: datetime) -> int:
        result = await self._session.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at < cutoff)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Marks each swept invoice as touched now, so one slow backlog is not queued again every run.
_REQUEUE_STUCK = text(
    "WITH stuck AS ("
    " UPDATE invoices SET pdf_updated_at = now()"
    " WHERE pdf_status IN ('pending', 'rendering') AND pdf_updated_at < :cutoff"
    " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.actor = :actor"
    " AND o.payload->>'invoice_id' = invoices.invoice_id)"
    " RETURNING id, invoice_id, pdf_generation)"
    " INSERT INTO outbox (queue, actor, payload)"
    " SELECT :queue, :actor, "
    + with_traceparent(
        "jsonb_build_object('invoice_pk', id, 'invoice_id', invoice_id,"
        " 'generation', pdf_generation)",
        ":traceparent",
    )
    + " FROM stuck"
    " RETURNING id"
)
