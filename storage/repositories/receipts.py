"""Receipts on SQL: who acknowledged what, counted and matched against the audiences by the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, Select, and_, cast, func, true, union, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.delivery import DeliveryStatus, Purpose
from bot.domain.plan import ReceiptLevel
from bot.domain.receipt import Receipt, ReceiptSource
from storage.mapping import receipt_from_row, receipt_values
from storage.repositories._shared import _all, _first, insert_for
from storage.tables import DeliveryRow, ReceiptRow

_UNIQUE = ["version", "group_id", "person", "superseded"]
_NOT_MEANT = [DeliveryStatus.FAILED.value, DeliveryStatus.UNREACHABLE.value]  # nobody is waiting for these copies


class SqlReceiptRepository:
    """Receipts, unique per (version, group, person, revision) whatever their source.

    Only the receipts of a group's current text are counted (``superseded`` 0): a correction
    marks the earlier ones with the revision they acknowledged, and the group is asked anew.

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
            self._insert(ReceiptRow).values(receipt_values(receipt)).on_conflict_do_nothing(index_elements=_UNIQUE)
        )
        return (await self._session.exec(statement)).rowcount == 1

    async def add_all(self, receipts: Sequence[Receipt]) -> list[bool]:
        """INSERT ... ON CONFLICT DO NOTHING RETURNING, many rows a statement: the rows returned are the new ones.

        The statement is executed with a list of parameter sets, which SQLAlchemy sends as
        multi-row INSERTs ("insertmanyvalues") from one cached compilation, instead of
        compiling a new statement for every batch size.
        """
        first: dict[tuple[str, str, str, int], dict[str, Any]] = {}
        for receipt in receipts:
            first.setdefault(_receipt_key(receipt), receipt_values(receipt))
        new: set[tuple[str, str, str, int]] = set()
        if first:
            statement = (
                self._insert(ReceiptRow)
                .on_conflict_do_nothing(index_elements=_UNIQUE)
                .returning(
                    col(ReceiptRow.version),
                    col(ReceiptRow.group_id),
                    col(ReceiptRow.person),
                    col(ReceiptRow.superseded),
                )
            )
            rows = await self._session.exec(statement, params=list(first.values()))
            new.update((v, g, p, r) for v, g, p, r in rows)
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
                ReceiptRow.version == version,
                ReceiptRow.group_id == group_id,
                ReceiptRow.person == person,
                ReceiptRow.superseded == 0,
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
            .where(ReceiptRow.version == version, col(ReceiptRow.outside).is_(outside), ReceiptRow.superseded == 0)
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
            ReceiptRow.superseded == 0,
        )
        return int((await self._session.exec(statement)).one())

    async def count_for(self, version: str, group_id: str, delivery_key: str) -> int:
        statement = select(func.count()).where(
            ReceiptRow.version == version,
            ReceiptRow.group_id == group_id,
            ReceiptRow.delivery_key == delivery_key,
            col(ReceiptRow.outside).is_(False),
            ReceiptRow.superseded == 0,
        )
        return int((await self._session.exec(statement)).one())

    async def supersede(self, version: str, group_id: str, revision: int) -> int:
        statement = (
            update(ReceiptRow)
            .where(
                col(ReceiptRow.version) == version,
                col(ReceiptRow.group_id) == group_id,
                col(ReceiptRow.superseded) == 0,
            )
            .values(superseded=revision)
        )
        return int((await self._session.exec(statement)).rowcount)

    async def per_revision(self, version: str) -> dict[str, dict[int, int]]:
        superseded = col(ReceiptRow.superseded)
        statement = (
            select(col(ReceiptRow.group_id), superseded, func.count())
            .where(ReceiptRow.version == version, col(ReceiptRow.outside).is_(False), superseded != 0)
            .group_by(col(ReceiptRow.group_id), superseded)
        )
        found: dict[str, dict[int, int]] = {}
        for group, revision, n in await self._session.exec(statement):
            found.setdefault(group, {})[revision] = n
        return found

    async def expected(self, version: str) -> dict[str, int]:
        people = union(self._meant_for(version), self._acknowledged(version)).subquery()
        statement = select(people.c.group_id, func.count()).group_by(people.c.group_id)
        return {g: n for g, n in await self._session.exec(statement)}

    async def waiting(self, version: str, levels: Mapping[str, ReceiptLevel] | None = None) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for level, groups in _by_level(levels).items():
            people = self._meant_for(version).except_(*self._met(version, level)).subquery()  # A - B - C
            statement = select(people.c.group_id, people.c.person).order_by(people.c.group_id, people.c.person)
            lower = [g for g, at in (levels or {}).items() if at is not ReceiptLevel.ACKNOWLEDGED]
            if groups is not None:
                statement = statement.where(people.c.group_id.in_(groups))
            elif lower:  # the rest are asked at acknowledged
                statement = statement.where(people.c.group_id.not_in(lower))
            for group, person in await self._session.exec(statement):
                found.setdefault(group, []).append(person)
        return found

    async def met_counts(self, version: str) -> dict[str, dict[ReceiptLevel, int]]:
        found: dict[str, dict[ReceiptLevel, int]] = {}
        for level in (ReceiptLevel.DELIVERED, ReceiptLevel.READ):
            people = union(*self._met(version, level)).subquery()
            statement = select(people.c.group_id, func.count()).group_by(people.c.group_id)
            for group, n in await self._session.exec(statement):
                found.setdefault(group, {})[level] = n
        return found

    def _met(self, version: str, level: ReceiptLevel) -> list[Select[str, str]]:
        """The selects of (group, person) who met ``level`` for the group's current text, to be joined (flat:
        SQLite takes no parenthesised compound): an acknowledgement meets every level; a copy read (an MDN)
        meets ``read``; a copy sent meets ``delivered``."""
        acknowledged = self._acknowledged(version)
        if level is ReceiptLevel.ACKNOWLEDGED:
            return [acknowledged]
        sent = col(DeliveryRow.status) == DeliveryStatus.SENT.value
        shown = and_(sent, col(DeliveryRow.read_at).is_not(None)) if level is ReceiptLevel.READ else sent
        return [self._meant_for(version, shown), acknowledged]

    def _meant_for(self, version: str, *also: ColumnElement[bool]) -> Select[str, str]:
        """(group, person) for every person in the audience of a communiqué delivery that did not fail
        (and meets ``also``)."""
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
                col(DeliveryRow.status).not_in(_NOT_MEANT),
                *also,
            )
        )

    def _acknowledged(self, version: str) -> Select[str, str]:
        return sa_select(col(ReceiptRow.group_id).label("group_id"), col(ReceiptRow.person).label("person")).where(
            col(ReceiptRow.version) == version, col(ReceiptRow.outside).is_(False), col(ReceiptRow.superseded) == 0
        )


def _receipt_key(receipt: Receipt) -> tuple[str, str, str, int]:
    return (receipt.version, receipt.group_id, receipt.person, receipt.superseded or 0)


def _by_level(levels: Mapping[str, ReceiptLevel] | None) -> dict[ReceiptLevel, list[str] | None]:
    """The groups to ask about at each level: those ``levels`` names below acknowledged, and (None) all the
    others, at acknowledged."""
    found: dict[ReceiptLevel, list[str] | None] = {ReceiptLevel.ACKNOWLEDGED: None}
    for group, level in (levels or {}).items():
        if level is not ReceiptLevel.ACKNOWLEDGED:
            groups = found.setdefault(level, [])
            if groups is not None:
                groups.append(group)
    return found
