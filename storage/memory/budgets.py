"""The in-memory ``BudgetStore``: token buckets shared within one process."""

from __future__ import annotations

from datetime import datetime

from bot.service.limits import reserve_token
from storage.memory.store import MemoryStore


class MemoryBudgets:
    """Shared token buckets over a ``MemoryStore`` (one process)."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def take(self, bucket: str, *, now: datetime, rate: float, burst: float) -> float:
        taken, wait = await self.reserve(bucket, now=now, rate=rate, burst=burst, within=0.0)
        return 0.0 if taken else wait

    async def reserve(
        self, bucket: str, *, now: datetime, rate: float, burst: float, within: float
    ) -> tuple[bool, float]:
        tokens, updated, blocked = self._store.buckets.get(bucket, (burst, now, None))
        if blocked is not None and blocked > now:
            return False, (blocked - now).total_seconds()
        taken, tokens, wait = reserve_token(tokens, (now - updated).total_seconds(), rate, burst, within)
        mark = max(now, updated)  # a taker with an older ``now`` must not refill the same seconds twice
        self._store.buckets[bucket] = (tokens, mark, None)
        return taken, wait

    async def blocked(self, bucket: str, *, now: datetime) -> float:
        _, _, blocked = self._store.buckets.get(bucket, (0.0, now, None))
        return max(0.0, (blocked - now).total_seconds()) if blocked is not None else 0.0

    async def block(self, bucket: str, until: datetime) -> None:
        _, _, blocked = self._store.buckets.get(bucket, (0.0, until, None))
        if blocked is None or until > blocked:
            # Refill from the end of the block: no burst the moment it lifts.
            self._store.buckets[bucket] = (0.0, until, until)
