"""Sending one claimed delivery and recording its outcome, while its lease is surely this process's."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.domain.delivery import Delivery
from bot.domain.errors import DeliveryError, RateLimited, RetryableDeliveryError, Unreachable
from bot.domain.release import Release
from bot.service.engine.corrections import Corrections, edited_ref
from bot.service.engine.doubt import Doubts
from bot.service.engine.outcomes import Outcomes
from bot.service.engine.routing import Router
from bot.service.leases import LeaseKeeper
from bot.service.limits import RateLimiter
from bot.service.ports import Clock, Editor, OutgoingMessage, PlatformLink, UnitOfWorkFactory

log = logging.getLogger("bot.service.engine")  # the engine's one logger, whichever part of it speaks

ProgressListener = Callable[[str], None]
_RECORD_RETRIES = (0.2, 0.5, 1.0, 2.0, 4.0)


class Sender:
    """Sends one claimed delivery (after looking for a copy in doubt) and settles its outcome in the ledger."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        limiter: RateLimiter,
        leases: LeaseKeeper,
        router: Router,
        doubts: Doubts,
        outcomes: Outcomes,
        workers: int,
        on_progress: ProgressListener | None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._limiter = limiter
        self._leases = leases
        self._router = router
        self._doubts = doubts
        self._outcomes = outcomes
        self._workers = asyncio.Semaphore(workers)
        self._on_progress = on_progress
        self._corrections = Corrections(uow=uow, clock=clock)

    async def send(self, delivery: Delivery, release: Release | None, token: str) -> None:
        """Send the delivery claimed under ``token`` and record what came of it; its lease is released after."""
        # The worker slot covers the send and its record: at most ``workers`` messages are
        # ever out without their outcome in the ledger, which bounds what a crash leaves in
        # doubt. Looking for a copy in doubt is no send, and waits for its own budget outside.
        try:
            # A correction made in place is asked about by its copy, in ``_attempt``.
            outcome = None if delivery.amends else await self._doubts.looked_for(delivery, release)
            if outcome is not None:
                stored = await self._record(outcome, token)
            else:
                async with self._workers:
                    outcome = await self._attempt(delivery, release, token)
                    stored = outcome is not None and await self._record(outcome, token)
        finally:
            self._leases.release(delivery.key)
        if outcome is None:
            self._leases.abandoned += 1
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

    async def _edit(self, link: PlatformLink, message: OutgoingMessage, ref: str, delivery: Delivery) -> str:
        """Correct the copy ``ref`` in place, unless an edit in doubt already did; the reference to record."""
        editor = link.messenger
        assert isinstance(editor, Editor)  # the step chose an edit only for an editor
        if delivery.in_doubt_since is not None:
            try:
                if await editor.carries(message, ref):
                    self._doubts.reconciled += 1
                    return edited_ref(ref, delivery)
            except DeliveryError as error:
                if not error.permanent:  # a 429, a time-out: ask again later, never edit blind
                    raise
        await editor.edit(message, ref)
        return edited_ref(ref, delivery)

    async def _attempt(self, delivery: Delivery, release: Release | None, token: str) -> Delivery | None:
        """Send the delivery; its outcome, or None when it was not sent because its lease is no longer sure."""
        link, message = self._router.route(delivery, release)
        now = self._clock.now
        if link is None:
            return delivery.failed(f"{delivery.to.platform} is not configured", permanent=True, now=now())
        if message is None or release is None:
            return delivery.failed("the group is no longer in the plan", permanent=True, now=now())
        edit: str | None = None
        if delivery.amends:
            step = await self._corrections.step(delivery, release, link, message)
            if isinstance(step, Delivery):
                return step
            edit, message = step.edit, step.message
            if edit is None:  # a follow-up in doubt is looked for like any message
                found = await self._doubts.looked_for(delivery, release)
                if found is not None:
                    return found
        communique = release.communiques.get(delivery.group_id)
        revision = communique.revision if communique is not None else None
        started = now()
        try:
            await self._limiter.acquire_send(link.limits, delivery.target)
            # Checked last, after every wait; noting the start in the ledger checks the lease once more.
            if not self._leases.usable(delivery.key) or not await self._started(delivery.key, token, started):
                return None
            if edit is not None:
                ref = await self._edit(link, message, edit, delivery)
            else:
                ref = await link.messenger.send(message)
        except RateLimited as error:
            return await self._outcomes.paced(delivery, link, error)
        except DeliveryError as error:
            if isinstance(error, Unreachable):  # the person cannot be messaged there: never attempted
                return delivery.unreachable(str(error), now())
            if error.permanent:
                return delivery.failed(str(error), permanent=True, now=now())
            uncertain = isinstance(error, RetryableDeliveryError) and error.uncertain
            return self._outcomes.retry_or_fail(
                delivery, str(error), error.retry_after, since=started if uncertain else None
            )
        except Exception as error:  # an adapter bug or a transport surprise must not lose the record
            log.exception("sending %s failed unexpectedly", delivery.key)
            # Where it failed is unknown, so whether the message arrived is too.
            return self._outcomes.retry_or_fail(
                delivery, f"unexpected error: {type(error).__name__}", None, since=started
            )
        self._limiter.succeeded(link.limits, delivery.target)
        sent = delivery.sent(ref, now(), revision=revision)
        why = self._doubts.unverified_reason(delivery.key)
        if why is not None:  # the row says so: this copy may be the second
            sent = replace(sent, report=f"sent again unverified: an earlier copy may have arrived ({why})")
        return sent
