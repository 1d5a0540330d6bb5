"""The release notes a release was announced with (their Markdown, where they came from), as JSON.

Communiqués are rendered at announce time, but a subject or a resumed group is rendered later, perhaps
in another process: the notes fetched then are kept with the release, so every later render reads the
same text rather than asking GitHub again.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("releases", sa.Column("notes", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("releases", "notes")
