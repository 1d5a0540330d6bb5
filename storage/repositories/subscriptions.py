"""Subscriptions on SQL: one row per place and component, replaced whole by an upsert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain.subscriptions import Subscription
from storage.mapping import subscription_from_row, subscription_values
from storage.repositories._shared import _all, _first, insert_for
from storage.tables import SubscriptionRow


class SqlSubscriptionRepository:
    """Subscriptions, read in the order of place and component."""

    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self._session = session
        self._insert = insert_for(dialect)

    async def put(self, subscription: Subscription) -> Subscription | None:
        before = await self.get(subscription.key)
        values = subscription_values(subscription)
        statement = self._insert(SubscriptionRow).values(values)
        changed = {k: v for k, v in values.items() if k != "key"}
        await self._session.exec(statement.on_conflict_do_update(index_elements=["key"], set_=changed))
        return before

    async def remove(self, medium: str, components: Sequence[str] | None = None) -> list[Subscription]:
        query = select(SubscriptionRow).where(SubscriptionRow.medium == medium)
        if components is not None:
            query = query.where(col(SubscriptionRow.component).in_(list(components)))
        gone = [
            subscription_from_row(row) for row in await _all(self._session, query.order_by(col(SubscriptionRow.key)))
        ]
        if gone:
            keys = [s.key for s in gone]
            await self._session.exec(delete(SubscriptionRow).where(col(SubscriptionRow.key).in_(keys)))
        return gone

    async def get(self, key: str) -> Subscription | None:
        row = await _first(self._session, select(SubscriptionRow).where(SubscriptionRow.key == key))
        return subscription_from_row(row) if row is not None else None

    async def of_media(self, media: Sequence[str]) -> list[Subscription]:
        query = select(SubscriptionRow).where(col(SubscriptionRow.medium).in_(list(media)))
        return [
            subscription_from_row(row) for row in await _all(self._session, query.order_by(col(SubscriptionRow.key)))
        ]

    async def everyone(self, *, confirmed: bool = True) -> list[Subscription]:
        query = select(SubscriptionRow)
        if confirmed:
            query = query.where(col(SubscriptionRow.confirmed).is_(True))
        return [
            subscription_from_row(row) for row in await _all(self._session, query.order_by(col(SubscriptionRow.key)))
        ]

    async def forget_unconfirmed(self, before: datetime) -> int:
        stale = (col(SubscriptionRow.confirmed).is_(False)) & (col(SubscriptionRow.since) < before)
        keys = [row.key for row in await _all(self._session, select(SubscriptionRow).where(stale))]
        if keys:
            await self._session.exec(delete(SubscriptionRow).where(col(SubscriptionRow.key).in_(keys)))
        return len(keys)

    async def confirm(self, key: str) -> Subscription | None:
        await self._session.exec(update(SubscriptionRow).where(col(SubscriptionRow.key) == key).values(confirmed=True))
        return await self.get(key)
