"""The delivery engine: leased deliveries with a purpose, a body and a not-before time; shared rate buckets.

Existing deliveries become communiqués (the column's server default) with no schedule
and no lease. ``ix_deliveries_status`` gives way to two indexes that start with the
status: they find what is due, and when the next thing will be, without reading the
settled rows.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Plain ALTER TABLE on both databases, no batch copy: copying ``deliveries`` means
    # dropping it, which SQLite refuses while receipts refer to it (foreign keys are on).
    op.add_column("deliveries", sa.Column("purpose", sa.String(), nullable=False, server_default="communique"))
    op.add_column("deliveries", sa.Column("body", sa.Text(), nullable=True))
    op.add_column("deliveries", _at("not_before"))
    op.add_column("deliveries", _at("leased_until"))
    op.add_column("deliveries", sa.Column("lease_owner", sa.String(), nullable=True))
    # A delivery a 0001 process left in ``sending`` gets a lease that has already run
    # out, so the engine resumes it instead of leaving it stuck for ever.
    op.execute("UPDATE deliveries SET leased_until = updated_at WHERE status = 'sending'")
    op.drop_index("ix_deliveries_status", table_name="deliveries")
    op.create_index("ix_deliveries_status_not_before", "deliveries", ["status", "not_before"])
    op.create_index("ix_deliveries_status_leased_until", "deliveries", ["status", "leased_until"])
    op.create_table(
        "rate_buckets",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        _at("updated_at", nullable=False),
        _at("blocked_until"),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
    op.drop_index("ix_deliveries_status_leased_until", table_name="deliveries")
    op.drop_index("ix_deliveries_status_not_before", table_name="deliveries")
    op.create_index("ix_deliveries_status", "deliveries", ["status"])
    for column in ("lease_owner", "leased_until", "not_before", "body", "purpose"):
        op.drop_column("deliveries", column)  # SQLite 3.35+ drops an unindexed column in place
