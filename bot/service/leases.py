"""The leases one process holds on the deliveries it is sending, kept alive while it lives.

A claim leases a delivery for ``lease``; a send can take longer than that (it waits for
the platform's budget, the platform is slow), and a lease that runs out mid-send lets
another worker claim the row and send it again. So while a process holds leases, a
keeper renews them every third of a lease, and a send goes out only while its lease has
at least a third of a lease left (``usable``): a row the keeper could not renew (the
database is away) or lost (another worker took it over) is not sent. The process never
claims a row it still holds, even one whose lease ran out.

Only a process that dies with a send in flight leaves a row for another worker to send
again; adapters that can ask the platform whether a message went out close that window.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.delivery import Delivery
from bot.service.ports import Clock, UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Lease:
    token: str  # the claim's own owner token
    until: datetime  # as far as this process knows: the end of the last claim or renewal it stored
    lost: bool = False


class LeaseKeeper:
    """Holds this process's leases and renews them in the background while any are held."""

    def __init__(self, *, uow: UnitOfWorkFactory, clock: Clock, lease: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self._lease = lease
        self._held: dict[str, _Lease] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.lost = 0  # leases another worker took over while this process held them
        self.abandoned = 0  # sends not made because their lease was lost or could not be renewed

    def hold(self, deliveries: Iterable[Delivery], token: str) -> None:
        """Keep the leases of these freshly claimed deliveries until ``release``."""
        for delivery in deliveries:
            assert delivery.leased_until is not None, "a claimed delivery has a lease"
            self._held[delivery.key] = _Lease(token, delivery.leased_until)
        if self._held:
            self._idle.clear()
            if self._task is None or self._task.done():
                self._task = asyncio.create_task(self._keep())

    def holds(self, key: str) -> bool:
        """Whether this process is still sending ``key`` (so it must not claim it again)."""
        return key in self._held

    def usable(self, key: str) -> bool:
        """Whether the send of ``key`` may go out now: its lease is ours and lasts a while yet."""
        lease = self._held.get(key)
        if lease is None or lease.lost:
            return False
        return lease.until - self._clock.now() >= self._lease / 3

    def release(self, key: str) -> None:
        """The send of ``key`` is over (recorded or given up): stop renewing it."""
        self._held.pop(key, None)
        if not self._held:
            self._idle.set()

    async def close(self) -> None:
        """Stop renewing (the leases held run out by themselves)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _keep(self) -> None:
        interval = self._lease.total_seconds() / 3
        while self._held:
            try:
                await asyncio.wait_for(self._idle.wait(), interval)
            except TimeoutError:
                await self.renew()

    async def renew(self) -> None:
        """Extend every held lease by a whole lease from now; mark the ones another worker took as lost."""
        by_token: dict[str, list[str]] = defaultdict(list)
        for key, lease in self._held.items():
            if not lease.lost:
                by_token[lease.token].append(key)
        if not by_token:
            return
        until = self._clock.now() + self._lease
        try:
            async with self._uow() as uow:
                renewed = {token: await uow.deliveries.renew(keys, token, until) for token, keys in by_token.items()}
                await uow.commit()
        except Exception:  # the database is away: the leases keep their old end, and sends stop before it
            log.warning("could not renew %d leases; their sends wait", sum(map(len, by_token.values())), exc_info=True)
            return
        for token, keys in by_token.items():
            for key in keys:
                held = self._held.get(key)
                if held is None or held.token != token:
                    continue  # settled meanwhile
                if key in renewed[token]:
                    held.until = until
                else:
                    held.lost = True
                    self.lost += 1
                    log.warning("lost the lease on %s while sending it; another worker has it", key)
