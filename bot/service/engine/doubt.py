"""A delivery in doubt (it may have gone out): ask its platform for the copy before sending it again."""

from __future__ import annotations

import logging

from bot.domain.delivery import Delivery
from bot.domain.errors import DeliveryError, RateLimited
from bot.domain.release import Release
from bot.service.engine.outcomes import Outcomes
from bot.service.engine.routing import Router
from bot.service.ports import Clock, OutgoingMessage, PlatformLink, Reconciler

log = logging.getLogger("bot.service.engine")  # the engine's one logger, whichever part of it speaks


class Doubts:
    """Looks for the copy a crash or an unanswered send may have left on the platform; counts what it finds."""

    def __init__(self, *, router: Router, outcomes: Outcomes, clock: Clock) -> None:
        self._router = router
        self._outcomes = outcomes
        self._clock = clock
        self.reconciled = 0  # deliveries in doubt found already on the platform, recorded instead of resent
        self.unverified = 0  # deliveries in doubt sent again without the platform being asked
        self._unverified: dict[str, str] = {}  # key -> why it could not be looked for, noted on the row once sent

    def unverified_reason(self, key: str) -> str | None:
        """Why ``key`` is being sent again without the platform being asked (None: it was asked, or not in doubt).

        Given once: the caller notes it on the row it records as sent.
        """
        return self._unverified.pop(key, None)

    async def looked_for(self, delivery: Delivery, release: Release | None) -> Delivery | None:
        """For a delivery in doubt: recorded as sent if the platform has it, or back to wait if it could not
        say; None when it is to be sent (not in doubt, not found, or not to be found)."""
        link, message = self._router.route(delivery, release)
        if delivery.in_doubt_since is None or link is None or message is None:
            return None
        try:
            found = await self._already_sent(delivery, link, message)
        except RateLimited as error:
            return await self._outcomes.paced(delivery, link, error)
        except DeliveryError as error:
            return self._outcomes.retry_or_fail(delivery, str(error), error.retry_after)
        except Exception as error:  # an adapter bug must not lose the record, nor send blind
            log.exception("looking for %s failed unexpectedly", delivery.key)
            return self._outcomes.retry_or_fail(delivery, f"unexpected error: {type(error).__name__}", None)
        return delivery.sent(found, self._clock.now()) if found is not None else None

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
            self._send_unverified(delivery, f"{delivery.to.platform} cannot be asked whether it has it")
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
