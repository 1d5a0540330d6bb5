"""Which due deliveries a claim takes: the ready ones, in the plan's order, no more than their budgets can send."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.destinations import Kind, Platform
from bot.domain.plan import Plan
from bot.domain.release import Release, ReleaseState
from bot.service.gates import Tally, holds
from bot.service.limits import RateLimiter
from bot.service.ports import PlatformLink


class ClaimPolicy:
    """Decides, without touching the ledger, what of the due deliveries is ready and which of them to claim."""

    def __init__(
        self,
        *,
        plan: Plan,
        links: Mapping[Platform, PlatformLink],
        limiter: RateLimiter,
        batch: int,
        lease: timedelta,
    ) -> None:
        self._plan = plan
        self._links = links
        self._limiter = limiter
        self._batch = batch
        self._lease = lease

    def prerequisites(self, delivery: Delivery) -> tuple[str, ...]:
        """The groups whose communiqué has to go out before this delivery's (its group's ``after``)."""
        if delivery.purpose is not Purpose.COMMUNIQUE:
            return ()
        group = next((g for g in self._plan.groups if g.id == delivery.group_id), None)
        return group.after if group else ()

    def is_gated(self, delivery: Delivery) -> bool:
        """Whether this delivery waits for an earlier group's receipts too (a table in its group's ``after``)."""
        if delivery.purpose is not Purpose.COMMUNIQUE:
            return False
        group = next((g for g in self._plan.groups if g.id == delivery.group_id), None)
        return bool(group and group.gates)

    def is_ready(
        self,
        delivery: Delivery,
        release: Release | None,
        ledger: list[Delivery],
        tally: Tally | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Whether the release is being sent, the groups it waits for went out (``ledger``: the release's rows),
        and their receipts reached its gates' thresholds (``tally``: the release's counts, read at ``now``)."""
        if release is None or release.state not in (ReleaseState.SENDING, ReleaseState.SENT):
            # A retracted release sends only its retractions (every other pending row was cancelled with it).
            return release is not None and release.state is ReleaseState.RETRACTED and delivery.amends
        for prerequisite in self.prerequisites(delivery):
            theirs = [d for d in ledger if d.group_id == prerequisite and d.purpose is Purpose.COMMUNIQUE]
            if not theirs:
                continue
            settled = all(d.status.settled for d in theirs)
            if not settled or not any(d.status is DeliveryStatus.SENT for d in theirs):
                return False
        gated = self.is_gated(delivery) and release.held_by_receipts(delivery.group_id)  # not sent by hand
        if gated and tally is not None and now is not None:
            return not holds(self._plan.group(delivery.group_id), tally, now)
        return True

    def order(self, ready: list[Delivery]) -> None:
        """Sort ``ready`` in place: communiqués first, then in the plan's send order, channels before people."""
        order = {gid: i for i, gid in enumerate(self._plan.send_order())}
        ready.sort(
            key=lambda d: (d.purpose is not Purpose.COMMUNIQUE, order.get(d.group_id, 99), d.kind is not Kind.CHANNEL)
        )

    def take(self, ready: list[Delivery], room: int) -> list[str]:
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
            platform = delivery.to.platform
            if platform not in totals:
                link = self._links.get(platform)
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
