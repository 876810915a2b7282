"""scheduled runs: one row per job and period

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduled_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column(
            "ran_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("job", "period"),
    )
    # The sweeper looks for renders stuck in pending or rendering.
    op.create_index(
        "ix_invoices_unfinished_pdf",
        "invoices",
        ["pdf_updated_at"],
        postgresql_where=sa.text("pdf_status IN ('pending', 'rendering')"),
    )


def downgrade() -> None:
    op.drop_index("ix_invoices_unfinished_pdf", table_name="invoices")
    op.drop_table("scheduled_runs")
