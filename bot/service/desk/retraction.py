"""Retraction: a release withdrawn after sending began (a rollback), with the same approval rule as a send.

``/release retract VERSION REASON`` takes effect at once, or (the plan names approvers) once
an approver other than its author gives ``/release approve VERSION``; ``/release cancel
VERSION`` drops it while it waits. Taking effect is one transaction: the release is
retracted, every delivery still pending is cancelled (reminders stop with it), and one
retraction is planned per copy already out, which the engine sends exactly once: the copy
struck through under "Retracted: REASON" where the platform can edit it, a short notice
where it cannot.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.commands import ApproveRelease, CancelRelease, Command, RescheduleRelease, RetractRelease
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose, delivery_key
from bot.domain.release import Release
from bot.service.desk.sending import Sending
from bot.service.ports import UnitOfWork
from bot.service.views import Notice, Reply, Tone

_OUT = (DeliveryStatus.SENT, DeliveryStatus.SENDING)  # copies a retraction must reach (a sending one, once sent)


class Retractions(Sending):
    """Retracting a release, approving or dropping a waiting retraction; the rest of sending is ``Sending``'s."""

    async def _retract(self, command: RetractRelease) -> Reply:
        return await self._withdraw(command, command.reason, None)

    async def _reschedule(self, command: RescheduleRelease) -> Reply:
        """A retraction that says to when the go-live moves."""
        return await self._withdraw(command, command.reason, command.go_live)

    async def _withdraw(self, command: Command, reason: str, go_live: datetime | None) -> Reply:
        """Propose the retraction (``go_live``: the reschedule); in effect at once unless the plan asks an approver."""
        version = str(getattr(command, "version", ""))
        what = "retraction" if go_live is None else f"reschedule to {go_live:%Y-%m-%d %H:%M UTC}"
        async with self._uow() as uow:
            release = await self._release(uow, version)
            now = self._clock.now()
            if release.propose_retraction(self.plan, command.actor, now, reason, go_live=go_live):
                return await self._retracted(uow, command, release, now)
            await uow.releases.save(release)
            await self._audit(uow, command, f"{what} proposed: {reason}")
            await uow.commit()
        text = (
            f"The {what} of {release.version} is proposed ({reason}). Nothing changes until an approver "
            f"other than you approves it: /release approve {release.version}"
        )
        return Reply([Notice(text, Tone.SUCCESS)])

    async def _approve_release_or_retraction(self, command: ApproveRelease) -> Reply:
        """The final approval: of the send, or of a retraction waiting for it."""
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            if release.retraction_waiting:
                now = self._clock.now()
                release.approve_retraction(self.plan, command.actor, now)
                return await self._retracted(uow, command, release, now)
        return await self._approve_release(command)

    async def _cancel_or_withdraw(self, command: CancelRelease) -> Reply:
        """Cancel a release not yet sent; drop the retraction waiting for approval of one being sent."""
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            if release.retraction_waiting and release.withdraw_retraction(self.plan, command.actor):
                await uow.releases.save(release)
                await self._audit(uow, command, "retraction dropped")
                await uow.commit()
                text = f"Dropped the retraction of {release.version}; nothing was withdrawn."
                return Reply([Notice(text, Tone.SUCCESS)])
        return await self._cancel(command)

    async def _retracted(self, uow: UnitOfWork, command: Command, release: Release, now: datetime) -> Reply:
        """Retraction in effect: pending deliveries cancelled, a retraction planned per copy out, in one commit."""
        reason = release.retraction.reason if release.retraction else ""
        stopped = await uow.deliveries.cancel_pending(release.version, f"retracted: {reason}", now)
        copies = [
            copy
            for group_id in release.communiques
            for copy in await uow.deliveries.copies(release.version, group_id)
            if copy.status in _OUT
        ]
        planned = await uow.deliveries.add_new([_retraction(copy, now) for copy in copies])
        await uow.releases.save(release)
        await self._audit(
            uow, command, f"retracted: {reason}; {stopped} pending sends stopped; {planned} copies to withdraw"
        )
        await uow.commit()
        self._on_sending(release.version)
        go_live = release.retraction.go_live if release.retraction else None
        what = (
            f"Retracted {release.version}"
            if go_live is None
            else f"Rescheduled {release.version} to {go_live:%Y-%m-%d %H:%M UTC}"
        )
        text = (
            f"{what}: {reason}. Stopped {stopped} pending messages and reminders; withdrawing "
            f"{planned} copies (struck through where the platform allows, a notice where not)."
        )
        return Reply([Notice(text, Tone.SUCCESS)])


def _retraction(copy: Delivery, now: datetime) -> Delivery:
    """The retraction of one copy: its target, a key of its own; nobody is asked to acknowledge it."""
    return Delivery(
        key=delivery_key(copy.version, copy.group_id, copy.target, "retraction"),
        version=copy.version,
        group_id=copy.group_id,
        target=copy.target,
        via="retraction",
        kind=copy.kind,
        audience=(),
        status=DeliveryStatus.PENDING,
        created_at=now,
        updated_at=now,
        purpose=Purpose.RETRACTION,
        replaces=copy.key,
    )
