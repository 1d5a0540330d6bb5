"""Falling back to another medium: who still waits when a group's ``fallback`` step falls due gets it there.

A step's time is counted from when the group was asked (its first send, or its last
correction). Whoever is still waiting then (``receipts.waiting``: they have not met the
group's receipt level) and has an id on the step's medium in the plan's ``[people]`` table
gets one more copy of the communiqué at that id's DM or mailbox. The copy is addressed to
them by their canonical id, as their other copies are, so they are expected once and one
acknowledgement, through any copy, counts for them; a correction reaches it like any copy.

Its key names the step (``VERSION|GROUP|fallback-N|TARGET``), so a copy is written once, by
whichever replica sweeps first and however often. Nobody gets a copy where the group already
reached them, and a step to a platform Herald is not configured for is skipped (and logged once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from bot.domain.delivery import Delivery, DeliveryStatus, delivery_key
from bot.domain.destinations import Kind, Platform
from bot.domain.fallback import FallbackStep
from bot.domain.people import direct_target
from bot.domain.plan import AckPolicy, Group, Plan
from bot.domain.release import Release
from bot.service.gates import levels
from bot.service.ports import PlatformLink, UnitOfWorkFactory

log = logging.getLogger(__name__)

AskedSince = Callable[[Release, str, datetime], datetime]
"""Since when a group has been asked, given the release, its id and when it went out (``reminders.asked_since``)."""


class Fallbacks:
    """Finds the fallback copies due for a release; the reminders' sweep writes them into the ledger."""

    def __init__(
        self,
        *,
        plan: Plan,
        uow: UnitOfWorkFactory,
        links: Mapping[Platform, PlatformLink],
        asked_since: AskedSince,
    ) -> None:
        self._plan = plan
        self._uow = uow
        self._links = links
        self._asked_since = asked_since  # passed in: reminders.py, which owns it, wires this class
        self._told: set[tuple[str, int]] = set()  # (group, step) whose unconfigured platform was logged

    async def due(self, release: Release, now: datetime) -> list[Delivery]:
        """The copies due now: for each step whose time has come, one to each person still waiting
        who has an id on its medium that the group has not reached yet."""
        groups = [
            g for g in self._plan.groups if g.fallback and g.ack is not AckPolicy.NONE and g.id in release.communiques
        ]
        if not groups:
            return []
        async with self._uow() as uow:
            went_out = await uow.deliveries.went_out(release.version)
            steps = [
                (group, number, step)
                for group in groups
                if group.id in went_out
                for number, step in enumerate(group.fallback, start=1)
                if now >= self._asked_since(release, group.id, went_out[group.id]) + step.after
                and self._configured(group, number, step)
            ]
            if not steps:
                return []
            waiting = await uow.receipts.waiting(release.version, levels(self._plan))
            candidates = [
                (group, number, person, direct)
                for group, number, step in steps
                for person in waiting.get(group.id, ())
                if (direct := self._direct(person, step)) is not None
            ]
            reached = {  # where each group's copies went: nobody is sent a second copy there
                group_id: {d.target for d in await uow.deliveries.copies(release.version, group_id)}
                for group_id in {group.id for group, _, _, _ in candidates}
            }
        planned: list[Delivery] = []
        for group, number, person, direct in candidates:
            if direct[0] not in reached[group.id]:
                reached[group.id].add(direct[0])  # two steps to one medium: the first one's copy is enough
                planned.append(_copy(release, group, f"fallback-{number}", direct, person, now))
        return planned

    def _direct(self, person: str, step: FallbackStep) -> tuple[str, Kind] | None:
        """Where ``person`` (a canonical id) is reached privately on the step's medium (None: they have no id there)."""
        key = self._plan.people.person_of(person)
        found = step.reach(self._plan.people.ids_of(key) if key else (person,))
        return direct_target(found) if found else None

    def _configured(self, group: Group, number: int, step: FallbackStep) -> bool:
        """Whether Herald sends on the step's platform; a step it cannot take is logged, once."""
        if step.platform in self._links:
            return True
        if (group.id, number) not in self._told:
            self._told.add((group.id, number))
            log.warning("%s's fallback step %d is skipped: Herald is not configured for %s", group.id, number, step.to)
        return False


def _copy(release: Release, group: Group, via: str, direct: tuple[str, Kind], person: str, now: datetime) -> Delivery:
    target, kind = direct
    return Delivery(
        key=delivery_key(release.version, group.id, target, via),
        version=release.version,
        group_id=group.id,
        target=target,
        via=via,
        kind=kind,
        audience=(person,),
        status=DeliveryStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
