"""The send loop: works the delivery ledger, never sending a key twice.

Each delivery is claimed (pending → sending) and committed before the platform is
called, and its outcome is committed right after; a second worker, a retried
command or a restart finds it no longer pending and leaves it alone. Groups wait
for the groups named in their ``after`` to settle; channels go before DMs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.domain.delivery import Delivery, DeliveryStatus
from bot.domain.destinations import Kind, Platform
from bot.domain.errors import DeliveryError
from bot.domain.plan import AckPolicy, Plan
from bot.domain.release import Release, ReleaseState
from bot.service.ports import Clock, OutgoingMessage, PlatformLink, UnitOfWorkFactory

log = logging.getLogger(__name__)

_INTERRUPTED = "interrupted while sending; it may or may not have arrived, so it was not sent again"


class Sender:
    """Sends every ready delivery of every release that is being sent."""

    def __init__(
        self, *, plan: Plan, uow: UnitOfWorkFactory, links: Mapping[Platform, PlatformLink], clock: Clock
    ) -> None:
        self._plan = plan
        self._uow = uow
        self._links = links
        self._clock = clock

    async def recover(self) -> int:
        """At start: deliveries left in ``sending`` by a dead process become failed, never resent blindly.

        Returns how many were found.
        """
        async with self._uow() as uow:
            stuck = await uow.deliveries.in_status(DeliveryStatus.SENDING)
            for delivery in stuck:
                await uow.deliveries.update(delivery.failed(_INTERRUPTED, permanent=False, now=self._clock.now()))
            await uow.commit()
        if stuck:
            log.warning("%d deliveries were interrupted mid-send and are marked failed", len(stuck))
        return len(stuck)

    async def run_once(self) -> int:
        """Send what is ready now; return how many deliveries were attempted."""
        async with self._uow() as uow:
            releases = await uow.releases.in_state(ReleaseState.SENDING.value)
        attempted = 0
        for release in releases:
            attempted += await self._send_release(release)
        return attempted

    async def run_until_idle(self) -> int:
        """Keep sending until nothing more is ready (``after`` chains included)."""
        total = 0
        while True:
            attempted = await self.run_once()
            if attempted == 0:
                return total
            total += attempted

    async def _send_release(self, release: Release) -> int:
        async with self._uow() as uow:
            deliveries = await uow.deliveries.for_release(release.version)
        ready = self._ready(deliveries)
        for delivery in ready:
            await self._send_one(release, delivery)
        if not ready:
            await self._complete_if_settled(release.version)
        return len(ready)

    def _ready(self, deliveries: list[Delivery]) -> list[Delivery]:
        """Pending deliveries whose prerequisite groups have gone out.

        A prerequisite has gone out when all its deliveries settled and at least one
        was sent; a group whose prerequisite failed everywhere stays pending, visibly.
        """
        unsettled = {d.group_id for d in deliveries if not d.status.settled}
        went_out = {d.group_id for d in deliveries if d.status is DeliveryStatus.SENT} - unsettled
        planned = {d.group_id for d in deliveries}
        groups = {g.id: g for g in self._plan.groups}

        def waiting(group_id: str) -> bool:
            after = groups[group_id].after if group_id in groups else ()
            return any(a in planned and a not in went_out for a in after)

        ready = [d for d in deliveries if d.status is DeliveryStatus.PENDING and not waiting(d.group_id)]
        order = {gid: i for i, gid in enumerate(self._plan.send_order())}
        return sorted(ready, key=lambda d: (order.get(d.group_id, len(order)), d.kind is not Kind.CHANNEL))

    async def _send_one(self, release: Release, delivery: Delivery) -> None:
        async with self._uow() as uow:
            claimed = await uow.deliveries.claim(delivery.key, self._clock.now())
            await uow.commit()
        if claimed is None:
            return  # another worker has it, or it settled meanwhile
        platform = Platform(claimed.target.split(":", 1)[0])
        link = self._links.get(platform)
        communique = release.communiques.get(claimed.group_id)
        group = next((g for g in self._plan.groups if g.id == claimed.group_id), None)
        try:
            if link is None or communique is None or group is None:
                raise DeliveryError(
                    f"{platform.value} is not configured" if link is None else "the group is no longer in the plan"
                )
            ref = await link.messenger.send(
                OutgoingMessage(
                    delivery_key=claimed.key,
                    version=release.version,
                    product=release.product,
                    group_id=group.id,
                    group_name=group.name,
                    target=claimed.target,
                    kind=claimed.kind,
                    text=communique.text,
                    ack=group.ack if claimed.audience or claimed.kind is Kind.CHANNEL else AckPolicy.NONE,
                )
            )
            outcome = claimed.sent(ref, self._clock.now())
        except DeliveryError as error:
            outcome = claimed.failed(str(error), permanent=error.permanent or link is None, now=self._clock.now())
        except Exception as error:  # an adapter bug must not lose the record
            log.exception("sending %s failed unexpectedly", claimed.key)
            outcome = claimed.failed(
                f"unexpected error: {type(error).__name__}", permanent=False, now=self._clock.now()
            )
        async with self._uow() as uow:
            await uow.deliveries.update(outcome)
            await uow.commit()

    async def _complete_if_settled(self, version: str) -> None:
        async with self._uow() as uow:
            deliveries = await uow.deliveries.for_release(version)
            if all(d.status.settled for d in deliveries):
                release = await uow.releases.get(version)
                if release is not None and release.state is ReleaseState.SENDING:
                    release.complete(self._clock.now())
                    await uow.releases.save(release)
                    await uow.commit()
