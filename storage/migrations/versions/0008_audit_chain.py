"""The audit log as a hash chain: each entry's ``prev_hash`` and ``hash``, backfilled.

Existing entries are linked in id order, release by release (entries about no release
form a chain of their own), exactly as ``bot.domain.audit`` links new ones, so
``herald audit verify`` passes on a migrated database. The chain proves nothing about
what happened before this revision: it only makes later changes visible.

The encoding is copied here rather than imported, as a migration is frozen in time; the
migration tests check that the copy and ``bot.domain.audit`` agree.

The lookup of a chain's last entry replaces ``ix_audit_log_version`` with an index on
(version, id).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000  # rows read and rewritten at a time: a long log never sits in memory whole
_GENESIS = ""

_audit = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("version", sa.String()),
    sa.column("outcome", sa.String()),
    sa.column("detail", sa.Text()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)


def _hash(prev: str, row: Any) -> str:
    """Version 1 of the encoding in ``bot.domain.audit``."""
    at: datetime = row.at
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)  # SQLite keeps the UTC wall time
    fields = [
        "herald-audit-v1",
        prev,
        at.isoformat(timespec="microseconds"),
        row.actor,
        row.action,
        row.version,
        row.outcome,
        row.detail,
    ]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def upgrade() -> None:
    # Plain ALTER TABLE (as in 0006): nullable columns are added in place on both databases.
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(), nullable=True))
    op.add_column("audit_log", sa.Column("hash", sa.String(), nullable=True))
    op.drop_index("ix_audit_log_version", table_name="audit_log")
    op.create_index("ix_audit_log_version_id", "audit_log", ["version", "id"])
    _backfill(op.get_bind())


def _backfill(connection: sa.Connection) -> None:
    heads: dict[str, str] = {}  # the hash each chain ends with so far
    link = (
        sa.update(_audit)
        .where(_audit.c.id == sa.bindparam("row_id"))
        .values(prev_hash=sa.bindparam("row_prev"), hash=sa.bindparam("row_hash"))
    )
    last = 0
    while True:
        rows = connection.execute(sa.select(_audit).where(_audit.c.id > last).order_by(_audit.c.id).limit(_BATCH)).all()
        if not rows:
            return
        links = []
        for row in rows:
            chain = row.version or ""
            prev = heads.get(chain, _GENESIS)
            heads[chain] = _hash(prev, row)
            links.append({"row_id": row.id, "row_prev": prev, "row_hash": heads[chain]})
        connection.execute(link, links)
        last = rows[-1].id


def downgrade() -> None:
    op.drop_index("ix_audit_log_version_id", table_name="audit_log")
    op.create_index("ix_audit_log_version", "audit_log", ["version"])
    op.drop_column("audit_log", "hash")  # SQLite 3.35+ drops an unindexed column in place
    op.drop_column("audit_log", "prev_hash")
