"""Saves new invoices with their render jobs and idempotency keys, many per statement.

Creates that arrive while a statement is in flight, or within a short linger before it,
go together in one statement (group commit): one round trip and one commit for the lot,
instead of one each. The linger is only spent while creates come close together (like
PostgreSQL's `commit_delay`, which waits only when other transactions are active): a lone
create on a quiet service is written at once. Each row is
still all-or-nothing: its invoice, outbox row and key are written by the same statement, and
a key already held (by an earlier or a concurrent request) writes neither its invoice nor
its job. A batch that fails is retried row by row, so one bad row never fails its neighbours.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb

from services.common.tracing import current_traceparent
from services.invoice.adapters.orm import lines_to_json
from services.invoice.adapters.pg_pool import LazyPool
from services.invoice.service_layer.ports import DuplicateInvoiceNumber, NewInvoice

# A new invoice waiting for its statement, the caller's future, and the caller's trace.
_Pending = tuple[NewInvoice, "asyncio.Future[bool]", str | None]

_CREATE_MANY = """
WITH input AS (
  SELECT * FROM unnest(
    %(invoice_id)b::text[], %(business_id)b::bigint[], %(customer_name)b::text[],
    %(customer_email)b::text[], %(customer_phone)b::text[], %(currency)b::text[],
    %(lines)b::jsonb[], %(tax_rate)b::numeric[], %(subtotal)b::numeric[], %(tax)b::numeric[],
    %(amount)b::numeric[], %(due_date)b::date[], %(notes)b::text[], %(deliver)b::text[],
    %(created_at)b::timestamptz[], %(queue)b::text[], %(actor)b::text[],
    %(available_at)b::timestamptz[], %(key)b::text[], %(request_hash)b::text[],
    %(traceparent)b::text[]
  ) AS t(invoice_id, business_id, customer_name, customer_email, customer_phone, currency,
         lines, tax_rate, subtotal, tax, amount, due_date, notes, deliver, created_at, queue,
         actor, available_at, key, request_hash, traceparent)
), k AS (
  INSERT INTO idempotency_keys (business_id, key, request_hash, invoice_id)
  SELECT business_id, key, request_hash, invoice_id FROM input WHERE key IS NOT NULL
  ON CONFLICT (business_id, key) DO NOTHING
  RETURNING invoice_id
), inv AS (
  INSERT INTO invoices (invoice_id, business_id, customer_name, customer_email,
    customer_phone, currency, lines, tax_rate, subtotal, tax, amount, due_date, notes,
    deliver, status, pdf_status, pdf_generation, pdf_attempts, pdf_updated_at, created_at,
    updated_at)
  SELECT invoice_id, business_id, customer_name, customer_email, customer_phone, currency,
    lines, tax_rate, subtotal, tax, amount, due_date, notes,
    CASE WHEN deliver = '' THEN '{}'::varchar[] ELSE string_to_array(deliver, ',') END,
    'pending', 'pending', 1, 0, created_at, created_at, created_at
  FROM input WHERE key IS NULL OR invoice_id IN (SELECT invoice_id FROM k)
  RETURNING id, invoice_id, pdf_generation
), job AS (
  INSERT INTO outbox (queue, actor, payload, available_at)
  SELECT input.queue, input.actor,
    jsonb_build_object('invoice_pk', inv.id, 'invoice_id', inv.invoice_id,
                       'generation', inv.pdf_generation)
      || CASE WHEN input.traceparent IS NULL THEN '{}'::jsonb
         ELSE jsonb_build_object('traceparent', input.traceparent) END,
    input.available_at
  FROM inv JOIN input USING (invoice_id)
)
SELECT invoice_id, id FROM inv
"""


def _columns(pending: list[_Pending]) -> dict[str, list[Any]]:
    """The statement's parameters: one array per column, one element per invoice.

    They go in binary (`%(name)b`): text arrays would be escaped element by element.
    """
    columns: dict[str, list[Any]] = {name: [] for name in _PARAMS}
    for row, _, traceparent in pending:
        inv = row.invoice
        values = (
            inv.invoice_id,
            inv.business_id,
            inv.customer_name,
            inv.customer_email,
            inv.customer_phone,
            inv.currency,
            Jsonb(lines_to_json(inv.lines), dumps=_dumps),
            inv.tax_rate,
            inv.subtotal,
            inv.tax,
            inv.amount,
            inv.due_date,
            inv.notes,
            ",".join(inv.deliver),
            inv.created_at,
            row.queue,
            row.actor,
            row.job_available_at,
            row.key,
            row.request_hash,
            traceparent,
        )
        for name, value in zip(_PARAMS, values, strict=True):
            columns[name].append(value)
    return columns


_PARAMS = (
    "invoice_id",
    "business_id",
    "customer_name",
    "customer_email",
    "customer_phone",
    "currency",
    "lines",
    "tax_rate",
    "subtotal",
    "tax",
    "amount",
    "due_date",
    "notes",
    "deliver",
    "created_at",
    "queue",
    "actor",
    "available_at",
    "key",
    "request_hash",
    "traceparent",
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class BatchingInvoiceCreator:
    """Group commit of new invoices over a psycopg pool in autocommit mode."""

    def __init__(
        self,
        pool: LazyPool,
        *,
        max_batch: int = 128,
        max_in_flight: int = 1,
        linger_seconds: float = 0.002,
    ) -> None:
        self._pool = pool
        self._linger = linger_seconds
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._pending: list[_Pending] = []
        self._in_flight = 0
        self._draining: set[asyncio.Task[None]] = set()
        # Creates closer together than this count as busy traffic, worth lingering for.
        self._busy_gap = 4 * linger_seconds
        self._last_arrival = float("-inf")
        self._busy = False
        self.statements = 0
        self.rows = 0

    async def save(self, new: NewInvoice) -> bool:
        """Save it (setting `invoice.id`); False when its idempotency key was already held."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        now = loop.time()
        self._busy = now - self._last_arrival < self._busy_gap
        self._last_arrival = now
        # The request's trace goes with its job; the batch runs outside any one request.
        self._pending.append((new, future, current_traceparent()))
        if self._in_flight < self._max_in_flight:
            self._in_flight += 1
            drain = loop.create_task(self._drain())
            self._draining.add(drain)  # held, so the loop's weak reference is not the only one
            drain.add_done_callback(self._draining.discard)
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                if self._linger and self._busy and len(self._pending) < self._max_batch:
                    await asyncio.sleep(self._linger)
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._write(batch)
        finally:
            self._in_flight -= 1

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            saved = await self._execute(batch)
        except (psycopg.Error, OSError) as exc:
            if len(batch) > 1:
                for item in batch:  # find the row at fault; the others still land
                    await self._write([item])
                return
            _, future, _ = batch[0]
            if not future.done():
                future.set_exception(_translate(exc))
            return
        for row, future, _ in batch:
            pk = saved.get(row.invoice.invoice_id)
            if pk is not None:
                row.invoice.id = pk
            if not future.done():
                future.set_result(pk is not None)

    async def _execute(self, batch: list[_Pending]) -> dict[str, int]:
        self.statements += 1
        self.rows += len(batch)
        async with self._pool.connection() as conn:
            cursor = await conn.execute(_CREATE_MANY, _columns(batch))
            return {invoice_id: pk for invoice_id, pk in await cursor.fetchall()}


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, pg_errors.UniqueViolation) and "invoice_id" in str(exc):
        return DuplicateInvoiceNumber(str(exc))
    return exc
