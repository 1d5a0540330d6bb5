"""The repositories on SQL: each port of ``bot.service.ports`` over one ``AsyncSession``.

Writes are single statements whose WHERE or ON CONFLICT clause decides the race
(optimistic revision check, compare-and-set claim, insert-if-absent), so two units of
work never both win, on SQLite or PostgreSQL. Reads ask the session to refresh any row
it still caches (``populate_existing``): a unit of work can outlive a commit, and the
database, not the session, is the source of truth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import islice
from typing import TypeVar

from sqlalchemy import ColumnElement, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from bot.domain.audit import AuditEntry
from bot.domain.delivery import Delivery, DeliveryStatus
from bot.domain.receipt import Receipt
from bot.domain.release import Release
from bot.service.ports import ConcurrentUpdate
from storage.mapping import (
    audit_from_row,
    audit_values,
    communique_values,
    delivery_from_row,
    delivery_values,
    receipt_from_row,
    receipt_values,
    release_from_rows,
    release_values,
)
from storage.tables import AuditRow, CommuniqueRow, DeliveryRow, ReceiptRow, ReleaseRow

Row = TypeVar("Row", bound=SQLModel)
Insert = Callable[[type[SQLModel]], sqlite.Insert | postgresql.Insert]

_INSERTS: dict[str, Insert] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_BATCH = 500  # rows per INSERT: well under SQLite's limit of 32,766 bound parameters


def insert_for(dialect: str) -> Insert:
    """The INSERT construct with ON CONFLICT support for ``dialect`` (sqlite or postgresql).

    Raises:
        ValueError: for any other database.
    """
    try:
        return _INSERTS[dialect]
    except KeyError:
        raise ValueError(f"Herald stores its data in SQLite or PostgreSQL, not {dialect}") from None


async def _all(session: AsyncSession, statement: SelectOfScalar[Row]) -> Sequence[Row]:
    return (await session.exec(statement.execution_options(populate_existing=True))).all()


async def _first(session: AsyncSession, statement: SelectOfScalar[Row]) -> Row | None:
    return (await session.exec(statement.execution_options(populate_existing=True))).first()


class SqlReleaseRepository:
    """Releases and their communiqués, saved whole under an optimistic revision check."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._insert = insert_for(dialect)

    async def get(self, version: str) -> Release | None:
        row = await _first(self._session, select(ReleaseRow).where(ReleaseRow.version == version))
        if row is None:
            return None
        communiques = await _all(self._session, select(CommuniqueRow).where(CommuniqueRow.version == version))
        return release_from_rows(row, communiques)

    async def add(self, release: Release) -> None:
        values = release_values(release) | {"revision": 1}
        statement = self._insert(ReleaseRow).values(values).on_conflict_do_nothing(index_elements=["version"])
        if (await self._session.exec(statement)).rowcount != 1:
            raise ConcurrentUpdate(release.version)
        await self._put_communiques(release)
        release.revision = 1

    async def save(self, release: Release) -> None:
        values = release_values(release) | {"revision": release.revision + 1}
        del values["version"]
        statement = (
            update(ReleaseRow)
            .where(col(ReleaseRow.version) == release.version, col(ReleaseRow.revision) == release.revision)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        if (await self._session.exec(statement)).rowcount != 1:
            raise ConcurrentUpdate(release.version)
        await self._put_communiques(release)
        release.revision += 1

    async def in_state(self, state: str) -> list[Release]:
        rows = await _all(
            self._session,
            select(ReleaseRow)
            .where(ReleaseRow.state == state)
            .order_by(col(ReleaseRow.announced_at), col(ReleaseRow.version)),
        )
        if not rows:
            return []
        communiques: defaultdict[str, list[CommuniqueRow]] = defaultdict(list)
        for communique in await _all(
            self._session,
            select(CommuniqueRow).where(col(CommuniqueRow.version).in_([row.version for row in rows])),
        ):
            communiques[communique.version].append(communique)
        return [release_from_rows(row, communiques[row.version]) for row in rows]

    async def _put_communiques(self, release: Release) -> None:
        rows = communique_values(release)
        if rows:
            statement = self._insert(CommuniqueRow).values(rows)
            changing = [name for name in rows[0] if name not in ("version", "group_id")]
            await self._session.exec(
                statement.on_conflict_do_update(
                    index_elements=["version", "group_id"],
                    set_={name: statement.excluded[name] for name in changing},
                )
            )
        # Saved whole: a communiqué the release no longer has is no longer stored.
        await self._session.exec(
            delete(CommuniqueRow)
            .where(
                col(CommuniqueRow.version) == release.version,
                col(CommuniqueRow.group_id).not_in(list(release.communiques)),
            )
            .execution_options(synchronize_session=False)
        )


class SqlDeliveryRepository:
    """The delivery ledger: one row per idempotency key, claimed by compare-and-set."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._insert = insert_for(dialect)

    async def add_new(self, deliveries: Sequence[Delivery]) -> int:
        added = 0
        rows = iter([delivery_values(delivery) for delivery in deliveries])
        while batch := list(islice(rows, _BATCH)):
            statement = self._insert(DeliveryRow).values(batch).on_conflict_do_nothing(index_elements=["key"])
            added += (await self._session.exec(statement)).rowcount
        return added

    async def get(self, key: str) -> Delivery | None:
        row = await _first(self._session, select(DeliveryRow).where(DeliveryRow.key == key))
        return delivery_from_row(row) if row else None

    async def for_release(self, version: str) -> list[Delivery]:
        return await self._where(DeliveryRow.version == version)

    async def by_message_ref(self, ref: str) -> Delivery | None:
        row = await _first(
            self._session,
            select(DeliveryRow).where(DeliveryRow.message_ref == ref).order_by(col(DeliveryRow.id)),
        )
        return delivery_from_row(row) if row else None

    async def in_status(self, status: DeliveryStatus) -> list[Delivery]:
        return await self._where(DeliveryRow.status == status.value)

    async def claim(self, key: str, now: datetime) -> Delivery | None:
        statement = (
            update(DeliveryRow)
            .where(col(DeliveryRow.key) == key, col(DeliveryRow.status) == DeliveryStatus.PENDING.value)
            .values(
                status=DeliveryStatus.SENDING.value,
                attempts=col(DeliveryRow.attempts) + 1,
                updated_at=now,
            )
            .returning(DeliveryRow)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        row: DeliveryRow | None = (await self._session.exec(statement)).scalar_one_or_none()
        return delivery_from_row(row) if row else None

    async def update(self, delivery: Delivery) -> None:
        """Store the delivery's new state. Raises KeyError for a key never added."""
        values = delivery_values(delivery)
        del values["key"]
        statement = (
            update(DeliveryRow)
            .where(col(DeliveryRow.key) == delivery.key)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        if (await self._session.exec(statement)).rowcount != 1:
            raise KeyError(delivery.key)

    async def _where(self, condition: ColumnElement[bool] | bool) -> list[Delivery]:
        rows = await _all(self._session, select(DeliveryRow).where(condition).order_by(col(DeliveryRow.id)))
        return [delivery_from_row(row) for row in rows]


class SqlReceiptRepository:
    """Receipts, unique per (version, group, person) whatever their source."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._insert = insert_for(dialect)

    async def add(self, receipt: Receipt) -> bool:
        statement = (
            self._insert(ReceiptRow)
            .values(receipt_values(receipt))
            .on_conflict_do_nothing(index_elements=["version", "group_id", "person"])
        )
        return (await self._session.exec(statement)).rowcount == 1

    async def for_release(self, version: str) -> list[Receipt]:
        rows = await _all(
            self._session,
            select(ReceiptRow).where(ReceiptRow.version == version).order_by(col(ReceiptRow.at), col(ReceiptRow.id)),
        )
        return [receipt_from_row(row) for row in rows]


class SqlAuditLog:
    """The audit log, read back in the order it was written."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._insert = insert_for(dialect)

    async def append(self, entry: AuditEntry) -> None:
        await self._session.exec(self._insert(AuditRow).values(audit_values(entry)))

    async def for_release(self, version: str) -> list[AuditEntry]:
        rows = await _all(
            self._session,
            select(AuditRow).where(AuditRow.version == version).order_by(col(AuditRow.id)),
        )
        return [audit_from_row(row) for row in rows]
