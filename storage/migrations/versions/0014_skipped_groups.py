"""The groups a release's plan rules leave out (``announce_for``, ``prereleases``), each with why, as JSON.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("releases", sa.Column("skipped", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("releases", "skipped")
