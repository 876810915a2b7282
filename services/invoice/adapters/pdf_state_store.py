"""Reads an invoice for a render callback, and writes its PDF state back if nobody else did.

Two plain statements in autocommit instead of a locking transaction: the domain decides the
change on what was read, and the UPDATE lands only while the PDF state is still what was
read (optimistic concurrency); otherwise the caller reads again and decides again.

The write is one statement that also does everything the change sets going: the change
event, the deliveries of a ready PDF with their jobs, and the webhook events with theirs.
So a crash can lose none of them, and a duplicate callback (whose UPDATE matches nothing)
creates none of them twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from services.common.tracing import current_traceparent
from services.invoice.adapters.change_events import NOTIFY_CHANGED_ROW
from services.invoice.adapters.orm import lines_from_json
from services.invoice.adapters.outbox_sql import CHANNEL_JOBS, with_traceparent
from services.invoice.adapters.pg_pool import LazyPool
from services.invoice.adapters.webhook_repository import EVENT_ROWS_SQL, event_jobs_sql
from services.invoice.domain.deliveries import Delivery
from services.invoice.domain.model import Invoice
from services.invoice.service_layer.ports import DescribeInvoice, PdfFollowUps

# The invoice columns, named as the domain class takes them (its deliveries apart).
INVOICE_COLUMNS = (
    "id, invoice_id, business_id, customer_name, customer_email, customer_phone, currency,"
    " lines, tax_rate, subtotal, tax, amount, due_date, notes, deliver, created_at, updated_at,"
    " status, pdf_status, pdf_generation, pdf_attempts, pdf_error, pdf_storage_key,"
    " pdf_checksum, pdf_updated_at"
)
_DELIVERIES = (
    "(SELECT coalesce(json_agg(json_build_object('id', d.id, 'channel', d.channel,"
    " 'status', d.status, 'attempts', d.attempts, 'error', d.error, 'sent_at', d.sent_at,"
    " 'created_at', d.created_at, 'updated_at', d.updated_at) ORDER BY d.id), '[]'::json)"
    " FROM deliveries d WHERE d.invoice_pk = invoices.id) AS deliveries"
)
_LOAD = f"SELECT {INVOICE_COLUMNS}, {_DELIVERIES} FROM invoices WHERE invoice_id = %(invoice_id)s"
_EVENT_ROWS = EVENT_ROWS_SQL.format(
    type="%(event_type)s::varchar",
    invoice_id="changed.invoice_id",
    payload="%(event_data)s",
    now="%(updated_at)s",
    source="changed,",
    business_id="changed.business_id",
)
_EVENT_JOBS = event_jobs_sql("%(traceparent)s")
# The change and all it sets going in one statement (data-modifying CTEs always run to
# completion); the notification goes out with the commit, and only when the UPDATE matched.
# Without event data it writes nothing at all if the business has a webhook for the event
# (`needs_data`), so an event can never be written without its data, nor skipped.
_SAVE = (
    "WITH guard AS (SELECT %(event_type)s::varchar IS NOT NULL"
    " AND %(event_data)s::jsonb IS NULL AND EXISTS (SELECT 1 FROM webhooks w"
    " WHERE w.business_id = %(business_id)s AND w.deleted_at IS NULL"
    " AND %(event_type)s::varchar = ANY(w.events)) AS needs_data),"
    " changed AS ("
    "UPDATE invoices SET pdf_status = %(pdf_status)s, pdf_attempts = %(pdf_attempts)s,"
    " pdf_error = %(pdf_error)s, pdf_storage_key = %(pdf_storage_key)s,"
    " pdf_checksum = %(pdf_checksum)s, pdf_updated_at = %(pdf_updated_at)s,"
    " updated_at = %(updated_at)s"
    " WHERE id = %(id)s AND pdf_generation = %(was_generation)s"
    " AND pdf_status = %(was_status)s AND pdf_attempts = %(was_attempts)s"
    " AND NOT (SELECT needs_data FROM guard)"
    " RETURNING id, invoice_id, business_id, pdf_generation, pdf_status),"
    " new_deliveries AS ("
    " INSERT INTO deliveries (invoice_pk, channel, status, attempts, created_at, updated_at)"
    " SELECT changed.id, channel, 'pending', 0, %(updated_at)s, %(updated_at)s"
    " FROM changed, unnest(%(channels)s::varchar[]) AS channel"
    " ON CONFLICT (invoice_pk, channel) DO NOTHING RETURNING channel),"
    " delivery_jobs AS ("
    " INSERT INTO outbox (queue, actor, payload)"
    " SELECT jobs.queue, jobs.actor, "
    + with_traceparent(
        "jsonb_build_object('invoice_id', %(invoice_id)s::text, 'channel', new_deliveries.channel)",
        "%(traceparent)s",
    )
    + f" FROM new_deliveries JOIN {CHANNEL_JOBS} USING (channel)),"
    f" new_events AS ({_EVENT_ROWS}),"
    f" event_jobs AS ({_EVENT_JOBS})"
    " SELECT changed.id IS NOT NULL AS saved, guard.needs_data,"
    f" CASE WHEN changed.id IS NOT NULL THEN {NOTIFY_CHANGED_ROW} END"
    " FROM guard LEFT JOIN changed ON true"
)


def _delivery_from_json(item: dict[str, Any], invoice_pk: int) -> Delivery:
    def when(key: str) -> datetime | None:
        value = item.get(key)
        return datetime.fromisoformat(value) if value else None

    created, updated = when("created_at"), when("updated_at")
    assert created is not None and updated is not None
    return Delivery(
        invoice_pk=invoice_pk,
        channel=item["channel"],
        created_at=created,
        updated_at=updated,
        status=item["status"],
        attempts=int(item["attempts"]),
        error=item.get("error"),
        sent_at=when("sent_at"),
        id=int(item["id"]),
    )


class PdfStateStore:
    """Invoices as the render callbacks see them, over the shared psycopg pool."""

    def __init__(self, pool: LazyPool, describe: DescribeInvoice | None = None) -> None:
        self._pool = pool
        self._businesses: dict[int, tuple[str, str]] = {}
        # Businesses seen with a webhook: their events' data is built before the first write.
        # Kept for the process (a stale entry only costs building data nobody receives).
        self._with_webhooks: set[int] = set()
        # Builds webhook event data; without it no webhook event is written.
        self.describe = describe

    async def load(self, invoice_id: str) -> Invoice | None:
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(_LOAD, {"invoice_id": invoice_id})
            row = await cursor.fetchone()
        if row is None:
            return None
        row["lines"] = lines_from_json(row["lines"])
        row["deliveries"] = [_delivery_from_json(d, row["id"]) for d in row["deliveries"]]
        return Invoice(**row)

    async def business_of(self, business_id: int) -> tuple[str, str]:
        """A business's public id and name (they never change, so each is read once)."""
        known = self._businesses.get(business_id)
        if known is None:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(
                    "SELECT public_id, name FROM businesses WHERE id = %s", (business_id,)
                )
                row = await cursor.fetchone()
            assert row is not None, f"no business {business_id}"
            known = self._businesses[business_id] = (str(row[0]), str(row[1]))
        return known

    async def save_pdf_state(
        self,
        invoice: Invoice,
        was_generation: int,
        was_status: str,
        was_attempts: int,
        follow_ups: PdfFollowUps | None = None,
    ) -> bool:
        """Write the invoice's PDF fields unless they changed since they were read; a write
        announces itself on the change-event channel as it commits, with its follow-ups.

        The webhook event's data (the invoice as the API shows it, with a presigned link) is
        built only for a business known to have a webhook; for any other the statement itself
        checks, and refuses to write when one exists, and the write is made again with data.
        """
        follow_ups = follow_ups or PdfFollowUps()
        event_type = follow_ups.event_type if self.describe is not None else None
        was = (was_generation, was_status, was_attempts)
        described = event_type is not None and invoice.business_id in self._with_webhooks
        saved, needs_data = await self._save(invoice, was, follow_ups, event_type, described)
        if needs_data:  # a webhook wants this event: remember the business, send the data
            self._with_webhooks.add(invoice.business_id)
            saved, _ = await self._save(invoice, was, follow_ups, event_type, True)
        return saved

    async def _save(
        self,
        invoice: Invoice,
        was: tuple[int, str, int],
        follow_ups: PdfFollowUps,
        event_type: str | None,
        described: bool,
    ) -> tuple[bool, bool]:
        """One attempt at the write: (saved, refused for want of event data)."""
        event_data = None
        if described and event_type is not None and self.describe is not None:
            event_data = self.describe(invoice, *await self.business_of(invoice.business_id))
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                _SAVE,
                {
                    "id": invoice.id,
                    "invoice_id": invoice.invoice_id,
                    "business_id": invoice.business_id,
                    "pdf_status": invoice.pdf_status,
                    "pdf_attempts": invoice.pdf_attempts,
                    "pdf_error": invoice.pdf_error,
                    "pdf_storage_key": invoice.pdf_storage_key,
                    "pdf_checksum": invoice.pdf_checksum,
                    "pdf_updated_at": invoice.pdf_updated_at,
                    "updated_at": invoice.updated_at,
                    "traceparent": current_traceparent(),
                    "was_generation": was[0],
                    "was_status": was[1],
                    "was_attempts": was[2],
                    "channels": follow_ups.channels,
                    "event_type": event_type,
                    "event_data": None if event_data is None else Jsonb(event_data),
                },
            )
            row = await cursor.fetchone()
        assert row is not None  # the guard always yields its one row
        return bool(row[0]), bool(row[1])
