"""Coalesced redraws of the messages that show live counts, for every chat platform.

Receipts and deliveries can arrive hundreds a second; the platforms allow a message
to be edited a few times a minute. ``Redraws`` runs at most one redraw per release at
a time, at most one per interval (counted from the end of the last), and a change
that arrives during a redraw gets exactly one follow-up, so the final figures land.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from bot.service.chat.background import drain

log = logging.getLogger(__name__)

Redraw = Callable[[str, tuple[str, ...], tuple[str, ...]], Awaitable[None]]


class Redraws:
    """Schedules ``redraw(version, groups, copies)`` calls: coalesced, spaced, never lost."""

    def __init__(self, redraw: Redraw, every: float) -> None:
        self._redraw = redraw
        self.every = every
        self._dirty: set[str] = set()
        self._last: dict[str, float] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._groups: dict[str, set[str]] = {}  # walkthrough messages to redraw, per release
        self._copies: dict[str, set[str]] = {}  # delivered copies whose count changed, per release

    def mark(self, version: str, groups: Iterable[str] = (), copies: Iterable[str] = ()) -> None:
        """Something about ``version`` changed: redraw it soon, with these groups and copies."""
        self._groups.setdefault(version, set()).update(groups)
        self._copies.setdefault(version, set()).update(copies)
        if version in self._tasks:
            self._dirty.add(version)
            return
        self._tasks[version] = asyncio.create_task(self._later(version))

    async def _later(self, version: str) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                wait = self.every - (loop.time() - self._last.get(version, -self.every))
                await asyncio.sleep(max(0.0, wait))
                self._dirty.discard(version)
                groups, self._groups[version] = tuple(sorted(self._groups.get(version, set()))), set()
                copies, self._copies[version] = tuple(sorted(self._copies.get(version, set()))), set()
                await self._redraw(version, groups, copies)
                # Counted from the end: a redraw that took a while still leaves a full interval.
                self._last[version] = loop.time()
                if version not in self._dirty:
                    return
        except Exception:  # a redraw is cosmetic: log it, the next change tries again
            log.warning("could not redraw release %s", version, exc_info=True)
        finally:
            self._tasks.pop(version, None)

    async def flush(self, within: float | None = None) -> None:
        """Wait for the scheduled redraws (the final figures land); past ``within`` seconds, drop them."""
        await drain(self._tasks.values, within)
