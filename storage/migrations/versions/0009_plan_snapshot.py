"""The plan each release was announced under: its text and SHA-256, kept beside the release.

A table of its own rather than columns on ``releases``: the snapshot is written once, at
announce time, and never changes, while a release row is rewritten at every step. Releases
announced before this revision have no row; their evidence pack says so.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "plan_snapshots",
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
        sa.ForeignKeyConstraint(
            ["version"], ["releases.version"], name="fk_plan_snapshots_version_releases", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("plan_snapshots")
