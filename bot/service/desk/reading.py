"""What the desk shows and records without changing a release: status, the thread, receipts, ack links."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace

from bot.domain.audit import AuditEntry, ChainReport, chain_report
from bot.domain.commands import USAGE, Acknowledge, ShowHelp, ShowStatus
from bot.domain.delivery import Delivery, Purpose
from bot.domain.errors import AuditChainBroken, NotAllowed, NotFound
from bot.domain.people import display_name
from bot.domain.plan import AckPolicy
from bot.domain.release import Release
from bot.service.desk.core import RETRIES_ON_CONFLICT, DeskCore
from bot.service.evidence import EvidencePack, evidence_pack
from bot.service.messages import outgoing, tally_text
from bot.service.ports import ConcurrentUpdate, OutgoingMessage
from bot.service.receipts import Verdict
from bot.service.views import AckLinkView, HelpView, Notice, ReleaseView, Reply, Tone

log = logging.getLogger(__name__)


class Reading(DeskCore):
    """Status, the walkthrough as it stands, where it is shown, delivered copies, receipts."""

    async def _status(self, command: ShowStatus) -> Reply:
        if self.plan.may_see_names(command.actor):
            return Reply([await self.status(command.version)])
        note = Notice("Who has and has not acknowledged is shown to the plan's announcers, approvers and viewers.")
        return Reply([await self.status(command.version, names=False), note])

    async def walkthrough(self, version: str) -> tuple[Release, ReleaseView] | None:
        """The release and its walkthrough as they stand, for a front end to redraw."""
        async with self._uow() as uow:
            release = await uow.releases.get(version)
        if release is None:
            return None
        return release, await self.view(release)

    async def place_thread(self, version: str, thread: str, messages: Mapping[str, str]) -> None:
        """Remember where a front end shows the walkthrough: its parent message and each communiqué's."""
        for _ in range(RETRIES_ON_CONFLICT):
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

    async def delivered_copy(self, message_ref: str) -> tuple[OutgoingMessage, str] | None:
        """A delivered message as it should look now: what it carries (shown as corrected once a correction was
        approved), and its own count (``2 of 5 acknowledged``). One read of the release for both."""
        delivery = await self._receipts.delivery(message_ref)
        if delivery is None:
            return None
        async with self._uow() as uow:
            release = await uow.releases.get(delivery.version)
            acknowledged = await uow.receipts.count_for(delivery.version, delivery.group_id, delivery.key)
        communique = release.communiques.get(delivery.group_id) if release else None
        message = outgoing(self.plan, delivery, delivery.body or (communique.text if communique else ""))
        if message is None:
            return None
        if not delivery.body and communique is not None and communique.corrected_at is not None:
            message = replace(message, correction=communique.revision)
        return message, tally_text(acknowledged, len(delivery.audience))

    async def audit_log(self, version: str) -> list[AuditEntry]:
        """Every recorded step and refusal about a release, oldest first."""
        async with self._uow() as uow:
            return await uow.audit.for_release(version)

    async def audit_chain(self, version: str) -> ChainReport:
        """Verify a release's audit log as a hash chain: its length, its head, and the first broken link if any."""
        return chain_report(await self.audit_log(version))

    async def audit_head(self, version: str) -> str:
        """The hash of a release's last audit entry (empty when nothing is recorded), for an evidence pack to keep.

        Raises:
            AuditChainBroken: when the chain does not verify, so a broken one is never vouched for.
        """
        report = await self.audit_chain(version)
        if report.broken is not None:
            raise AuditChainBroken(version, report)
        return report.head

    async def evidence(self, version: str) -> EvidencePack:
        """The evidence pack of a release, people named (for operators and auditors, not for a chat).

        Raises:
            NotFound: the release was never announced.
        """
        async with self._uow() as uow:
            return await evidence_pack(uow, self.plan, version, now=self._clock.now())

    async def _help(self, command: ShowHelp) -> Reply:
        return Reply([HelpView(tuple(f"/release {line}" for line in USAGE.values()))])

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
        if done.verdict is Verdict.SUPERSEDED:
            return Reply(
                [
                    Notice(
                        f"Thanks, {display_name(command.actor)}: noted for revision {delivery.revision} of this "
                        "communiqué, which a correction has since replaced. Please read the correction Herald sent "
                        "you and acknowledge it there.",
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
            replaced_by=_replaced_by(delivery, release),
        )


def _replaced_by(delivery: Delivery, release: Release) -> int | None:
    """The communiqué's revision now, when the mail ``delivery`` carries an earlier one (None: it is current)."""
    communique = release.communiques.get(delivery.group_id)
    if communique is None or delivery.revision is None or delivery.revision >= communique.revision:
        return None
    return communique.revision
