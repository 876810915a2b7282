"""PostgreSQL tables, and the mapping of the domain's plain classes onto them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import registry, relationship
from sqlalchemy.types import TypeDecorator

from services.invoice.domain.deliveries import Delivery
from services.invoice.domain.model import Business, Invoice, InvoiceLine
from services.invoice.domain.webhooks import Webhook, WebhookEvent

metadata = MetaData()
mapper_registry = registry(metadata=metadata)

Money = Numeric(17, 2)


def lines_to_json(lines: list[InvoiceLine]) -> list[dict[str, str]]:
    """An invoice's lines as the JSONB column holds them: decimals as exact strings."""
    return [
        {
            "description": line.description,
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
            "amount": str(line.amount),
        }
        for line in lines
    ]


def lines_from_json(items: list[dict[str, str]]) -> list[InvoiceLine]:
    """The lines back from the JSONB column."""
    return [
        InvoiceLine(
            description=item["description"],
            quantity=Decimal(item["quantity"]),
            unit_price=Decimal(item["unit_price"]),
            amount=Decimal(item["amount"]),
        )
        for item in items
    ]


class LinesType(TypeDecorator[list[InvoiceLine]]):
    """An invoice's lines as one JSONB array of decimal strings: one row write per invoice."""

    impl = JSONB
    cache_ok = True

    def process_bind_param(self, value: list[InvoiceLine] | None, dialect: Any) -> Any:
        return None if value is None else lines_to_json(value)

    def process_result_value(self, value: Any, dialect: Any) -> list[InvoiceLine] | None:
        return None if value is None else lines_from_json(value)


businesses = Table(
    "businesses",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("public_id", String(40), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    # SHA-256 of the token: tokens are long random strings, so a fast hash is enough.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("business_id", BigInteger, ForeignKey("businesses.id"), nullable=True),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("invoice_id", String(32), nullable=False, unique=True),
    Column("business_id", BigInteger, ForeignKey("businesses.id"), nullable=False),
    Column("customer_name", Text, nullable=False),
    Column("customer_email", Text, nullable=True),
    Column("customer_phone", String(16), nullable=True),
    Column("currency", String(3), nullable=False),
    Column("lines", LinesType, nullable=False),
    Column("tax_rate", Numeric(7, 4), nullable=False),
    Column("subtotal", Money, nullable=False),
    Column("tax", Money, nullable=False),
    Column("amount", Money, nullable=False),
    Column("due_date", Date, nullable=True),
    Column("notes", Text, nullable=True),
    Column("deliver", ARRAY(String(16)), nullable=False),
    Column("status", String(16), nullable=False),
    Column("pdf_status", String(16), nullable=False),
    Column("pdf_generation", Integer, nullable=False),
    Column("pdf_attempts", Integer, nullable=False),
    Column("pdf_error", Text, nullable=True),
    Column("pdf_storage_key", Text, nullable=True),
    Column("pdf_checksum", String(64), nullable=True),
    Column("pdf_updated_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Newest-first listing per business, optionally filtered.
    Index("ix_invoices_business_newest", "business_id", "id"),
    Index("ix_invoices_business_pdf_status", "business_id", "pdf_status", "id"),
    Index("ix_invoices_business_status", "business_id", "status", "id"),
    Index(
        "ix_invoices_unfinished_pdf",
        "pdf_updated_at",
        postgresql_where=text("pdf_status IN ('pending', 'rendering')"),
    ),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("business_id", BigInteger, ForeignKey("businesses.id"), primary_key=True),
    Column("key", String(255), primary_key=True),
    # SHA-256 of the request without its key: the same key with another request is refused.
    Column("request_hash", String(64), nullable=False),
    # No foreign key: the key row is written in the same statement as its invoice.
    Column("invoice_id", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_idempotency_keys_created_at", "created_at"),
)

# The transactional outbox: a job row written in the same transaction as its invoice.
outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("queue", String(64), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Not published before this time: a synchronous render gets its chance first.
    Column("available_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Rows are deleted once published, so the table stays small and needs no other index.
)

# One row per scheduled job and period: the row that lets only one scheduler run it.
scheduled_runs = Table(
    "scheduled_runs",
    metadata,
    Column("job", String(64), primary_key=True),
    Column("period", String(32), primary_key=True),
    Column("ran_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("detail", Text, nullable=True),
)

# One delivery of an invoice's PDF per channel; `claim` is recorded before anything is sent.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("invoice_pk", BigInteger, ForeignKey("invoices.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("claim", String(64), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("invoice_pk", "channel", name="uq_deliveries_invoice_channel"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("webhook_id", String(40), nullable=False, unique=True),
    Column("business_id", BigInteger, ForeignKey("businesses.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("events", ARRAY(String(64)), nullable=False),
    Column("secret", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    Index(
        "ix_webhooks_business_live",
        "business_id",
        "id",
        postgresql_where=text("deleted_at IS NULL"),
    ),
)

# One row per event and endpoint: its id and body stay the same on every attempt.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", String(40), nullable=False, unique=True),
    Column("webhook_pk", BigInteger, ForeignKey("webhooks.id"), nullable=False),
    Column("type", String(64), nullable=False),
    Column("invoice_id", String(32), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index("ix_webhook_events_webhook", "webhook_pk", "id"),
)

_mapped = False


def start_mappers() -> None:
    """Map the domain classes onto the tables, once per process."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Business, businesses)
    mapper_registry.map_imperatively(Delivery, deliveries)
    mapper_registry.map_imperatively(
        Invoice,
        invoices,
        # Loaded with their invoices in one extra query per batch, never lazily.
        properties={
            "deliveries": relationship(
                Delivery, lazy="selectin", order_by=deliveries.c.id, passive_deletes=True
            )
        },
    )
    mapper_registry.map_imperatively(Webhook, webhooks)
    mapper_registry.map_imperatively(WebhookEvent, webhook_events)
    _mapped = True
