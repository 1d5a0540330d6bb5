"""Shared token buckets on SQL: the ``BudgetStore`` every Herald process on one database draws from.

Each call is one short transaction of its own, outside any unit of work. The bucket's
row is the lock: PostgreSQL takes it with SELECT … FOR UPDATE; SQLite has one writer,
and each transaction writes (the insert-if-absent) before it reads, so it holds that
writer's lock from the first statement. Either way two processes never both take the
last token.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from bot.service.limits import reserve_token
from storage.repositories import insert_for
from storage.tables import RateBucketRow


class SqlBudgets:
    """Token buckets in the ``rate_buckets`` table; a missing bucket starts full."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._insert = insert_for(engine.dialect.name)

    async def take(self, bucket: str, *, now: datetime, rate: float, burst: float) -> float:
        """Take one token, or say how many seconds until there is one (see ``BudgetStore.take``)."""
        taken, wait = await self.reserve(bucket, now=now, rate=rate, burst=burst, within=0.0)
        return 0.0 if taken else wait

    async def reserve(
        self, bucket: str, *, now: datetime, rate: float, burst: float, within: float
    ) -> tuple[bool, float]:
        """Take the next token if it is there within ``within`` seconds (see ``BudgetStore.reserve``)."""
        name = col(RateBucketRow.name)
        async with self._engine.begin() as connection:
            await connection.execute(
                self._insert(RateBucketRow)
                .values(name=bucket, tokens=burst, updated_at=now, blocked_until=None)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            read = select(
                col(RateBucketRow.tokens), col(RateBucketRow.updated_at), col(RateBucketRow.blocked_until)
            ).where(name == bucket)
            tokens, updated, blocked = (await connection.execute(read.with_for_update())).one()
            if blocked is not None and blocked > now:
                return False, (blocked - now).total_seconds()
            taken, tokens, wait = reserve_token(tokens, (now - updated).total_seconds(), rate, burst, within)
            # Takers queue for the lock, so a later one may carry an earlier ``now``: never
            # move the refill mark back, or the same seconds would be refilled twice.
            await connection.execute(
                update(RateBucketRow)
                .where(name == bucket)
                .values(tokens=tokens, updated_at=max(now, updated), blocked_until=None)
            )
        return taken, wait

    async def blocked(self, bucket: str, *, now: datetime) -> float:
        """Seconds until the bucket's block ends, 0.0 when it has none (see ``BudgetStore.blocked``)."""
        async with self._engine.connect() as connection:
            until = (
                await connection.execute(
                    select(col(RateBucketRow.blocked_until)).where(col(RateBucketRow.name) == bucket)
                )
            ).scalar()
        return max(0.0, (until - now).total_seconds()) if until is not None else 0.0

    async def block(self, bucket: str, until: datetime) -> None:
        """Give no token before ``until``; a longer block already in place stays."""
        blocked = col(RateBucketRow.blocked_until)
        # From the end of the block the bucket refills from empty: no burst the moment it lifts.
        emptied = {"tokens": 0.0, "updated_at": until, "blocked_until": until}
        async with self._engine.begin() as connection:
            await connection.execute(
                self._insert(RateBucketRow)
                .values(name=bucket, **emptied)
                .on_conflict_do_update(
                    index_elements=["name"], set_=emptied, where=or_(blocked.is_(None), blocked < until)
                )
            )
