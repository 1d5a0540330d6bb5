"""Chasing receipts: reminders until the deadline, then one escalation.

Due times are derived from the ledger: a group's communiqué went out when its first
delivery was sent; its deadline is that plus ``ack_within``; reminder round n falls due
at ``n * remind_every`` before the deadline. A sweep writes each round's reminders and
the escalation as deliveries with deterministic keys, so every one is sent once by the
engine, whichever replica swept first, and a round that fell due while Herald was down
is sent once after it restarts (only the latest round: nobody gets a burst of stale ones).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from bot.domain.delivery import Delivery, DeliveryStatus, Purpose, delivery_key
from bot.domain.destinations import Kind, Platform
from bot.domain.durations import format_duration
from bot.domain.order import OnTimeout
from bot.domain.people import direct_target, display_name
from bot.domain.plan import AckPolicy, Group, Plan, ReceiptLevel
from bot.domain.release import Release, ReleaseState
from bot.service.fallback import Fallbacks
from bot.service.gates import Tally, holds, levels
from bot.service.ports import Clock, PlatformLink, UnitOfWorkFactory


class Reminders:
    """Writes due reminders and escalations into the ledger."""

    def __init__(
        self,
        *,
        plan: Plan,
        uow: UnitOfWorkFactory,
        links: Mapping[Platform, PlatformLink],
        clock: Clock,
        on_new: Callable[[], None] | None = None,
    ) -> None:
        self._plan = plan
        self._uow = uow
        self._links = links
        self._clock = clock
        self._on_new = on_new or (lambda: None)
        self._fallbacks = Fallbacks(plan=plan, uow=uow, links=links, asked_since=asked_since)

    async def sweep(self) -> int:
        """Write every reminder and escalation due now; return how many deliveries were added."""
        now = self._clock.now()
        added = 0
        async with self._uow() as uow:
            releases = await uow.releases.in_state(ReleaseState.SENDING.value)
            releases += await uow.releases.in_state(ReleaseState.SENT.value)
        for release in releases:
            added += await self._sweep_release(release, now)
        if added:
            self._on_new()
        return added

    async def remind_now(
        self, version: str, actor: str, *, group_id: str | None = None, delivered_only: bool = False
    ) -> int:
        """Remind everyone who has not met their group's level, now (a person asked for it); ``group_id``: of that
        group only; ``delivered_only``: only those a copy reached (``/release resend VERSION unread``)."""
        now = self._clock.now()
        async with self._uow() as uow:
            release = await uow.releases.get(version)
            if release is None:
                return 0
            went_out = await uow.deliveries.went_out(version)
            waiting = await uow.receipts.waiting(version, levels(self._plan))
            reached = _reached(await uow.deliveries.for_release(version)) if delivered_only else {}
            planned: list[Delivery] = []
            for group in self._plan.groups:
                if _chased(group) and group.id in went_out and group_id in (None, group.id):
                    people = tuple(
                        p for p in waiting.get(group.id, ()) if not delivered_only or p in reached.get(group.id, ())
                    )
                    round_name = f"{'resend' if delivered_only else 'reminder'}-by-{actor}-{now:%Y%m%dT%H%M%S}"
                    planned += _reminders(release, group, people, round_name, now)
            added = await uow.deliveries.add_new(planned)
            await uow.commit()
        if added:
            self._on_new()
        return added

    async def _sweep_release(self, release: Release, now: datetime) -> int:
        # Counted by the store: a sweep with nothing due reads one row per group, not the ledger.
        async with self._uow() as uow:
            went_out = await uow.deliveries.went_out(release.version)
            chased = [
                (group, asked_since(release, group.id, went_out[group.id]))
                for group in self._plan.groups
                if _chased(group) and group.id in release.communiques and group.id in went_out
            ]
            due = [(g, at) for g, at in chased if now >= at + g.ack_within or now - at >= g.remind_every]
            waiting = await uow.receipts.waiting(release.version, levels(self._plan)) if due else {}
        planned: list[Delivery] = []
        for group, went in due:
            people = tuple(waiting.get(group.id, ()))
            if not people:
                continue
            # A correction asks anew: its rounds and escalation are its own (``r3-``), so they go out too.
            prefix = _revision_prefix(release, group.id)
            if now >= went + group.ack_within:
                planned += await self._escalation(release, group, people, now, f"{prefix}escalation")
                continue
            rounds = int((now - went) / group.remind_every)
            planned += _reminders(release, group, people, f"{prefix}reminder-{rounds}", now)
        if release.state is ReleaseState.SENDING:
            planned += await self._held(release, now)
        planned += await self._fallbacks.due(release, now)  # those still waiting, on their next medium
        if not planned:
            return 0
        async with self._uow() as uow:
            added = await uow.deliveries.add_new(planned)
            await uow.commit()
        return added

    async def _held(self, release: Release, now: datetime) -> list[Delivery]:
        """Escalations of groups still held once a receipt gate's timeout passed (``on_timeout = "escalate"``).

        One per gate, whoever sweeps and however often (its key names the gate); none for a
        group someone already sent by hand.
        """
        gated = [
            group
            for group in self._plan.groups
            if group.id in release.communiques
            and release.held_by_receipts(group.id)
            and any(gate.on_timeout is OnTimeout.ESCALATE and gate.timeout is not None for gate in group.gates)
        ]
        if not gated:
            return []
        async with self._uow() as uow:
            tally = await Tally.read(uow, release.version, self._plan)
        planned: list[Delivery] = []
        for group in gated:
            if group.id in tally.went_out:
                continue
            for hold in holds(group, tally, now):
                if hold.timed_out is None:
                    continue
                body = (
                    f"Escalation: {group.name} is {hold} ({release.product} {release.version}). "
                    f"To send it now anyway: /release send {release.version} {group.id}"
                )
                planned += await self._tell(release, group, body, f"held-by-{hold.group}", now)
        return planned

    async def _escalation(
        self, release: Release, group: Group, waiting: tuple[str, ...], now: datetime, round_name: str
    ) -> list[Delivery]:
        names = ", ".join(self._plan.people.name_of(p) or display_name(p) for p in waiting)
        body = (
            f"Escalation: {len(waiting)} of the {group.name} recipients have not acknowledged "
            f"{release.product} {release.version} within {format_duration(group.ack_within)}: {names}."
        )
        return await self._tell(release, group, body, round_name, now)

    async def _tell(self, release: Release, group: Group, body: str, round_name: str, now: datetime) -> list[Delivery]:
        """One escalation message per target of the group's ``escalate_to``, keyed by ``round_name``."""
        planned: list[Delivery] = []
        for destination in group.escalate_to:
            link = self._links.get(destination.platform)
            targets = [(str(destination), destination.kind)]
            if link is not None:
                resolution = await link.directory.resolve(destination)
                if resolution.targets:
                    targets = [(t.destination, t.kind) for t in resolution.targets]
            for target, kind in targets:
                planned.append(_delivery(release, group, target, kind, (), Purpose.ESCALATION, round_name, body, now))
        return planned


