"""Sending: the send request, the second person's approval, cancelling, retrying, reminding."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.domain.commands import ApproveRelease, CancelRelease, Command, RemindNow, RequestSend, Resend, RetryFailed
from bot.domain.delivery import DeliveryStatus, Purpose
from bot.domain.destinations import Destination
from bot.domain.errors import InvalidState, NotAllowed
from bot.domain.people import display_name
from bot.domain.plan import Plan
from bot.domain.release import Release, ReleaseState
from bot.service.desk.core import DeskCore
from bot.service.ledger import plan_deliveries
from bot.service.ports import Resolution, UnitOfWork
from bot.service.views import Notice, Reply, Tone
from bot.service.walkthrough import blocking_for_send

log = logging.getLogger(__name__)


class Sending(DeskCore):
    """From an approved walkthrough to deliveries in the ledger, and what follows a send."""

    async def _request_send(self, command: RequestSend) -> Reply:
        if command.group_id is not None:
            return await self._send_held(command, command.group_id)
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            if release.state is ReleaseState.AWAITING_APPROVAL:
                text = f"Release {release.version} is already waiting for the final approval."
                return Reply([Notice(text), await self.view(release, ())])
            view = await self.view(release)
            starts = release.request_send(self.plan, command.actor, self._clock.now(), blocking_for_send(view))
            return await self._after_approval(uow, command, release, starts)

    async def _approve_release(self, command: ApproveRelease) -> Reply:
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            if release.state in (ReleaseState.SENDING, ReleaseState.SENT) and release.approved_by == command.actor:
                return Reply([Notice(f"You already approved release {release.version}; it is {release.state.value}.")])
            if release.state is ReleaseState.AWAITING_APPROVAL:
                # The plan or a destination may have changed since the send was asked for.
                blocking = blocking_for_send(await self.view(release))
                if blocking:
                    raise InvalidState("Not ready to send: " + "; ".join(blocking) + ".")
            release.approve_release(self.plan, command.actor, self._clock.now())
            return await self._after_approval(uow, command, release, True)

    async def _send_held(self, command: RequestSend, group_id: str) -> Reply:
        """Send a group an earlier group's receipts hold, now: its gates no longer apply."""
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            released = release.release_held(self.plan, group_id, command.actor, self._clock.now())
            if released:
                await uow.releases.save(release)
                await self._audit(uow, command, f"{group_id} sent by hand, not waiting for its receipt gates")
                await uow.commit()
        if not released:
            return Reply([Notice(f"{group_id} was already released; it goes out as its turn comes.")])
        self._on_sending(release.version)
        text = f"Sending {group_id} now: it no longer waits for the earlier group's acknowledgements."
        return Reply([Notice(text, Tone.SUCCESS)])

    async def _after_approval(self, uow: UnitOfWork, command: Command, release: Release, starts: bool) -> Reply:
        count = 0
        if starts:
            # As resolved just before this command (no platform call in a transaction); the subscribers as they
            # stand now, read in this transaction: who unsubscribed a moment ago is not sent to.
            found = await self._subscribers_for(uow, release.version, release.components)
            resolutions = {**self._resolutions, **found}
            _refuse_while_unresolved(release, self.plan, resolutions)
            deliveries = plan_deliveries(release, self.plan, self.links, resolutions, self._clock.now())
            count = await uow.deliveries.add_new(deliveries)
        await uow.releases.save(release)
        await self._audit(uow, command, f"{count} deliveries planned" if starts else "final approval requested")
        await uow.commit()
        if starts:
            self._on_sending(release.version)
            text = (
                f"Approved by {display_name(release.approved_by or '?')}. Sending {release.version} to {count} targets."
            )
            return Reply([Notice(text, Tone.SUCCESS)])
        names = ", ".join(display_name(p) for p in sorted(self.plan.approvers))
        text = (
            f"Every check passes. A second person must now approve: {names}, type /release approve {release.version}."
        )
        return Reply([Notice(text, Tone.SUCCESS), await self.view(release, ())])

    async def _cancel(self, command: CancelRelease) -> Reply:
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            if release.state is ReleaseState.CANCELLED:
                return Reply([Notice(f"Release {release.version} was already cancelled.")])
            release.cancel(self.plan, command.actor, self._clock.now())
            await uow.releases.save(release)
            await self._audit(uow, command)
            await uow.commit()
        return Reply([Notice(f"Cancelled release {release.version}. Nothing was sent.", Tone.SUCCESS)])

    async def _retry(self, command: RetryFailed) -> Reply:
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            release.resume_sending(self.plan, command.actor)
            failed = [
                d
                for d in await uow.deliveries.for_release(command.version)
                if d.status is DeliveryStatus.FAILED and d.purpose is Purpose.COMMUNIQUE
            ]
            if not failed:
                return Reply([Notice(f"Nothing of release {command.version} has failed; there is nothing to retry.")])
            for delivery in failed:
                await uow.deliveries.update(delivery.reset(self._clock.now()))
            await uow.releases.save(release)
            await self._audit(uow, command, f"{len(failed)} failed deliveries")
            await uow.commit()
        self._on_sending(command.version)
        targets = ", ".join(d.target for d in failed[:5]) + (" …" if len(failed) > 5 else "")
        return Reply([Notice(f"Retrying {len(failed)} failed deliveries: {targets}", Tone.SUCCESS)])

    async def _resend(self, command: Resend) -> Reply:
        """Send again, once, to exactly those never attempted (``missed``), reached but not at their group's level
        (``unread``: the communiqué again, as a reminder they can acknowledge), or whose copy failed (``failed``)."""
        if command.which == "unread":
            return await self._resend_unread(command)
        wanted = DeliveryStatus.UNREACHABLE if command.which == "missed" else DeliveryStatus.FAILED
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            if command.group_id is not None:
                release.communique(command.group_id)  # NotFound for a group the release does not have
            release.resume_sending(self.plan, command.actor)
            # Those the directory still leaves out (a deactivated account, a bot) stay missed: asked again just now.
            still = {t.destination for r in self._resolutions.values() for t, _ in r.excluded}
            again = [
                d
                for d in await uow.deliveries.for_release(command.version)
                if d.status is wanted
                and d.purpose is Purpose.COMMUNIQUE
                and command.group_id in (None, d.group_id)
                and d.target not in still
            ]
            if not again:
                whom = "never attempted" if command.which == "missed" else "failed"
                return Reply([Notice(f"Nobody of release {command.version} was {whom}; nothing to send again.")])
            for delivery in again:
                await uow.deliveries.update(delivery.reset(self._clock.now()))
            await uow.releases.save(release)
            await self._audit(uow, command, f"{len(again)} {command.which} sent again")
            await uow.commit()
        self._on_sending(command.version)
        return Reply([Notice(f"Sending again to {len(again)} {command.which}, once each.", Tone.SUCCESS)])

    async def _resend_unread(self, command: Resend) -> Reply:
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            if command.group_id is not None:
                release.communique(command.group_id)
            release.resume_sending(self.plan, command.actor)  # who may, and only once sending began
        if self._reminders is None:
            raise InvalidState("Reminders are not running in this Herald.")
        count = await self._reminders.remind_now(
            command.version, command.actor, group_id=command.group_id, delivered_only=True
        )
        async with self._uow() as uow:
            await self._audit(uow, command, f"{count} unread sent again")
            await uow.commit()
        if not count:
            return Reply([Notice(f"Everyone release {command.version} reached has met their group's level.")])
        self._on_sending(command.version)
        return Reply([Notice(f"Sending again to {count} unread, once each.", Tone.SUCCESS)])

    async def _remind(self, command: RemindNow) -> Reply:
        if command.actor not in self.plan.announcers and command.actor not in self.plan.approvers:
            raise NotAllowed("Only announcers and approvers can send reminders.")
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            if release.state not in (ReleaseState.SENDING, ReleaseState.SENT):
                raise InvalidState(f"Release {release.version} has not been sent yet; there is nobody to remind.")
        if self._reminders is None:
            raise InvalidState("Reminders are not running in this Herald.")
        count = await self._reminders.remind_now(command.version, command.actor)
        async with self._uow() as uow:
            await self._audit(uow, command, f"{count} reminders")
            await uow.commit()
        if count:
            self._on_sending(command.version)
            return Reply([Notice(f"Sending {count} reminders to those who have not acknowledged.", Tone.SUCCESS)])
        return Reply([Notice("Everyone asked to acknowledge has done so; nobody to remind.")])


def _refuse_while_unresolved(release: Release, plan: Plan, resolutions: Mapping[Destination, Resolution]) -> None:
    """Sending starts only once every destination is known: a lookup that may pass is not a failure to record.

    Raises:
        InvalidState: a destination could not be looked up just now; nothing is sent or recorded.
    """
    pending = [
        resolutions[destination]
        for group in plan.groups
        if group.id in release.communiques
        for destination in group.to
        if destination in resolutions and resolutions[destination].transient
    ]
    if pending:
        where = "; ".join(f"{r.destination}: {r.problem}" for r in pending[:3]) + (" …" if len(pending) > 3 else "")
        raise InvalidState(
            f"Nothing was sent, and this approval was not recorded: Herald could not look up who is in "
            f"{len(pending)} destination(s) just now ({where}). Approve again in a minute."
        )
