"""Retraction: why a release was withdrawn, who asked and approved, and when it took effect.

Deliveries need no new column: a pending one its release's retraction stopped is stored
with the status ``cancelled``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("retraction_reason", "retraction_by", "retraction_at", "retraction_approved_by", "retracted_at")


def upgrade() -> None:
    op.add_column("releases", sa.Column("retraction_reason", sa.Text(), nullable=True))
    op.add_column("releases", sa.Column("retraction_by", sa.String(), nullable=True))
    op.add_column("releases", sa.Column("retraction_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("releases", sa.Column("retraction_approved_by", sa.String(), nullable=True))
    op.add_column("releases", sa.Column("retracted_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for column in reversed(_COLUMNS):
        op.drop_column("releases", column)
