"""The initial schema: releases, communiqués, deliveries, receipts and the audit log.

Revision ID: 0001
Revises:
Create Date: 2025-03-14
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool = True) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "releases",
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("product", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("announced_by", sa.String(), nullable=False),
        _at("announced_at", nullable=False),
        sa.Column("confirmed_by", sa.String(), nullable=True),
        _at("confirmed_at"),
        sa.Column("send_requested_by", sa.String(), nullable=True),
        _at("send_requested_at"),
        sa.Column("approved_by", sa.String(), nullable=True),
        _at("approved_at"),
        sa.Column("cancelled_by", sa.String(), nullable=True),
        _at("cancelled_at"),
        _at("completed_at"),
        sa.Column("thread", sa.String(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "communiques",
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("render_error", sa.Text(), nullable=True),
        sa.Column("review", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("reviewed_by", sa.String(), nullable=True),
        _at("reviewed_at"),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("edited_by", sa.String(), nullable=True),
        _at("edited_at"),
        sa.PrimaryKeyConstraint("version", "group_id"),
        sa.ForeignKeyConstraint(
            ["version"], ["releases.version"], name="fk_communiques_version_releases", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("via", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("permanent", sa.Boolean(), nullable=False),
        sa.Column("message_ref", sa.String(), nullable=True),
        _at("created_at", nullable=False),
        _at("updated_at", nullable=False),
        _at("sent_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_deliveries_key"),
        sa.ForeignKeyConstraint(["version"], ["releases.version"], name="fk_deliveries_version_releases"),
    )
    op.create_index("ix_deliveries_version", "deliveries", ["version"])
    op.create_index("ix_deliveries_status", "deliveries", ["status"])
    op.create_index("ix_deliveries_message_ref", "deliveries", ["message_ref"])
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("group_id", sa.String(), nullable=False),
        sa.Column("person", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("delivery_key", sa.String(), nullable=False),
        _at("at", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version", "group_id", "person", name="uq_receipts_version_group_person"),
        sa.ForeignKeyConstraint(["delivery_key"], ["deliveries.key"], name="fk_receipts_delivery_key_deliveries"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        _at("at", nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("version", sa.String(), nullable=True),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_log_version", "audit_log", ["version"])


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("receipts")
    op.drop_table("deliveries")
    op.drop_table("communiques")
    op.drop_table("releases")
