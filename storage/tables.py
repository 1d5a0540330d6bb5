"""The database rows: one SQLModel table per stored concept, and no logic.

Constraint and index names are spelled out so that ``migrations/versions`` can create
exactly the same schema by hand. Enumerations are stored as their string values; the
domain types come back in ``storage.mapping``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, ForeignKeyConstraint, Index, Text, TypeDecorator, UniqueConstraint, false
from sqlmodel import Field, SQLModel

metadata = SQLModel.metadata


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, stored as UTC and read back as UTC.

    PostgreSQL keeps the offset (``timestamptz``); SQLite has no datetime type, so the
    UTC wall time is stored and the zone is put back on reading. Naive datetimes are
    refused: a time without a zone cannot be placed on the timeline.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store the naive datetime {value.isoformat()}; give it a timezone")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class ReleaseRow(SQLModel, table=True):
    """A release; ``revision`` is the optimistic-concurrency counter."""

    __tablename__ = "releases"

    version: str = Field(primary_key=True)
    product: str
    state: str
    announced_by: str
    announced_at: datetime = Field(sa_type=UTCDateTime)
    confirmed_by: str | None = None
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    send_requested_by: str | None = None
    send_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_by: str | None = None
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_by: str | None = None
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    thread: str | None = None
    revision: int
    retraction_reason: str | None = Field(default=None, sa_type=Text)  # since 0012: proposed or in effect
    retraction_by: str | None = None
    retraction_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retraction_approved_by: str | None = None
    retracted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # set: the release is retracted
    retraction_go_live: datetime | None = Field(default=None, sa_type=UTCDateTime)  # since 0013: a reschedule's
    skipped: str | None = Field(default=None, sa_type=Text)  # since 0014: JSON {group: why} the rules left out
    components: str | None = Field(default=None, sa_type=Text)  # since 0015: JSON list of what it is a release of
    notes: str | None = Field(default=None, sa_type=Text)  # since 0016: JSON of its release notes as read (KeptNotes)


class CommuniqueRow(SQLModel, table=True):
    """One group's communiqué of a release; ``position`` keeps the release's group order."""

    __tablename__ = "communiques"
    __table_args__ = (
        ForeignKeyConstraint(
            ["version"], ["releases.version"], name="fk_communiques_version_releases", ondelete="CASCADE"
        ),
    )

    version: str = Field(primary_key=True)
    group_id: str = Field(primary_key=True)
    position: int
    text: str = Field(sa_type=Text)
    render_error: str | None = Field(default=None, sa_type=Text)
    review: str
    revision: int
    reviewed_by: str | None = None
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str | None = Field(default=None, sa_type=Text)
    edited_by: str | None = None
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    message_ref: str | None = None
    correction_text: str | None = Field(default=None, sa_type=Text)  # since 0010: a correction awaiting approval
    correction_by: str | None = None
    correction_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    corrected_by: str | None = None  # since 0010: the last approved correction
    corrected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    released_by: str | None = None  # since 0011: sent by hand although receipts held it
    released_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CommuniqueRevisionRow(SQLModel, table=True):
    """A text a correction replaced: the communiqué's revision ``revision`` until ``replaced_at`` (since 0010)."""

    __tablename__ = "communique_revisions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["version"], ["releases.version"], name="fk_communique_revisions_version_releases", ondelete="CASCADE"
        ),
    )

    version: str = Field(primary_key=True)
    group_id: str = Field(primary_key=True)
    revision: int = Field(primary_key=True)
    text: str = Field(sa_type=Text)
    replaced_at: datetime = Field(sa_type=UTCDateTime)


class PlanSnapshotRow(SQLModel, table=True):
    """The plan a release was announced under: its text and SHA-256, written once (since 0009)."""

    __tablename__ = "plan_snapshots"
    __table_args__ = (
        ForeignKeyConstraint(
            ["version"], ["releases.version"], name="fk_plan_snapshots_version_releases", ondelete="CASCADE"
        ),
    )

    version: str = Field(primary_key=True)
    source: str = Field(sa_type=Text)
    sha256: str
    text: str = Field(sa_type=Text)


