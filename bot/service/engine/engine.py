"""The engine's loop: claim what is due in batches, hand each delivery to the sender, complete the releases."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta

from bot.domain.delivery import Delivery, Purpose
from bot.domain.destinations import Platform
from bot.domain.plan import Plan
from bot.domain.release import ReleaseState
from bot.service.engine.claims import ClaimPolicy
from bot.service.engine.doubt import Doubts
from bot.service.engine.outcomes import Outcomes
from bot.service.engine.routing import Router
from bot.service.engine.sending import ProgressListener, Sender
from bot.service.gates import Tally
from bot.service.leases import LeaseKeeper
from bot.service.limits import RateLimiter
from bot.service.ports import Clock, ConcurrentUpdate, PlatformLink, UnitOfWorkFactory
from bot.service.retry import RetryPolicy

log = logging.getLogger("bot.service.engine")  # the engine's one logger, whichever part of it speaks


class DeliveryEngine:
    """Sends every due delivery of every release, within the platforms' budgets."""

    def __init__(
        self,
        *,
        plan: Plan,
        uow: UnitOfWorkFactory,
        links: Mapping[Platform, PlatformLink],
        clock: Clock,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        workers: int = 16,
        batch: int = 64,
        lease: timedelta = timedelta(seconds=60),
        owner: str | None = None,
        on_progress: ProgressListener | None = None,
    ) -> None:
        limiter = limiter or RateLimiter()
        self._plan = plan
        self._uow = uow
        self._clock = clock
        self._batch = batch
        self._lease = lease
        self.leases = LeaseKeeper(uow=uow, clock=clock, lease=lease)
        self.owner = owner or f"herald-{uuid.uuid4().hex[:12]}"
        self._wake = asyncio.Event()
        self._claims = 0
        self._inflight: set[asyncio.Task[None]] = set()
        self._versions_seen: set[str] = set()  # releases sent to since they were last checked for completion
        self._claim_policy = ClaimPolicy(plan=plan, links=links, limiter=limiter, batch=batch, lease=lease)
        router = Router(plan=plan, links=links)
        outcomes = Outcomes(clock=clock, limiter=limiter, retry=retry or RetryPolicy())
        self._doubts = Doubts(router=router, outcomes=outcomes, clock=clock)
        self._sender = Sender(
            uow=uow,
            clock=clock,
            limiter=limiter,
            leases=self.leases,
            router=router,
            doubts=self._doubts,
            outcomes=outcomes,
            workers=workers,
            on_progress=on_progress,
        )

    @property
    def reconciled(self) -> int:
        """Deliveries in doubt found already on the platform, recorded instead of resent."""
        return self._doubts.reconciled

    @property
    def unverified(self) -> int:
        """Deliveries in doubt sent again without the platform being asked."""
        return self._doubts.unverified

    # -- running ---------------------------------------------------------------------

    def wake(self, _version: str | None = None) -> None:
        """Look for work now (a release was approved, a retry was asked for)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event, *, poll: float = 5.0) -> None:
        """Work until ``stop`` is set, sleeping until the next due time, a wake, or ``poll`` seconds.

        Batches overlap: the next one is claimed while the last messages of the previous
        one are still out, so the platform's budget never idles between batches.
        """
        while not stop.is_set():
            try:
                if len(self._inflight) > self._batch // 2:
                    await asyncio.wait(set(self._inflight), return_when=asyncio.FIRST_COMPLETED)
                    continue
                if await self._dispatch():
                    continue
                if self._inflight:  # what is out may make more due (an ``after`` group)
                    await asyncio.wait(set(self._inflight), timeout=poll, return_when=asyncio.FIRST_COMPLETED)
                    continue
                async with self._uow() as uow:
                    next_due = await uow.deliveries.next_due(self._clock.now())
            except Exception:  # the database went away: keep the loop, retry shortly
                log.exception("the delivery engine could not reach the database; retrying")
                next_due = None
            wait = poll
            if next_due is not None:
                wait = max(0.0, min(poll, (next_due - self._clock.now()).total_seconds()))
            self._wake.clear()
            stopping = asyncio.ensure_future(stop.wait())
            waking = asyncio.ensure_future(self._wake.wait())
            await asyncio.wait({stopping, waking}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            for task in (stopping, waking):
                task.cancel()
        if self._inflight:
            await asyncio.wait(set(self._inflight))
        await self.leases.close()

    async def run_until_idle(self) -> int:
        """Send until nothing is due now (deliveries scheduled later are left); return how many were tried."""
        total = 0
        while attempted := await self.run_once():
            total += attempted
        return total

    async def run_once(self) -> int:
        """Claim one batch of what is due now, send it, record it; return how many were tried."""
        claimed = await self._dispatch()
        if self._inflight:
            await asyncio.wait(set(self._inflight))
            await self._complete_settled(self._versions_seen)
        return claimed

    async def _dispatch(self) -> int:
        """Claim what is due now (up to the room left in the batch) and start sending it."""
        now = self._clock.now()
        async with self._uow() as uow:
            due = await uow.deliveries.due(now, self._batch * 4)
            releases = {v: await uow.releases.get(v) for v in dict.fromkeys(d.version for d in due)}
            # The whole ledger is read only where an ``after`` has to be checked.
            waiting = {d.version for d in due if self._claim_policy.prerequisites(d)}
            ledgers = {v: await uow.deliveries.for_release(v) for v in waiting}
            # Receipts are counted only where a group waits for an earlier one's (a table in ``after``).
            gated = {d.version for d in due if self._claim_policy.is_gated(d)}
            tallies = {v: await Tally.read(uow, v, self._plan) for v in gated}
        ready = [
            d
            for d in due
            if not self.leases.holds(d.key)
            and self._claim_policy.is_ready(
                d, releases.get(d.version), ledgers.get(d.version, []), tallies.get(d.version, Tally()), now
            )
        ]
        room = self._batch - len(self._inflight)
        if not ready or room <= 0:
            if not self._inflight:
                await self._complete_settled(set(releases) | self._versions_seen)
                self._versions_seen.clear()
            return 0
        self._claim_policy.order(ready)
        # Each claim gets its own token, so a late outcome of an earlier claim of the same
        # delivery (lease ran out, claimed again) can never overwrite the newer one.
        self._claims += 1
        token = f"{self.owner}/{self._claims}"
        async with self._uow() as uow:
            claimed = await uow.deliveries.claim(self._take(ready, room), now, now + self._lease, token)
            await uow.commit()
        self.leases.hold(claimed, token)
        self._versions_seen.update(d.version for d in claimed)
        for delivery in claimed:
            task = asyncio.create_task(self._sender.send(delivery, releases[delivery.version], token))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(claimed)

    def _take(self, ready: list[Delivery], room: int) -> list[str]:
        """The keys to claim now (``ClaimPolicy.take``): no more per platform than fits in half a lease."""
        return self._claim_policy.take(ready, room)

    async def _complete_settled(self, versions: set[str]) -> None:
        for version in versions:
            async with self._uow() as uow:
                release = await uow.releases.get(version)
                if release is None or release.state is not ReleaseState.SENDING:
                    continue
                ledger = await uow.deliveries.for_release(version)
                communiques = [d for d in ledger if d.purpose is Purpose.COMMUNIQUE]
                if all(d.status.settled for d in communiques):
                    release.complete(self._clock.now())
                    try:
                        await uow.releases.save(release)
                        await uow.commit()
                    except ConcurrentUpdate:
                        pass  # another worker completed it at the same moment
