"""What a release is a release of (a monorepo's packages), as a JSON list; none: the whole product.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("releases", sa.Column("components", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("releases", "components")
