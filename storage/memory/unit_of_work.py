"""The in-memory unit of work: every repository over one ``MemoryStore``, with rollback."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from storage.memory.repositories import _Audit, _Deliveries, _Receipts, _Releases
from storage.memory.store import MemoryStore, Undo
from storage.memory.subscriptions import MemorySubscriptions


class MemoryUnitOfWork:
    """A unit of work over a ``MemoryStore``.

    Writes go straight to the store with an undo journal; rollback replays it
    backwards. Each call is atomic (no awaits inside), as a row lock would make it.
    """

    def __init__(self, store: MemoryStore) -> None:
        self._undo: Undo = []
        self.releases = _Releases(store, self._undo)
        self.deliveries = _Deliveries(store, self._undo)
        self.receipts = _Receipts(store, self._undo)
        self.audit = _Audit(store, self._undo)
        self.subscriptions = MemorySubscriptions(store, self._undo)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.rollback()

    async def commit(self) -> None:
        self._undo.clear()

    async def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()
