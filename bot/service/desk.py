"""The release desk: every command a person can give, handled the same way on every platform.

Each handler runs in one unit of work. A refused step ends in one sentence for the
person and an audit entry; nothing already recorded changes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bot.domain.audit import AuditEntry, Outcome
from bot.domain.commands import (
    USAGE,
    Acknowledge,
    AnnounceRelease,
    ApproveCommunique,
    ApproveRelease,
    CancelRelease,
    Command,
    ConfirmRelease,
    EditCommunique,
    RemindNow,
    RequestSend,
    RetryFailed,
    SendBackCommunique,
    ShowHelp,
    ShowStatus,
)
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose
from bot.domain.destinations import Destination, Platform
from bot.domain.errors import HeraldError, InvalidState, NotAllowed, NotFound
from bot.domain.people import display_name
from bot.domain.plan import AckPolicy, Plan
from bot.domain.release import Release, ReleaseState
from bot.service.ledger import plan_deliveries
from bot.service.messages import outgoing, tally_text
from bot.service.ports import (
    Clock,
    ConcurrentUpdate,
    OutgoingMessage,
    PlatformLink,
    Resolution,
    UnitOfWork,
    UnitOfWorkFactory,
)
from bot.service.receipts import ReceiptBook, Verdict
from bot.service.reminders import Reminders
from bot.service.status import count_status
from bot.service.views import AckLinkView, HelpView, Notice, ReleaseView, Reply, StatusView, Tone
from bot.service.walkthrough import blocking_for_send, build_view, render_communiques

log = logging.getLogger(__name__)

_RETRIES_ON_CONFLICT = 3
_LOOKUPS_AT_ONCE = 8  # destinations resolved at the same time (each platform still paces its calls)
_TROUBLE = (
    "Herald could not finish that because of a problem on its side (is its database reachable?). "
    "Nothing was changed; please try again in a moment."
)


@dataclass(frozen=True, slots=True)
class _Audit:
    action: str
    version: str | None
    detail: str = ""


class ReleaseDesk:
    """Handles commands; the only way people change a release."""

    def __init__(
        self,
        *,
        plan: Plan,
        uow: UnitOfWorkFactory,
        links: Mapping[Platform, PlatformLink],
        clock: Clock,
        on_sending: Callable[[str], None] | None = None,
        reminders: Reminders | None = None,
    ) -> None:
        self.plan = plan
        self._uow = uow
        self.links = links
        self._clock = clock
        self._on_sending = on_sending or (lambda _version: None)
        self._reminders = reminders
        self._resolutions: dict[Destination, Resolution] = {}
        self._resolving = asyncio.Lock()
        self._receipts = ReceiptBook(plan=plan, uow=uow, clock=clock)
        self._handlers: dict[type[Command], Callable[[Any], Awaitable[Reply]]] = {
            AnnounceRelease: self._announce,
            ConfirmRelease: self._confirm,
            ApproveCommunique: self._approve_communique,
            EditCommunique: self._edit,
            SendBackCommunique: self._send_back,
            RequestSend: self._request_send,
            ApproveRelease: self._approve_release,
            CancelRelease: self._cancel,
            ShowStatus: self._status,
            RetryFailed: self._retry,
            RemindNow: self._remind,
            ShowHelp: self._help,
            Acknowledge: self._acknowledge,
        }

    async def handle(self, command: Command) -> Reply:
        """Carry out one command and say what happened."""
        handler = self._handlers[type(command)]
        walkthrough = not isinstance(command, (Acknowledge, ShowStatus, ShowHelp))
        for attempt in range(_RETRIES_ON_CONFLICT):
            try:
                if walkthrough:
                    # Resolve destinations (platform calls, rate limited) before any transaction
                    # opens, so no database connection is held waiting on a platform's budget.
                    await self.resolutions()
                return await handler(command)
            except ConcurrentUpdate:
                # Someone changed the release between our read and write (a double
                # click, two people at once): read again and re-decide.
                log.info("concurrent update on %s, retrying (%d)", type(command).__name__, attempt + 1)
            except HeraldError as error:
                await self._record_refusal(command, error)
                return Reply([Notice(str(error), Tone.ERROR)])
            except Exception:  # the database went away, a bug: a sentence for the person, details in the log
                if isinstance(command, Acknowledge) and attempt + 1 < _RETRIES_ON_CONFLICT:
                    # A receipt is idempotent and the platform has been told it arrived: try again.
                    log.warning("recording a receipt failed; retrying", exc_info=True)
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                log.exception("%s failed", type(command).__name__)
                return Reply([Notice(_TROUBLE, Tone.ERROR)])
        return Reply([Notice("Someone else changed this release at the same moment; please try again.", Tone.ERROR)])

    # -- helpers ---------------------------------------------------------------------

    async def _record_refusal(self, command: Command, error: HeraldError, version: str | None = None) -> None:
        version = version or getattr(command, "version", None)
        async with self._uow() as uow:
            await uow.audit.append(
                AuditEntry(
                    at=self._clock.now(),
                    actor=command.actor,
                    action=_action_name(command),
                    version=version,
                    outcome=Outcome.REFUSED,
                    detail=str(error),
                )
            )
            await uow.commit()

    async def _audit(self, uow: UnitOfWork, command: Command, detail: str = "", version: str | None = None) -> None:
        await uow.audit.append(
            AuditEntry(
                at=self._clock.now(),
                actor=command.actor,
                action=_action_name(command),
                version=version or getattr(command, "version", None),
                outcome=Outcome.DONE,
                detail=detail,
            )
        )

    async def _release(self, uow: UnitOfWork, version: str) -> Release:
        release = await uow.releases.get(version)
        if release is None:
            raise NotFound(f"Release {version} has not been announced. Start with /release announce {version}.")
        return release

    async def resolutions(self, refresh: bool = False) -> dict[Destination, Resolution]:
        """Every plan destination resolved through its platform's directory (cached; one resolver at a time).

        Destinations are looked up several at once: each platform's budgets pace the calls,
        so lookups of different methods (a channel's members, a user group) overlap.
        """
        async with self._resolving:
            if refresh:
                self._resolutions.clear()
            wanted = {
                destination: link
                for group in self.plan.groups
                for destination in group.to
                if (link := self.links.get(destination.platform)) is not None
                # what may have passed is asked again
                and (destination not in self._resolutions or self._resolutions[destination].transient)
            }
            lookups = asyncio.Semaphore(_LOOKUPS_AT_ONCE)

            async def resolve(destination: Destination, link: PlatformLink) -> None:
                async with lookups:
                    self._resolutions[destination] = await link.directory.resolve(destination)

            await asyncio.gather(*(resolve(destination, link) for destination, link in wanted.items()))
        return self._resolutions

    async def view(self, release: Release, focus: tuple[str, ...] | None = None) -> ReleaseView:
        """The walkthrough as it stands; ``focus`` names the groups a command changed."""
        view = build_view(release, self.plan, self.links, await self.resolutions())
        return replace(view, focus=focus)

    # -- the walkthrough -------------------------------------------------------------

    async def _announce(self, command: AnnounceRelease) -> Reply:
        async with self._uow() as uow:
            release = await uow.releases.get(command.version)
            if release is not None:
                if command.actor not in self.plan.announcers and command.actor not in self.plan.approvers:
                    raise NotAllowed("You are not an announcer in the plan, so you cannot announce a release.")
                notice = Notice(
                    f"Release {release.version} was already announced by {display_name(release.announced_by)}; "
                    "here is where it stands.",
                )
                missing = [g for g in self.plan.groups if g.id not in release.communiques]
                if missing and release.state is ReleaseState.VALIDATING:
                    rendered = await asyncio.to_thread(render_communiques, self.plan, release.version, missing)
                    release.communiques.update(rendered)
                    await uow.releases.save(release)
                    await self._audit(uow, command, "resumed; added " + ", ".join(g.id for g in missing))
                    await uow.commit()
                return Reply([notice, await self.view(release)])
            release = Release.announce(
                version=command.version,
                plan=self.plan,
                actor=command.actor,
                now=self._clock.now(),
                # off the event loop: a template is bounded (two seconds) but need not hold anyone else up
                communiques=await asyncio.to_thread(render_communiques, self.plan, command.version),
            )
            await uow.releases.add(release)
            await self._audit(uow, command, f"{len(release.communiques)} communiqués rendered")
            await uow.commit()
        view = await self.view(release)
        return Reply(
            [
                Notice(
                    f"Announcing {release.product} {release.version}: {len(view.communiques)} communiqués to validate.",
                    Tone.SUCCESS,
                ),
                view,
            ]
        )

    async def _confirm(self, command: ConfirmRelease) -> Reply:
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            changed = release.confirm_success(self.plan, command.actor, self._clock.now())
            if changed:
                await uow.releases.save(release)
                await self._audit(uow, command, "declared a success and available")
                await uow.commit()
        text = (
            f"Recorded: {display_name(command.actor)} confirmed {release.product} {release.version} is live."
            if changed
            else f"Already confirmed by {display_name(release.confirmed_by or '?')}."
        )
        return Reply([Notice(text, Tone.SUCCESS if changed else Tone.INFO), await self.view(release, ())])

    async def _approve_communique(self, command: ApproveCommunique) -> Reply:
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            view = await self.view(release)
            targets = [c for c in view.communiques if command.group_id in ("*", c.group_id)]
            if command.group_id != "*":
                release.communique(command.group_id)  # NotFound for an unknown group
            approved: list[str] = []
            skipped: list[str] = []
            for communique in targets:
                if command.group_id == "*" and communique.blocking:
                    skipped.append(communique.group_id)
                    continue
                if release.approve_communique(
                    self.plan, communique.group_id, command.actor, self._clock.now(), communique.blocking
                ):
                    approved.append(communique.group_id)
            if approved:
                await uow.releases.save(release)
                await self._audit(uow, command, "approved " + ", ".join(approved))
                await uow.commit()
        if approved:
            text = f"Approved: {', '.join(approved)}."
        elif command.group_id == "*" and not skipped:
            text = "Every communiqué was already approved."
        elif not skipped:
            text = f"The {command.group_id} communiqué was already approved."
        else:
            text = "Nothing approved."
        if skipped:
            text += f" Not approved, checks failing: {', '.join(skipped)}."
        tone = Tone.SUCCESS if approved else Tone.INFO
        return Reply([Notice(text, tone), await self.view(release, tuple(approved))])

    async def _edit(self, command: EditCommunique) -> Reply:
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            release.edit_communique(self.plan, command.group_id, command.text, command.actor, self._clock.now())
            await uow.releases.save(release)
            revision = release.communique(command.group_id).revision
            await self._audit(uow, command, f"{command.group_id} revision {revision}")
            await uow.commit()
        view = await self.view(release)
        edited = next(c for c in view.communiques if c.group_id == command.group_id)
        verdict = "its checks pass; approve it when it reads right" if not edited.blocking else "its checks still fail"
        return Reply([Notice(f"Edited the {command.group_id} communiqué (revision {revision}): {verdict}."), edited])

    async def _send_back(self, command: SendBackCommunique) -> Reply:
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            release.send_back(self.plan, command.group_id, command.actor, self._clock.now(), command.reason)
            await uow.releases.save(release)
            await self._audit(uow, command, f"{command.group_id}: {command.reason}".rstrip(": "))
            await uow.commit()
        text = f"Sent the {command.group_id} communiqué back for rework; edit it, then approve it again."
        return Reply([Notice(text), await self.view(release, (command.group_id,))])

    async def _request_send(self, command: RequestSend) -> Reply:
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

    async def _after_approval(self, uow: UnitOfWork, command: Command, release: Release, starts: bool) -> Reply:
        count = 0
        if starts:
            resolutions = self._resolutions  # as resolved just before this command: no platform call in a transaction
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

    async def _status(self, command: ShowStatus) -> Reply:
        if self.plan.may_see_names(command.actor):
            return Reply([await self.status(command.version)])
        note = Notice("Who has and has not acknowledged is shown to the plan's announcers, approvers and viewers.")
        return Reply([await self.status(command.version, names=False), note])

    async def status(self, version: str, *, names: bool = True) -> StatusView:
        """The status report of a release; ``names=False`` leaves out who has not acknowledged (counts only)."""
        async with self._uow() as uow:
            release = await self._release(uow, version)
            return await count_status(uow, self.plan, release, names=names)

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

    async def walkthrough(self, version: str) -> tuple[Release, ReleaseView] | None:
        """The release and its walkthrough as they stand, for a front end to redraw."""
        async with self._uow() as uow:
            release = await uow.releases.get(version)
        if release is None:
            return None
        return release, await self.view(release)

    async def place_thread(self, version: str, thread: str, messages: Mapping[str, str]) -> None:
        """Remember where a front end shows the walkthrough: its parent message and each communiqué's."""
        for _ in range(_RETRIES_ON_CONFLICT):
            async with self._uow() as uow:
                release = await self._release(uow, version)
                release.thread = thread
                for group_id, ref in messages.items():
                    if group_id in release.communiques:
                        release.communiques[group_id].message_ref = ref
                try:
                    await uow.releases.save(release)
                    await uow.commit()
                    return
                except ConcurrentUpdate:
                    continue

    async def tally(self, message_ref: str) -> tuple[Delivery, str, int, int] | None:
        """For one delivered message: the delivery, the text it carries, and its own acknowledged/expected."""
        delivery = await self._receipts.delivery(message_ref)
        if delivery is None:
            return None
        async with self._uow() as uow:
            release = await uow.releases.get(delivery.version)
            acknowledged = await uow.receipts.count_for(delivery.version, delivery.group_id, delivery.key)
        communique = release.communiques.get(delivery.group_id) if release else None
        text = delivery.body or (communique.text if communique else "")
        return delivery, text, acknowledged, len(delivery.audience)

    async def delivered_copy(self, message_ref: str) -> tuple[OutgoingMessage, str] | None:
        """A delivered message as it should look now: what it carries, and its own count (``2 of 5 acknowledged``)."""
        found = await self.tally(message_ref)
        if found is None:
            return None
        delivery, text, acknowledged, expected = found
        message = outgoing(self.plan, delivery, text)
        return None if message is None else (message, tally_text(acknowledged, expected))

    async def audit_log(self, version: str) -> list[AuditEntry]:
        """Every recorded step and refusal about a release, oldest first."""
        async with self._uow() as uow:
            return await uow.audit.for_release(version)

    async def _help(self, command: ShowHelp) -> Reply:
        return Reply([HelpView(tuple(f"/release {line}" for line in USAGE.values()))])

    # -- receipts --------------------------------------------------------------------

    async def _acknowledge(self, command: Acknowledge) -> Reply:
        # Recorded with the others arriving at the same moment, in one transaction.
        done = await self._receipts.acknowledge(command)
        delivery = done.delivery
        if done.verdict is Verdict.UNKNOWN or delivery is None:
            raise NotFound("That message is not a communiqué Herald sent, so there is nothing to acknowledge.")
        if done.verdict is Verdict.NOT_ASKED:
            return Reply([Notice("No acknowledgement is asked for that message.")])
        if done.verdict is Verdict.NOT_ADDRESSED:
            refusal = NotAllowed("That message was not addressed to you, so your acknowledgement is not counted.")
            await self._record_refusal(command, refusal, delivery.version)
            return Reply([Notice(str(refusal), Tone.ERROR)])
        if done.verdict is Verdict.OUTSIDE:
            return Reply(
                [
                    Notice(
                        f"Thanks, {display_name(command.actor)}: noted. This communiqué was not meant for you "
                        "(you were not in the channel's audience when it was sent), so it is not counted.",
                    )
                ],
                delivery,
                recorded=False,
            )
        added = done.verdict is Verdict.RECORDED
        if not command.with_tally:  # the hot path (reactions pouring in): no per-receipt count
            text = "acknowledgement recorded" if added else "acknowledgement already recorded"
            notice = Notice(f"Thanks, {display_name(command.actor)}: {text}.", Tone.SUCCESS)
            return Reply([notice], delivery, recorded=added)
        status = await self.status(delivery.version, names=False)
        counts = next((g for g in status.groups if g.id == delivery.group_id), None)
        tally = f"{counts.name}: {counts.acknowledged} of {counts.expected} acknowledged" if counts else "counted"
        if added:
            return Reply(
                [Notice(f"Thanks, {display_name(command.actor)}: acknowledgement recorded ({tally}).", Tone.SUCCESS)],
                recorded=True,
            )
        return Reply([Notice(f"Your acknowledgement was already recorded ({tally}).")], recorded=False)

    async def ack_link(self, message_ref: str) -> AckLinkView:
        """Where a personal acknowledgement link stands. Reads only: opening a link records nothing.

        The link names its mail (``message_ref``); it acknowledges as the mail's one
        recipient, until the group's ``ack_link_valid_for`` has passed since the mail went.
        The deadline is the group's: when its communiqué first went out, plus ``ack_within``
        (the one reminders and escalation count to). A
        link used after it still counts, as a late click on a chat button does; the page
        says it is late. A few point reads, whatever the size of the release: scanners
        open every link they see.
        """
        async with self._uow() as uow:
            delivery = await uow.deliveries.by_message_ref(message_ref)
            if delivery is None:  # signed by Herald, so sent: its record is on its way, or the send failed
                return AckLinkView(found=True, recorded=False)
            if len(delivery.audience) != 1:
                return AckLinkView(found=False)
            person = delivery.audience[0]
            release = await uow.releases.get(delivery.version)
            went_out = (await uow.deliveries.went_out(delivery.version)).get(delivery.group_id)
            receipt = await uow.receipts.get(delivery.version, delivery.group_id, person)
        group = next((g for g in self.plan.groups if g.id == delivery.group_id), None)
        if release is None or group is None:
            return AckLinkView(found=False)
        deadline = went_out + group.ack_within if went_out is not None else None
        return AckLinkView(
            found=True,
            delivery_key=delivery.key,
            person=person,
            expired=self._clock.now() > (delivery.sent_at or delivery.created_at) + group.ack_link_valid_for,
            product=release.product,
            version=release.version,
            group_name=group.name,
            deadline=deadline,
            past_deadline=deadline is not None and self._clock.now() >= deadline,
            acknowledged=receipt is not None,
            asked=group.ack is not AckPolicy.NONE and delivery.purpose is not Purpose.ESCALATION,
        )


def _action_name(command: Command) -> str:
    name = type(command).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


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
