"""Read receipts and auto-replies on e-mail deliveries.

Nullable and empty: nothing stored before this revision was read or auto-replied to.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE, as in 0002: SQLite cannot copy ``deliveries`` while receipts refer to it.
    op.add_column("deliveries", sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("deliveries", sa.Column("auto_reply", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("deliveries", "auto_reply")
    op.drop_column("deliveries", "read_at")
