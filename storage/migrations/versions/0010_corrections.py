"""Corrections: the revision each copy carried, the copy a correction edits, superseded receipts, earlier texts.

- ``deliveries.revision``: the communiqué's revision a copy carried when it was sent (rows
  from before: unknown, null); ``deliveries.replaces``: the key of the copy a correction
  edits or follows up.
- ``receipts.superseded``: 0 while a receipt acknowledges the current text, else the
  revision it acknowledged before a correction replaced it. A person may acknowledge each
  revision once, so the unique key gains the column (the table is copied on SQLite).
- ``communiques.correction_*``: a corrected text waiting for approval; ``corrected_by`` /
  ``corrected_at``: the last approved correction.
- ``communique_revisions``: each text a correction replaced, with when it was replaced.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE, as in 0002: SQLite cannot copy ``deliveries`` while receipts refer to it.
    op.add_column("deliveries", sa.Column("revision", sa.Integer(), nullable=True))
    op.add_column("deliveries", sa.Column("replaces", sa.String(), nullable=True))
    op.add_column("communiques", sa.Column("correction_text", sa.Text(), nullable=True))
    op.add_column("communiques", sa.Column("correction_by", sa.String(), nullable=True))
    op.add_column("communiques", sa.Column("correction_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("communiques", sa.Column("corrected_by", sa.String(), nullable=True))
    op.add_column("communiques", sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("receipts") as batch:
        batch.add_column(sa.Column("superseded", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_receipts_version_group_person", type_="unique")
        batch.create_unique_constraint(
            "uq_receipts_version_group_person_superseded", ["version", "group_id", "person", "superseded"]
        )
    op.create_table(
        "communique_revisions",
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", "group_id", "revision"),
        sa.ForeignKeyConstraint(
            ["version"], ["releases.version"], name="fk_communique_revisions_version_releases", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("communique_revisions")
    with op.batch_alter_table("receipts") as batch:
        batch.drop_constraint("uq_receipts_version_group_person_superseded", type_="unique")
        batch.create_unique_constraint("uq_receipts_version_group_person", ["version", "group_id", "person"])
        batch.drop_column("superseded")
    for column in ("corrected_at", "corrected_by", "correction_at", "correction_by", "correction_text"):
        op.drop_column("communiques", column)
    op.drop_column("deliveries", "replaces")
    op.drop_column("deliveries", "revision")
