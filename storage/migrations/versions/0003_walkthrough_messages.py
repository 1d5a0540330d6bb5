"""Where each communiqué is shown in the walkthrough (a platform's message reference).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("communiques", sa.Column("message_ref", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("communiques", "message_ref")
