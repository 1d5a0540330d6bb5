"""The repositories on SQL: each port of ``bot.service.ports`` over one ``AsyncSession``.

Writes are single statements whose WHERE or ON CONFLICT clause decides the race
(optimistic revision check, leased claim, settle-if-still-held, insert-if-absent), so two
units of work never both win, on SQLite or PostgreSQL. Reads ask the session to refresh any row
it still caches (``populate_existing``): a unit of work can outlive a commit, and the
database, not the session, is the source of truth.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import islice
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import JSON, ColumnElement, Select, and_, cast, delete, func, or_, true, union, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from bot.domain.audit import AuditEntry
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.destinations import Kind
from bot.domain.receipt import Receipt, ReceiptSource
from bot.domain.release import Release
from bot.service.ports import ConcurrentUpdate, DeliveryCount, DeliveryTotal
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


class SqlReceiptRepository:
    """Receipts, unique per (version, group, person) whatever their source.

    Counts are the database's (COUNT ... GROUP BY): a release's receipts and deliveries are
    never loaded to be counted. Who a group's communiqué was meant for comes from the JSON
    audiences of its deliveries, unnested by the database (``json_each`` on SQLite,
    ``json_array_elements_text`` on PostgreSQL).
    """

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._dialect = dialect
        self._insert = insert_for(dialect)

    async def add(self, receipt: Receipt) -> bool:
        statement = (
            self._insert(ReceiptRow)
            .values(receipt_values(receipt))
            .on_conflict_do_nothing(index_elements=["version", "group_id", "person"])
        )
        return (await self._session.exec(statement)).rowcount == 1

    async def add_all(self, receipts: Sequence[Receipt]) -> list[bool]:
        """INSERT ... ON CONFLICT DO NOTHING RETURNING, many rows a statement: the rows returned are the new ones.

        The statement is executed with a list of parameter sets, which SQLAlchemy sends as
        multi-row INSERTs ("insertmanyvalues") from one cached compilation, instead of
        compiling a new statement for every batch size.
        """
        first: dict[tuple[str, str, str], dict[str, Any]] = {}
        for receipt in receipts:
            first.setdefault(_receipt_key(receipt), receipt_values(receipt))
        new: set[tuple[str, str, str]] = set()
        if first:
            statement = (
                self._insert(ReceiptRow)
                .on_conflict_do_nothing(index_elements=["version", "group_id", "person"])
                .returning(col(ReceiptRow.version), col(ReceiptRow.group_id), col(ReceiptRow.person))
            )
            new.update((v, g, p) for v, g, p in await self._session.exec(statement, params=list(first.values())))
        added: list[bool] = []
        for receipt in receipts:
            key = _receipt_key(receipt)
            added.append(key in new)
            new.discard(key)  # a repeat within the batch is not new
        return added

    async def for_release(self, version: str) -> list[Receipt]:
        rows = await _all(
            self._session,
            select(ReceiptRow).where(ReceiptRow.version == version).order_by(col(ReceiptRow.at), col(ReceiptRow.id)),
        )
        return [receipt_from_row(row) for row in rows]

    async def get(self, version: str, group_id: str, person: str) -> Receipt | None:
        row = await _first(
            self._session,
            select(ReceiptRow).where(
                ReceiptRow.version == version, ReceiptRow.group_id == group_id, ReceiptRow.person == person
            ),
        )
        return receipt_from_row(row) if row is not None else None

    async def counts(self, version: str) -> dict[str, int]:
        return await self._per_group(version, outside=False)

    async def outside_counts(self, version: str) -> dict[str, int]:
        return await self._per_group(version, outside=True)

    async def totals(self) -> dict[ReceiptSource, int]:
        source = col(ReceiptRow.source)
        statement = select(source, func.count()).group_by(source)
        return {ReceiptSource(s): n for s, n in await self._session.exec(statement)}

    async def _per_group(self, version: str, *, outside: bool) -> dict[str, int]:
        group = col(ReceiptRow.group_id)
        statement = (
            select(group, func.count())
            .where(ReceiptRow.version == version, col(ReceiptRow.outside).is_(outside))
            .group_by(group)
        )
        return {g: n for g, n in await self._session.exec(statement)}

    async def is_meant_for(self, version: str, group_id: str, person: str) -> bool:
        people = self._meant_for(version).where(col(DeliveryRow.group_id) == group_id).subquery()
        statement = select(people.c.person).where(people.c.person == person).limit(1)
        return (await self._session.exec(statement)).first() is not None

    async def count_after(self, version: str, group_id: str, moment: datetime) -> int:
        statement = select(func.count()).where(
            ReceiptRow.version == version,
            ReceiptRow.group_id == group_id,
            col(ReceiptRow.at) > moment,
            col(ReceiptRow.outside).is_(False),
        )
        return int((await self._session.exec(statement)).one())

    async def count_for(self, version: str, group_id: str, delivery_key: str) -> int:
        statement = select(func.count()).where(
            ReceiptRow.version == version,
            ReceiptRow.group_id == group_id,
            ReceiptRow.delivery_key == delivery_key,
            col(ReceiptRow.outside).is_(False),
        )
        return int((await self._session.exec(statement)).one())

    async def expected(self, version: str) -> dict[str, int]:
        people = union(self._meant_for(version), self._acknowledged(version)).subquery()
        statement = select(people.c.group_id, func.count()).group_by(people.c.group_id)
        return {g: n for g, n in await self._session.exec(statement)}

    async def waiting(self, version: str) -> dict[str, list[str]]:
        people = self._meant_for(version).except_(self._acknowledged(version)).subquery()
        statement = select(people.c.group_id, people.c.person).order_by(people.c.group_id, people.c.person)
        found: dict[str, list[str]] = {}
        for group, person in await self._session.exec(statement):
            found.setdefault(group, []).append(person)
        return found

    def _meant_for(self, version: str) -> Select[str, str]:
        """(group, person) for every person in the audience of a communiqué delivery that did not fail."""
        if self._dialect == "postgresql":  # a set-returning function: name its one column
            unnested = func.json_array_elements_text(cast(col(DeliveryRow.audience), JSON))
            person = unnested.table_valued("value").render_derived()
        else:  # json_each's columns have names already (key, value, type, ...)
            person = func.json_each(col(DeliveryRow.audience)).table_valued("value")
        return (
            sa_select(col(DeliveryRow.group_id).label("group_id"), person.c.value.label("person"))
            .select_from(DeliveryRow)
            .join(person, true())
            .where(
                col(DeliveryRow.version) == version,
                col(DeliveryRow.purpose) == Purpose.COMMUNIQUE.value,
                col(DeliveryRow.status) != DeliveryStatus.FAILED.value,
            )
        )

    def _acknowledged(self, version: str) -> Select[str, str]:
        return sa_select(col(ReceiptRow.group_id).label("group_id"), col(ReceiptRow.person).label("person")).where(
            col(ReceiptRow.version) == version, col(ReceiptRow.outside).is_(False)
        )


def _receipt_key(receipt: Receipt) -> tuple[str, str, str]:
    return (receipt.version, receipt.group_id, receipt.person)


class SqlAuditLog:
    """The audit log, read back in the order it was written."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._insert = insert_for(dialect)

    async def append(self, entry: AuditEntry) -> None:
        await self._session.exec(self._insert(AuditRow).values(audit_values(entry)))

    async def extend(self, entries: Sequence[AuditEntry]) -> None:
        if entries:  # one cached statement, many parameter sets (see SqlReceiptRepository.add_all)
            await self._session.exec(self._insert(AuditRow), params=[audit_values(entry) for entry in entries])

    async def for_release(self, version: str) -> list[AuditEntry]:
        rows = await _all(
            self._session,
            select(AuditRow).where(AuditRow.version == version).order_by(col(AuditRow.id)),
        )
        return [audit_from_row(row) for row in rows]