class DeliveryRow(SQLModel, table=True):
    """One message to one target; ``key`` is the idempotency key, ``id`` the insertion order.

    A worker holds a ``sending`` row until ``leased_until``; a ``pending`` one waits for
    ``not_before`` (a schedule or a retry's backoff).
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("key", name="uq_deliveries_key"),
        ForeignKeyConstraint(["version"], ["releases.version"], name="fk_deliveries_version_releases"),
        Index("ix_deliveries_version", "version"),
        Index("ix_deliveries_message_ref", "message_ref"),
        # What a worker may claim, and when the next one will be: a range of one status,
        # so settled rows, however many, are never read. They also serve in_status.
        Index("ix_deliveries_status_not_before", "status", "not_before"),
        Index("ix_deliveries_status_leased_until", "status", "leased_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str
    version: str
    group_id: str
    target: str
    via: str
    kind: str
    audience: str = Field(sa_type=Text)  # a JSON list of person ids
    status: str
    attempts: int
    error: str | None = Field(default=None, sa_type=Text)
    permanent: bool
    message_ref: str | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    purpose: str = Field(sa_column_kwargs={"server_default": "communique"})  # rows from before 0002
    body: str | None = Field(default=None, sa_type=Text)
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)
    leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_owner: str | None = None
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # since 0004
    report: str | None = Field(default=None, sa_type=Text)  # since 0004
    in_doubt_since: datetime | None = Field(default=None, sa_type=UTCDateTime)  # since 0005
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # since 0006
    auto_reply: str | None = Field(default=None, sa_type=Text)  # since 0006
    revision: int | None = None  # since 0010: the communiqué's revision the copy carried
    replaces: str | None = None  # since 0010: a correction's copy to edit or follow up


class ReceiptRow(SQLModel, table=True):
    """One person's acknowledgement of one group's communiqué."""

    __tablename__ = "receipts"
    __table_args__ = (
        # One receipt a person per revision (since 0010): ``superseded`` is 0 for the current text.
        UniqueConstraint(
            "version", "group_id", "person", "superseded", name="uq_receipts_version_group_person_superseded"
        ),
        ForeignKeyConstraint(["delivery_key"], ["deliveries.key"], name="fk_receipts_delivery_key_deliveries"),
    )

    id: int | None = Field(default=None, primary_key=True)
    version: str
    group_id: str
    person: str
    source: str
    delivery_key: str
    at: datetime = Field(sa_type=UTCDateTime)
    outside: bool = Field(default=False, sa_column_kwargs={"server_default": false()})  # since 0007
    superseded: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # since 0010: 0, or the revision


class AuditRow(SQLModel, table=True):
    """One audit entry. Ids only grow (AUTOINCREMENT on SQLite), so they give the order.

    ``prev_hash`` and ``hash`` link each release's entries into a chain (since 0008; see
    ``bot.domain.audit``). The index on (version, id) finds a chain's last entry at once.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_version_id", "version", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str
    action: str
    version: str | None = None
    outcome: str
    detail: str = Field(default="", sa_type=Text)
    prev_hash: str | None = None  # since 0008, as hash: every entry written since has both
    hash: str | None = None


class RateBucketRow(SQLModel, table=True):
    """One shared token bucket: ``tokens`` as of ``updated_at``, none before ``blocked_until``."""

    __tablename__ = "rate_buckets"

    name: str = Field(primary_key=True)
    tokens: float
    updated_at: datetime = Field(sa_type=UTCDateTime)
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SubscriptionRow(SQLModel, table=True):
    """One place's subscription to a component's releases (since 0017); ``component`` ``*``: every component."""

    __tablename__ = "subscriptions"
    __table_args__ = (Index("ix_subscriptions_medium", "medium"),)

    key: str = Field(primary_key=True)  # medium|component
    person: str
    medium: str
    component: str
    level: str
    since: datetime = Field(sa_type=UTCDateTime)
    confirmed: bool
