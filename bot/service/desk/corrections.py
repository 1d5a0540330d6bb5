"""Corrections: a communiqué already sent, corrected in every copy once a second look approves the new text.

After sending has begun, editing a communiqué proposes a correction, approving it approves
the correction, and sending it back drops it; before, they are the walkthrough's steps.
An approved correction becomes the communiqué's next revision in one transaction with
what follows from it: the replaced text is kept, the group's receipts are kept but no
longer counted (the group is asked to acknowledge anew, and reminders start over), and
one correction delivery is planned per copy, which the engine sends exactly once.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.commands import ApproveCommunique, CorrectCommunique, EditCommunique, SendBackCommunique
from bot.domain.communique import Communique, EarlierText
from bot.domain.delivery import Delivery, DeliveryStatus, Purpose, delivery_key
from bot.domain.destinations import Kind, Platform
from bot.domain.errors import InvalidState
from bot.domain.people import display_name
from bot.domain.release import Release
from bot.service.desk.review import Review
from bot.service.views import Notice, Reply, Tone
from bot.service.walkthrough import content_checks


class Corrections(Review):
    """The walkthrough's edit, approve and send-back, which become corrections once sending has begun."""

    async def _revise(self, command: EditCommunique) -> Reply:
        """Edit a communiqué; after sending began, propose its correction."""
        if await self._sending_began(command.version):
            return await self._correct(
                CorrectCommunique(
                    actor=command.actor, version=command.version, group_id=command.group_id, text=command.text
                )
            )
        return await self._edit(command)

    async def _approve_or_correct(self, command: ApproveCommunique) -> Reply:
        """Approve a communiqué; after sending began, approve its waiting correction."""
        if command.group_id != "*" and await self._sending_began(command.version):
            return await self._approve_correction(command)
        return await self._approve_communique(command)

    async def _send_back_or_withdraw(self, command: SendBackCommunique) -> Reply:
        """Send a communiqué back; after sending began, drop its waiting correction."""
        if not await self._sending_began(command.version):
            return await self._send_back(command)
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            if not release.withdraw_correction(self.plan, command.group_id, command.actor):
                raise InvalidState(f"No correction of the {command.group_id} communiqué is waiting; nothing to drop.")
            await uow.releases.save(release)
            await self._audit(uow, command, f"{command.group_id}: correction dropped. {command.reason}".strip())
            await uow.commit()
        text = f"Dropped the correction of {command.group_id}; every copy keeps the text it has."
        return Reply([Notice(text), await self.view(release, (command.group_id,))])

    async def _correct(self, command: CorrectCommunique) -> Reply:
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            release.propose_correction(self.plan, command.group_id, command.text, command.actor, self._clock.now())
            await uow.releases.save(release)
            blocking = self._correction_blocking(release, command.group_id)
            await self._audit(uow, command, f"{command.group_id}: correction proposed")
            await uow.commit()
        who = "someone else" if self.plan.four_eyes else "an announcer or approver"
        verdict = (
            f"its checks pass; {who} approves it with /release approve {command.version} {command.group_id}"
            if not blocking
            else "its checks fail: " + "; ".join(blocking)
        )
        tone = Tone.ERROR if blocking else Tone.SUCCESS
        return Reply(
            [
                Notice(f"Correction of {command.group_id} proposed: {verdict}.", tone),
                await self.view(release, (command.group_id,)),
            ]
        )

    async def _approve_correction(self, command: ApproveCommunique) -> Reply:
        now = self._clock.now()
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            communique = release.communique(command.group_id)
            replaced = EarlierText(
                group_id=command.group_id, revision=communique.revision, text=communique.text, replaced_at=now
            )
            blocking = self._correction_blocking(release, command.group_id)
            corrected_by = communique.correction.by if communique.correction else "?"
            revision = release.approve_correction(self.plan, command.group_id, command.actor, now, blocking)
            await uow.releases.keep_earlier(release.version, replaced)
            kept = await uow.receipts.supersede(release.version, command.group_id, replaced.revision)
            copies = await uow.deliveries.copies(release.version, command.group_id)
            planned = await uow.deliveries.add_new([_correction(copy, revision, now) for copy in copies])
            if self.plan.group(command.group_id).notify_corrections:
                notice = _notice(release, self.plan.group(command.group_id).name, revision)
                await uow.deliveries.add_new(
                    [_notice_of(copy, revision, notice, now) for copy in copies if _chat(copy)]
                )
            await uow.releases.save(release)
            await self._audit(
                uow,
                command,
                f"{command.group_id} revision {revision}: correction by {display_name(corrected_by)} approved; "
                f"{planned} copies to correct; {kept} acknowledgements of revision {replaced.revision} kept, "
                "the group is asked anew",
            )
            await uow.commit()
        self._on_sending(release.version)
        text = (
            f"Correction of {command.group_id} approved (revision {revision}): correcting {planned} copies "
            f"(edited in place where the platform allows, a follow-up where not); the group is asked to acknowledge "
            "the corrected text."
        )
        return Reply([Notice(text, Tone.SUCCESS), await self.view(release, (command.group_id,))])

    def _correction_blocking(self, release: Release, group_id: str) -> list[str]:
        """The failing blocking checks of the correction waiting for ``group_id``."""
        communique = release.communique(group_id)
        if communique.correction is None:
            return []
        proposed = Communique(group_id=group_id, text=communique.correction.text)
        group = self.plan.group(group_id)
        return [c.message for c in content_checks(release, group, proposed, self.plan) if c.blocks]

    async def _sending_began(self, version: str) -> bool:
        async with self._uow() as uow:
            release = await uow.releases.get(version)
        return release is not None and release.sending_began


def _correction(copy: Delivery, revision: int, now: datetime) -> Delivery:
    """The correction of one copy to ``revision``: the same target and readers, a key of its own."""
    return _about(copy, f"correction-{revision}", Purpose.CORRECTION, now, replaces=copy.key)


def _about(
    copy: Delivery,
    round_name: str,
    purpose: Purpose,
    now: datetime,
    *,
    replaces: str | None = None,
    body: str | None = None,
) -> Delivery:
    """A delivery about ``copy``: its target and readers, a key of its own for ``round_name``."""
    return Delivery(
        key=delivery_key(copy.version, copy.group_id, copy.target, round_name),
        version=copy.version,
        group_id=copy.group_id,
        target=copy.target,
        via=round_name,
        kind=copy.kind,
        audience=copy.audience,
        status=DeliveryStatus.PENDING,
        created_at=now,
        updated_at=now,
        purpose=purpose,
        replaces=replaces,
        body=body,
    )


def _chat(copy: Delivery) -> bool:
    """Whether ``copy`` is a chat message, which a correction edits in place (a notice then says so)."""
    return copy.kind in (Kind.CHANNEL, Kind.DM) and copy.to.platform in (
        Platform.SLACK,
        Platform.DISCORD,
        Platform.SHELL,
    )


def _notice(release: Release, group_name: str, revision: int) -> str:
    return (
        f"Correction: the {group_name} message about {release.product} {release.version} has been corrected "
        f"(revision {revision}). Please read it again."
    )


def _notice_of(copy: Delivery, revision: int, body: str, now: datetime) -> Delivery:
    """A short notice under a chat copy that a correction edited (``corrections = { notify = true }``)."""
    return _about(copy, f"correction-{revision}-notice", Purpose.NOTICE, now, body=body)
