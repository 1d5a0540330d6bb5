"""Deliveries in doubt: since when a send's fate is unknown (its process died, or the platform did not answer).

Nullable and empty: nothing stored before this revision is in doubt.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE, as in 0002: SQLite cannot copy ``deliveries`` while receipts refer to it.
    op.add_column("deliveries", sa.Column("in_doubt_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "in_doubt_since")
