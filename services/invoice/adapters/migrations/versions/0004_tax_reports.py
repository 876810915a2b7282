"""tax reports: one row per business and month

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tax_reports",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("business_id", sa.BigInteger(), nullable=False),
        # The UTC month reported, "YYYY-MM".
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("invoice_count", sa.Integer(), nullable=False),
        # [{"currency", "subtotal", "tax", "total"}], amounts as exact decimal strings.
        sa.Column("totals", postgresql.JSONB(), nullable=False),
        sa.Column("pdf_status", sa.String(length=16), nullable=False),
        sa.Column("pdf_generation", sa.Integer(), nullable=False),
        sa.Column("pdf_storage_key", sa.Text(), nullable=True),
        sa.Column("pdf_error", sa.Text(), nullable=True),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["business_id"], ["businesses.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("business_id", "month", name="uq_tax_reports_business_month"),
    )


def downgrade() -> None:
    op.drop_table("tax_reports")