def _reached(deliveries: list[Delivery]) -> dict[str, set[str]]:
    """Per group, the people a communiqué copy was sent to."""
    found: dict[str, set[str]] = {}
    for d in deliveries:
        if d.purpose is Purpose.COMMUNIQUE and d.status is DeliveryStatus.SENT:
            found.setdefault(d.group_id, set()).update(d.audience)
    return found


def _chased(group: Group) -> bool:
    """Whether the group's readers are reminded and escalated: receipts required, and a level a person can meet
    (nobody can make a copy delivered)."""
    return group.ack is AckPolicy.REQUIRED and group.require is not ReceiptLevel.DELIVERED


def asked_since(release: Release, group_id: str, went_out: datetime) -> datetime:
    """Since when the group has been asked to acknowledge its current text: its first send, or its last correction."""
    communique = release.communiques.get(group_id)
    corrected = communique.corrected_at if communique is not None else None
    return max(went_out, corrected) if corrected is not None else went_out


def _revision_prefix(release: Release, group_id: str) -> str:
    """``r3-`` for a group whose text a correction made revision 3; empty for a text never corrected."""
    communique = release.communiques.get(group_id)
    return f"r{communique.revision}-" if communique is not None and communique.corrected_at is not None else ""


def _reminders(
    release: Release, group: Group, waiting: tuple[str, ...], round_name: str, now: datetime
) -> list[Delivery]:
    communique = release.communiques[group.id]
    body = (
        f"Reminder: please acknowledge the {group.name} communiqué for {release.product} {release.version}.\n\n"
        f"{communique.text}"
    )
    planned: list[Delivery] = []
    for person in waiting:
        direct = direct_target(person)
        if direct is None:
            continue
        target, kind = direct
        planned.append(_delivery(release, group, target, kind, (person,), Purpose.REMINDER, round_name, body, now))
    return planned


def _delivery(
    release: Release,
    group: Group,
    target: str,
    kind: Kind,
    audience: tuple[str, ...],
    purpose: Purpose,
    round_name: str,
    body: str,
    now: datetime,
) -> Delivery:
    return Delivery(
        key=delivery_key(release.version, group.id, target, round_name),
        version=release.version,
        group_id=group.id,
        target=target,
        via=round_name,
        kind=kind,
        audience=audience,
        status=DeliveryStatus.PENDING,
        created_at=now,
        updated_at=now,
        purpose=purpose,
        body=body,
    )
