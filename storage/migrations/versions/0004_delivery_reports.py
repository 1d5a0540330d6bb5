"""Delivery reports: when the recipient's server confirmed a delivery, and the last report about it.

Both columns are nullable and start empty: nothing sent before this revision has a report.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE, as in 0002: SQLite cannot copy ``deliveries`` while receipts refer to it.
    op.add_column("deliveries", sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("deliveries", sa.Column("report", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "report")
    op.drop_column("deliveries", "confirmed_at")
