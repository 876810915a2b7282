"""The one statement that saves a new invoice with its render job (and idempotency key).

One statement is one atomic write and one round trip: the invoice, its outbox row and the key
either all land or none does, with no BEGIN/COMMIT exchange around them. When the key is
already held, the key insert returns nothing, so neither the invoice nor its job is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import String

from services.invoice.adapters.orm import LinesType
from services.invoice.domain.model import Invoice

_COLUMNS = (
    "invoice_id, business_id, customer_name, customer_email, customer_phone, currency, lines,"
    " tax_rate, subtotal, tax, amount, due_date, notes, deliver, status, pdf_status,"
    " pdf_generation, pdf_attempts, pdf_updated_at, created_at, updated_at"
)
_VALUES = (
    ":invoice_id, :business_id, :customer_name, :customer_email, :customer_phone, :currency,"
    " :lines, :tax_rate, :subtotal, :tax, :amount, :due_date, :notes, :deliver, :status,"
    " :pdf_status, :pdf_generation, 0, :created_at, :created_at, :created_at"
)
_JOB = (
    "INSERT INTO outbox (queue, actor, payload, available_at)"
    " SELECT :queue, :actor, jsonb_build_object("
    "'invoice_pk', inv.id, 'invoice_id', inv.invoice_id, 'generation', inv.pdf_generation),"
    " :available_at"
    " FROM inv RETURNING (payload->>'invoice_pk')::bigint AS invoice_pk"
)


def _typed(sql: str) -> TextClause:
    return text(sql).bindparams(
        bindparam("lines", type_=LinesType()), bindparam("deliver", type_=ARRAY(String))
    )


WITHOUT_KEY = _typed(
    f"WITH inv AS (INSERT INTO invoices ({_COLUMNS}) VALUES ({_VALUES})"
    f" RETURNING id, invoice_id, pdf_generation) {_JOB}"
)
WITH_KEY = _typed(
    "WITH k AS (INSERT INTO idempotency_keys (business_id, key, request_hash, invoice_id)"
    " VALUES (:business_id, :key, :request_hash, :invoice_id)"
    " ON CONFLICT (business_id, key) DO NOTHING RETURNING invoice_id),"
    f" inv AS (INSERT INTO invoices ({_COLUMNS}) SELECT {_VALUES} FROM k"
    f" RETURNING id, invoice_id, pdf_generation) {_JOB}"
)


def parameters(invoice: Invoice, queue: str, actor: str, available_at: datetime) -> dict[str, Any]:
    """The statement's parameters for this invoice and its job."""
    return {
        "invoice_id": invoice.invoice_id,
        "business_id": invoice.business_id,
        "customer_name": invoice.customer_name,
        "customer_email": invoice.customer_email,
        "customer_phone": invoice.customer_phone,
        "currency": invoice.currency,
        "lines": invoice.lines,
        "tax_rate": invoice.tax_rate,
        "subtotal": invoice.subtotal,
        "tax": invoice.tax,
        "amount": invoice.amount,
        "due_date": invoice.due_date,
        "notes": invoice.notes,
        "deliver": invoice.deliver,
        "status": invoice.status,
        "pdf_status": invoice.pdf_status,
        "pdf_generation": invoice.pdf_generation,
        "created_at": invoice.created_at,
        "queue": queue,
        "actor": actor,
        "available_at": available_at,
    }
