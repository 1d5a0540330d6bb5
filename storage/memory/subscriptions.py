"""Subscriptions in memory: the twin of ``storage.repositories.subscriptions``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.domain.subscriptions import Subscription
from storage.memory.store import MemoryStore, Undo


class MemorySubscriptions:
    """Subscriptions by key, each change journalled for rollback."""

    def __init__(self, store: MemoryStore, undo: Undo) -> None:
        self._rows = store.subscriptions
        self._undo = undo

    def _set(self, key: str, value: Subscription | None) -> None:
        before = self._rows.get(key)
        if value is None:
            self._rows.pop(key, None)
        else:
            self._rows[key] = value
        self._undo.append(lambda: self._rows.__setitem__(key, before) if before else self._rows.pop(key, None))

    async def put(self, subscription: Subscription) -> Subscription | None:
        before = self._rows.get(subscription.key)
        self._set(subscription.key, subscription)
        return before

    async def remove(self, medium: str, components: Sequence[str] | None = None) -> list[Subscription]:
        gone = [s for s in self._sorted() if s.medium == medium and (components is None or s.component in components)]
        for subscription in gone:
            self._set(subscription.key, None)
        return gone

    async def get(self, key: str) -> Subscription | None:
        return self._rows.get(key)

    async def of_media(self, media: Sequence[str]) -> list[Subscription]:
        return [s for s in self._sorted() if s.medium in media]

    async def everyone(self, *, confirmed: bool = True) -> list[Subscription]:
        return [s for s in self._sorted() if s.confirmed or not confirmed]

    async def confirm(self, key: str) -> Subscription | None:
        found = self._rows.get(key)
        if found is None or found.confirmed:
            return found
        confirmed = replace(found, confirmed=True)
        self._set(key, confirmed)
        return confirmed

    async def forget_unconfirmed(self, before: datetime) -> int:
        stale = [s for s in self._sorted() if not s.confirmed and s.since < before]
        for subscription in stale:
            self._set(subscription.key, None)
        return len(stale)

    def _sorted(self) -> list[Subscription]:
        return [self._rows[k] for k in sorted(self._rows)]
