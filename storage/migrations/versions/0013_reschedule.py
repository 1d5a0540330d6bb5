"""Reschedule: a withdrawn release's new go-live time (none: a plain retraction).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("releases", sa.Column("retraction_go_live", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("releases", "retraction_go_live")
