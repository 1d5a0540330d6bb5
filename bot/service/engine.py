"""The delivery engine: works the ledger until every target has its message, once.

Workers claim due deliveries with a lease (pending → sending) and commit before the
platform is called, then settle the outcome if they still hold the lease. The process
renews the leases it holds while it sends (``LeaseKeeper``), never claims a row it is
still sending, and sends only while the lease is surely its own. A delivery whose
worker died returns to the pool when its lease runs out, in doubt (it may have gone
out), as does a send the platform did not answer. Before such a delivery is sent again
the platform is asked whether it has it (``Reconciler``); found, it is recorded, not
resent. Only where the platform cannot be asked is it sent again unverified.
Retryable failures come back after a backoff; permanent ones fail at once.
Groups wait for the groups named in their ``after`` to go out; channels go first.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.destinations import Kind, Platform
from bot.domain.errors import DeliveryError, RateLimited, RetryableDeliveryError
from bot.domain.plan import Group, Plan
from bot.domain.release import Release, ReleaseState
from bot.service.leases import LeaseKeeper
from bot.service.limits import RateLimiter
from bot.service.messages import outgoing
from bot.service.ports import (
    Clock,
    ConcurrentUpdate,
    OutgoingMessage,
    PlatformLink,
    Reconciler,
    UnitOfWorkFactory,
)
from bot.service.retry import RetryPolicy
from bot.service.templating import RenderError
from bot.service.walkthrough import render_subject

log = logging.getLogger(__name__)

ProgressListener = Callable[[str], None]
_RECORD_RETRIES = (0.2, 0.5, 1.0, 2.0, 4.0)


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
        self._plan = plan
        self._uow = uow
        self._links = links
        self._clock = clock
        self._limiter = limiter or RateLimiter()
        self._retry = retry or RetryPolicy()
        self._workers = asyncio.Semaphore(workers)
        self._batch = batch
        self._lease = lease
        self.leases = LeaseKeeper(uow=uow, clock=clock, lease=lease)
        self.owner = owner or f"herald-{uuid.uuid4().hex[:12]}"
        self._on_progress = on_progress
        self._wake = asyncio.Event()
        self._claims = 0
        self._inflight: set[asyncio.Task[None]] = set()
        self._versions_seen: set[str] = set()  # releases sent to since they were last checked for completion
        self._subjects: dict[tuple[str, str], str] = {}  # (version, group) -> rendered e-mail subject
        self.reconciled = 0  # deliveries in doubt found already on the platform, recorded instead of resent
        self.unverified = 0  # deliveries in doubt sent again without the platform being asked
        self._unverified: dict[str, str] = {}  # key -> why it could not be looked for, noted on the row once sent

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
            waiting = {d.version for d in due if self._prerequisites(d)}
            ledgers = {v: await uow.deliveries.for_release(v) for v in waiting}
        ready = [
            d
            for d in due
            if not self.leases.holds(d.key) and self._is_ready(d, releases.get(d.version), ledgers.get(d.version, []))
        ]
        room = self._batch - len(self._inflight)
        if not ready or room <= 0:
            if not self._inflight:
                await self._complete_settled(set(releases) | self._versions_seen)
                self._versions_seen.clear()
            return 0
        order = {gid: i for i, gid in enumerate(self._plan.send_order())}
        ready.sort(
            key=lambda d: (d.purpose is not Purpose.COMMUNIQUE, order.get(d.group_id, 99), d.kind is not Kind.CHANNEL)
        )
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
            task = asyncio.create_task(self._send(delivery, releases[delivery.version], token))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
        return len(claimed)

    # -- deciding --------------------------------------------------------------------

    def _prerequisites(self, delivery: Delivery) -> tuple[str, ...]:
        if delivery.purpose is not Purpose.COMMUNIQUE:
            return ()
        group = next((g for g in self._plan.groups if g.id == delivery.group_id), None)
        return group.after if group else ()

    def _is_ready(self, delivery: Delivery, release: Release | None, ledger: list[Delivery]) -> bool:
        if release is None or release.state not in (ReleaseState.SENDING, ReleaseState.SENT):
            return False
        for prerequisite in self._prerequisites(delivery):
            theirs = [d for d in ledger if d.group_id == prerequisite and d.purpose is Purpose.COMMUNIQUE]
            if not theirs:
                continue
            settled = all(d.status.settled for d in theirs)
            if not settled or not any(d.status is DeliveryStatus.SENT for d in theirs):
                return False
        return True

    def _take(self, ready: list[Delivery], room: int) -> list[str]:
        """The keys to claim now: no more per platform than its budget can send in half a lease.

        A claimed delivery waiting for budget past its lease would be claimed again by
        another worker; claiming only what fits keeps every send inside its lease.
        """
        totals: dict[str, int] = {}  # per platform: what the ceiling lets through
        directs: dict[str, int] = {}  # per platform: how many people can be reached anew
        keys: list[str] = []
        horizon = self._lease.total_seconds() / 2
        for delivery in ready:
            if len(keys) >= room:
                break
            platform = delivery.target.split(":", 1)[0]
            if platform not in totals:
                link = self._links.get(Platform(platform))
                totals[platform] = self._limiter.capacity(link.limits, horizon) if link else self._batch
                directs[platform] = self._limiter.capacity(link.limits, horizon, direct=True) if link else self._batch
            if totals[platform] <= 0:
                continue
            if delivery.kind is Kind.DM:
                if directs[platform] <= 0:
                    continue
                directs[platform] -= 1
            totals[platform] -= 1
            keys.append(delivery.key)
        return keys

    # -- sending ---------------------------------------------------------------------

    def _message(self, delivery: Delivery, release: Release) -> OutgoingMessage | None:
        communique = release.communiques.get(delivery.group_id)
        if communique is None:
            return None
        message = outgoing(self._plan, delivery, delivery.body or communique.text)
        if message is None or delivery.kind is not Kind.EMAIL:
            return message
        group = self._plan.group(delivery.group_id)
        return replace(
            message,
            subject=self._subject(release, group),
            read_receipt=group.read_receipt and delivery.purpose is Purpose.COMMUNIQUE,
        )

    def _subject(self, release: Release, group: Group) -> str:
        """The group's e-mail subject, rendered once per release (the walkthrough checked it renders)."""
        cached = self._subjects.get((release.version, group.id))
        if cached is None:
            try:
                cached = render_subject(self._plan, release.version, group)
            except RenderError:  # the plan changed since the check: a plain, safe subject
                cached = f"{release.product} {release.version}"
            self._subjects[(release.version, group.id)] = cached
        return cached

    async def _send(self, delivery: Delivery, release: Release | None, token: str) -> None:
        # The worker slot covers the send and its record: at most ``workers`` messages are
        # ever out without their outcome in the ledger, which bounds what a crash leaves in
        # doubt. Looking for a copy in doubt is no send, and waits for its own budget outside.
        try:
            outcome = await self._looked_for(delivery, release)
            if outcome is not None:
                stored = await self._record(outcome, token)
            else:
                async with self._workers:
                    outcome = await self._attempt(delivery, release, token)
                    stored = outcome is not None and await self._record(outcome, token)
        finally:
            self.leases.release(delivery.key)
        if outcome is None:
            self.leases.abandoned += 1
            log.warning("did not send %s: its lease was lost or could not be renewed; it goes out later", delivery.key)
            return
        if not stored:
            log.warning("lost the lease on %s before recording it; another worker has it", delivery.key)
            return
        if self._on_progress is not None:
            self._on_progress(delivery.version)

    async def _started(self, key: str, token: str, at: datetime) -> bool:
        """Note in the ledger that the send of ``key`` starts (in doubt until settled); False: do not send."""
        try:
            async with self._uow() as uow:
                held = await uow.deliveries.start(key, token, at)
                await uow.commit()
        except Exception:  # the database is away: a send it cannot note does not go out
            log.warning("could not note that %s is being sent; it waits", key, exc_info=True)
            return False
        return held

    async def _record(self, outcome: Delivery, token: str) -> bool:
        """Settle the outcome, riding out a short database outage (a restart, a locked SQLite file).

        If the database stays away the row keeps its lease and is resumed when it runs out.
        """
        for pause in _RECORD_RETRIES:
            try:
                async with self._uow() as uow:
                    stored = await uow.deliveries.settle(outcome, token)
                    await uow.commit()
                return stored
            except Exception:
                log.warning("could not record %s; retrying in %.1fs", outcome.key, pause, exc_info=True)
                await asyncio.sleep(pause)
        log.error("could not record %s; it will be resumed when its lease runs out", outcome.key)
        return False

    def _route(self, delivery: Delivery, release: Release | None) -> tuple[PlatformLink | None, OutgoingMessage | None]:
        link = self._links.get(Platform(delivery.target.split(":", 1)[0]))
        return link, self._message(delivery, release) if release is not None else None

    async def _looked_for(self, delivery: Delivery, release: Release | None) -> Delivery | None:
        """For a delivery in doubt: recorded as sent if the platform has it, or back to wait if it could not
        say; None when it is to be sent (not in doubt, not found, or not to be found)."""
        link, message = self._route(delivery, release)
        if delivery.in_doubt_since is None or link is None or message is None:
            return None
        try:
            found = await self._already_sent(delivery, link, message)
        except RateLimited as error:
            return await self._paced(delivery, link, error)
        except DeliveryError as error:
            return self._retry_or_fail(delivery, str(error), error.retry_after)
        except Exception as error:  # an adapter bug must not lose the record, nor send blind
            log.exception("looking for %s failed unexpectedly", delivery.key)
            return self._retry_or_fail(delivery, f"unexpected error: {type(error).__name__}", None)
        return delivery.sent(found, self._clock.now()) if found is not None else None

    async def _paced(self, delivery: Delivery, link: PlatformLink, error: RateLimited) -> Delivery:
        """A 429: the budget it names waits out its Retry-After, and so does the delivery (no attempt counted)."""
        target = delivery.target if error.scope == "target" else None
        await self._limiter.throttled(
            link.limits, target=target, retry_after=error.retry_after or 1.0, method=error.method
        )
        now = self._clock.now()
        waiting = delivery.retry_at(str(error), now + timedelta(seconds=error.retry_after or 1.0), now)
        return replace(waiting, attempts=max(0, delivery.attempts - 1))

    async def _attempt(self, delivery: Delivery, release: Release | None, token: str) -> Delivery | None:
        """Send the delivery; its outcome, or None when it was not sent because its lease is no longer sure."""
        link, message = self._route(delivery, release)
        now = self._clock.now
        if link is None:
            return delivery.failed(f"{delivery.target.split(':', 1)[0]} is not configured", permanent=True, now=now())
        if message is None:
            return delivery.failed("the group is no longer in the plan", permanent=True, now=now())
        started = now()
        try:
            await self._limiter.acquire_send(link.limits, delivery.target)
            # Checked last, after every wait; noting the start in the ledger checks the lease once more.
            if not self.leases.usable(delivery.key) or not await self._started(delivery.key, token, started):
                return None
            ref = await link.messenger.send(message)
        except RateLimited as error:
            return await self._paced(delivery, link, error)
        except DeliveryError as error:
            if error.permanent:
                return delivery.failed(str(error), permanent=True, now=now())
            uncertain = isinstance(error, RetryableDeliveryError) and error.uncertain
            return self._retry_or_fail(delivery, str(error), error.retry_after, since=started if uncertain else None)
        except Exception as error:  # an adapter bug or a transport surprise must not lose the record
            log.exception("sending %s failed unexpectedly", delivery.key)
            # Where it failed is unknown, so whether the message arrived is too.
            return self._retry_or_fail(delivery, f"unexpected error: {type(error).__name__}", None, since=started)
        self._limiter.succeeded(link.limits, delivery.target)
        sent = delivery.sent(ref, now())
        why = self._unverified.pop(delivery.key, None)
        if why is not None:  # the row says so: this copy may be the second
            sent = replace(sent, report=f"sent again unverified: an earlier copy may have arrived ({why})")
        return sent

    async def _already_sent(self, delivery: Delivery, link: PlatformLink, message: OutgoingMessage) -> str | None:
        """For a delivery in doubt, the reference of the copy the platform already has (None: send it).

        Raises:
            RetryableDeliveryError: the platform could not answer now (a 429, a time-out); the
                delivery stays in doubt and is asked about again.
        """
        since = delivery.in_doubt_since
        if since is None:
            return None
        if not isinstance(link.messenger, Reconciler):
            platform = delivery.target.split(":", 1)[0]
            self._send_unverified(delivery, f"{platform} cannot be asked whether it has it")
            return None
        try:
            found = await link.messenger.find(message, since)
        except DeliveryError as error:
            if not error.permanent:  # a 429, a time-out: ask again later, never send blind
                raise
            self._send_unverified(delivery, str(error))
            return None
        if found is not None:
            self.reconciled += 1
            log.info("%s had already gone out (%s); recorded, not sent again", delivery.key, found)
        return found

    def _send_unverified(self, delivery: Delivery, why: str) -> None:
        self.unverified += 1
        self._unverified[delivery.key] = why
        log.warning(
            "%s may have gone out already and could not be looked for (%s); sending it again", delivery.key, why
        )

    def _retry_or_fail(
        self, delivery: Delivery, error: str, retry_after: float | None, *, since: datetime | None = None
    ) -> Delivery:
        now = self._clock.now()
        if self._retry.gives_up(delivery.attempts):
            failed = replace(delivery, in_doubt_since=delivery.in_doubt_since or since)
            return failed.failed(f"{error} (gave up after {delivery.attempts} attempts)", permanent=False, now=now)
        return delivery.retry_at(error, now + self._retry.delay(delivery.attempts, retry_after), now, since=since)

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
