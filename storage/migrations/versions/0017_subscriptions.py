"""Subscriptions: people who chose to hear of a component's releases, and where.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("medium", sa.String(), nullable=False),
        sa.Column("component", sa.String(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_subscriptions_medium", "subscriptions", ["medium"])


def downgrade() -> None:
    op.drop_index("ix_subscriptions_medium", table_name="subscriptions")
    op.drop_table("subscriptions")
