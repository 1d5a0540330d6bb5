"""Deliveries on SQL: the ledger of sends, one row per idempotency key, leased to one worker at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import islice
from operator import attrgetter

from sqlalchemy import ColumnElement, and_, func, or_, update
from sqlalchemy.orm import Mapped
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.destinations import Kind
from bot.service.ports import DeliveryCount, DeliveryTotal
from storage.mapping import delivery_from_row, delivery_values
from storage.repositories._shared import _BATCH, _all, _first, insert_for
from storage.tables import DeliveryRow


def _claimable(now: datetime) -> ColumnElement[bool]:
    """The rows ``Delivery.claimable(now)`` holds for: due and pending, or leased and run out.

    Spelled as three ranges of the (status, time) indexes, so that SQLite looks each up
    (its "multi-index OR") instead of reading every settled row; PostgreSQL does the same
    with a bitmap OR.
    """
    status, not_before, leased_until = (
        col(DeliveryRow.status),
        col(DeliveryRow.not_before),
        col(DeliveryRow.leased_until),
    )
    return or_(
        and_(status == DeliveryStatus.PENDING.value, not_before.is_(None)),
        and_(status == DeliveryStatus.PENDING.value, not_before <= now),
        and_(status == DeliveryStatus.SENDING.value, leased_until <= now),
    )


class SqlDeliveryRepository:
    """The delivery ledger: one row per idempotency key, leased to one worker at a time.

    On PostgreSQL a claim locks the rows it takes and skips those another claim has
    locked, so concurrent workers split the due rows between them without waiting; on
    SQLite the one writer does the same by running claims one after the other.
    """

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._dialect = dialect
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

    async def by_message_refs(self, refs: Sequence[str]) -> dict[str, Delivery]:
        found: dict[str, Delivery] = {}
        unique = list(dict.fromkeys(refs))
        for start in range(0, len(unique), _BATCH):
            for delivery in await self._where(col(DeliveryRow.message_ref).in_(unique[start : start + _BATCH])):
                found.setdefault(delivery.message_ref or "", delivery)
        return found

    async def in_status(self, status: DeliveryStatus) -> list[Delivery]:
        return await self._where(DeliveryRow.status == status.value)

    async def counts(self, version: str) -> list[DeliveryCount]:
        group, purpose, status = col(DeliveryRow.group_id), col(DeliveryRow.purpose), col(DeliveryRow.status)
        statement = (
            select(group, purpose, status, func.count())
            .where(DeliveryRow.version == version)
            .group_by(group, purpose, status)
        )
        return [
            DeliveryCount(g, Purpose(p), DeliveryStatus(s), n) for g, p, s, n in await self._session.exec(statement)
        ]

    async def totals(self) -> list[DeliveryTotal]:
        target, status = col(DeliveryRow.target), col(DeliveryRow.status)
        # Every target starts with its platform and a colon ("slack:#eng", "email:ada@...").
        if self._dialect == "postgresql":
            medium = func.split_part(target, ":", 1)
        else:
            medium = func.substr(target, 1, func.instr(target, ":") - 1)
        statement = select(medium, status, func.count()).group_by(medium, status)
        return [DeliveryTotal(m, DeliveryStatus(s), n) for m, s, n in await self._session.exec(statement)]

    async def failed(self, version: str) -> list[Delivery]:
        return await self._where(
            and_(col(DeliveryRow.version) == version, col(DeliveryRow.status) == DeliveryStatus.FAILED.value)
        )

    async def cancel_pending(self, version: str, why: str, now: datetime) -> int:
        statement = (
            update(DeliveryRow)
            .where(col(DeliveryRow.version) == version, col(DeliveryRow.status) == DeliveryStatus.PENDING.value)
            .values(status=DeliveryStatus.CANCELLED.value, error=why, permanent=True, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int((await self._session.exec(statement)).rowcount)

    async def copies(self, version: str, group_id: str) -> list[Delivery]:
        return await self._where(
            and_(
                col(DeliveryRow.version) == version,
                col(DeliveryRow.group_id) == group_id,
                col(DeliveryRow.purpose) == Purpose.COMMUNIQUE.value,
                col(DeliveryRow.status).not_in([DeliveryStatus.FAILED.value, DeliveryStatus.UNREACHABLE.value]),
            )
        )

    async def of_kind(self, version: str, kind: Kind) -> list[Delivery]:
        return await self._where(and_(col(DeliveryRow.version) == version, col(DeliveryRow.kind) == kind.value))

    async def went_out(self, version: str) -> dict[str, datetime]:
        group, sent_at = col(DeliveryRow.group_id), col(DeliveryRow.sent_at)
        statement = (
            select(group, func.min(sent_at))
            .where(
                DeliveryRow.version == version,
                DeliveryRow.purpose == Purpose.COMMUNIQUE.value,
                DeliveryRow.status == DeliveryStatus.SENT.value,
                sent_at.is_not(None),
            )
            .group_by(group)
        )
        return {g: moment for g, moment in await self._session.exec(statement) if moment is not None}

    async def recent_sends(self, version: str, limit: int) -> list[datetime]:
        sent_at = col(DeliveryRow.sent_at)
        statement = (
            select(sent_at)
            .where(DeliveryRow.version == version, sent_at.is_not(None))
            .order_by(sent_at.desc())
            .limit(limit)
        )
        return sorted(moment for moment in await self._session.exec(statement) if moment is not None)

    async def due(self, now: datetime, limit: int) -> list[Delivery]:
        return await self._where(_claimable(now), limit=limit)

    async def claim(self, keys: Sequence[str], now: datetime, until: datetime, owner: str) -> list[Delivery]:
        """Lease the claimable ones of ``keys`` to ``owner``; they come back in insertion order."""
        claimed: list[DeliveryRow] = []
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _BATCH):
            chosen = and_(col(DeliveryRow.key).in_(unique[start : start + _BATCH]), _claimable(now))
            if self._dialect == "postgresql":
                # A row another claim has locked is that claim's: skip it rather than wait.
                locked = select(DeliveryRow.id).where(chosen).with_for_update(skip_locked=True)
                chosen = col(DeliveryRow.id).in_(locked)
            statement = (
                update(DeliveryRow)
                .where(chosen)
                .values(
                    status=DeliveryStatus.SENDING.value,
                    attempts=col(DeliveryRow.attempts) + 1,
                    leased_until=until,
                    lease_owner=owner,
                    updated_at=now,
                )
                .returning(DeliveryRow)
                .execution_options(synchronize_session=False, populate_existing=True)
            )
            claimed.extend((await self._session.exec(statement)).scalars())
        return [delivery_from_row(row) for row in sorted(claimed, key=attrgetter("id"))]

    async def renew(self, keys: Sequence[str], owner: str, until: datetime) -> set[str]:
        renewed: set[str] = set()
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), _BATCH):
            statement = (
                update(DeliveryRow)
                .where(
                    col(DeliveryRow.key).in_(unique[start : start + _BATCH]),
                    col(DeliveryRow.status) == DeliveryStatus.SENDING.value,
                    col(DeliveryRow.lease_owner) == owner,
                )
                .values(leased_until=until)
                .returning(col(DeliveryRow.key))
                .execution_options(synchronize_session=False)
            )
            renewed.update((await self._session.exec(statement)).scalars())
        return renewed

    async def start(self, key: str, owner: str, at: datetime) -> bool:
        statement = (
            update(DeliveryRow)
            .where(
                col(DeliveryRow.key) == key,
                col(DeliveryRow.status) == DeliveryStatus.SENDING.value,
                col(DeliveryRow.lease_owner) == owner,
            )
            .values(in_doubt_since=func.coalesce(col(DeliveryRow.in_doubt_since), at))
            .execution_options(synchronize_session=False)
        )
        return (await self._session.exec(statement)).rowcount == 1

    async def settle(self, delivery: Delivery, owner: str) -> bool:
        return await self._store(
            delivery,
            col(DeliveryRow.status) == DeliveryStatus.SENDING.value,
            col(DeliveryRow.lease_owner) == owner,
        )

    async def update(self, delivery: Delivery) -> None:
        """Store the delivery's new state. Raises KeyError for a key never added."""
        if not await self._store(delivery):
            raise KeyError(delivery.key)

    async def next_due(self, now: datetime) -> datetime | None:
        moments = [
            await self._earliest_after(now, DeliveryStatus.PENDING, col(DeliveryRow.not_before)),
            await self._earliest_after(now, DeliveryStatus.SENDING, col(DeliveryRow.leased_until)),
        ]
        return min((moment for moment in moments if moment is not None), default=None)

    async def _earliest_after(
        self, now: datetime, status: DeliveryStatus, moment: Mapped[datetime | None]
    ) -> datetime | None:
        statement = select(func.min(moment)).where(col(DeliveryRow.status) == status.value, moment > now)
        return (await self._session.exec(statement)).one()

    async def _store(self, delivery: Delivery, *conditions: ColumnElement[bool]) -> bool:
        values = delivery_values(delivery)
        del values["key"]
        statement = (
            update(DeliveryRow)
            .where(col(DeliveryRow.key) == delivery.key, *conditions)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        return (await self._session.exec(statement)).rowcount == 1

    async def _where(self, condition: ColumnElement[bool] | bool, *, limit: int | None = None) -> list[Delivery]:
        rows = await _all(
            self._session, select(DeliveryRow).where(condition).order_by(col(DeliveryRow.id)).limit(limit)
        )
        return [delivery_from_row(row) for row in rows]
