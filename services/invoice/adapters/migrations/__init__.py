"""Alembic migrations of the invoice database."""
