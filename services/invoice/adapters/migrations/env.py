"""Alembic environment: runs migrations on the connection `suoops migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from services.invoice.adapters.orm import metadata

# Any fixed number: serialises concurrent `suoops migrate` runs (two pods starting at once).
MIGRATION_LOCK_ID = 727_001


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
    try:
        context.configure(connection=connection, target_metadata=metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    finally:
        connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.commit()


run_migrations_online()
