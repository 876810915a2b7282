"""Reads an invoice for a render callback, and writes its PDF state back if nobody else did.

Two plain statements in autocommit instead of a locking transaction: the domain decides the
change on what was read, and the UPDATE lands only while the PDF state is still what was
read (optimistic concurrency); otherwise the caller reads again and decides again.
"""

from __future__ import annotations

from psycopg.rows import dict_row

from services.invoice.adapters.change_events import NOTIFY_CHANGED_ROW
from services.invoice.adapters.orm import lines_from_json
from services.invoice.adapters.pg_pool import LazyPool
from services.invoice.domain.model import Invoice

_COLUMNS = (
    "id, invoice_id, business_id, customer_name, customer_email, customer_phone, currency,"
    " lines, tax_rate, subtotal, tax, amount, due_date, notes, deliver, created_at, updated_at,"
    " status, pdf_status, pdf_generation, pdf_attempts, pdf_error, pdf_storage_key,"
    " pdf_checksum, pdf_updated_at"
)
_LOAD = f"SELECT {_COLUMNS} FROM invoices WHERE invoice_id = %(invoice_id)s"
# The change and its event in one statement: the notification goes out with the commit, and
# only when the UPDATE matched (no row, no event).
_SAVE = (
    "WITH changed AS ("
    "UPDATE invoices SET pdf_status = %(pdf_status)s, pdf_attempts = %(pdf_attempts)s,"
    " pdf_error = %(pdf_error)s, pdf_storage_key = %(pdf_storage_key)s,"
    " pdf_checksum = %(pdf_checksum)s, pdf_updated_at = %(pdf_updated_at)s,"
    " updated_at = %(updated_at)s"
    " WHERE id = %(id)s AND pdf_generation = %(was_generation)s"
    " AND pdf_status = %(was_status)s AND pdf_attempts = %(was_attempts)s"
    " RETURNING invoice_id, business_id, pdf_generation, pdf_status)"
    f" SELECT {NOTIFY_CHANGED_ROW} FROM changed"
)


class PdfStateStore:
    """Invoices as the render callbacks see them, over the shared psycopg pool."""

    def __init__(self, pool: LazyPool) -> None:
        self._pool = pool

    async def load(self, invoice_id: str) -> Invoice | None:
        async with self._pool.connection() as conn:
            cursor = conn.cursor(row_factory=dict_row)
            await cursor.execute(_LOAD, {"invoice_id": invoice_id})
            row = await cursor.fetchone()
        if row is None:
            return None
        row["lines"] = lines_from_json(row["lines"])
        return Invoice(**row)

    async def save_pdf_state(
        self, invoice: Invoice, was_generation: int, was_status: str, was_attempts: int
    ) -> bool:
        """Write the invoice's PDF fields unless they changed since they were read; a write
        announces itself on the change-event channel as it commits."""
        async with self._pool.connection() as conn:
            cursor = await conn.execute(
                _SAVE,
                {
                    "id": invoice.id,
                    "pdf_status": invoice.pdf_status,
                    "pdf_attempts": invoice.pdf_attempts,
                    "pdf_error": invoice.pdf_error,
                    "pdf_storage_key": invoice.pdf_storage_key,
                    "pdf_checksum": invoice.pdf_checksum,
                    "pdf_updated_at": invoice.pdf_updated_at,
                    "updated_at": invoice.updated_at,
                    "was_generation": was_generation,
                    "was_status": was_status,
                    "was_attempts": was_attempts,
                },
            )
            return cursor.rowcount == 1
