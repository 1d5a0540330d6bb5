"""What a failed send or look-up makes of a delivery: a wait, a retry after a backoff, or a failure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.domain.delivery import Delivery
from bot.domain.errors import RateLimited
from bot.service.limits import RateLimiter
from bot.service.ports import Clock, PlatformLink
from bot.service.retry import RetryPolicy


class Outcomes:
    """Turns an error into the delivery's next state; the budgets hear of a 429 here."""

    def __init__(self, *, clock: Clock, limiter: RateLimiter, retry: RetryPolicy) -> None:
        self._clock = clock
        self._limiter = limiter
        self._retry = retry

    async def paced(self, delivery: Delivery, link: PlatformLink, error: RateLimited) -> Delivery:
        """A 429: the budget it names waits out its Retry-After, and so does the delivery (no attempt counted)."""
        target = delivery.target if error.scope == "target" else None
        await self._limiter.throttled(
            link.limits, target=target, retry_after=error.retry_after or 1.0, method=error.method
        )
        now = self._clock.now()
        waiting = delivery.retry_at(str(error), now + timedelta(seconds=error.retry_after or 1.0), now)
        return replace(waiting, attempts=max(0, delivery.attempts - 1))

    def retry_or_fail(
        self, delivery: Delivery, error: str, retry_after: float | None, *, since: datetime | None = None
    ) -> Delivery:
        """Back to wait for a backoff, or failed once the retry policy gives up (``since``: the send is in doubt)."""
        now = self._clock.now()
        if self._retry.gives_up(delivery.attempts):
            failed = replace(delivery, in_doubt_since=delivery.in_doubt_since or since)
            return failed.failed(f"{error} (gave up after {delivery.attempts} attempts)", permanent=False, now=now)
        return delivery.retry_at(error, now + self._retry.delay(delivery.attempts, retry_after), now, since=since)
