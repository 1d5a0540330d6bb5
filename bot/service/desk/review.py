"""The walkthrough's steps: announce, confirm, approve, edit and send back communiqués."""

from __future__ import annotations

import asyncio
import logging

from bot.domain.commands import (
    AnnounceRelease,
    ApproveCommunique,
    ConfirmRelease,
    EditCommunique,
    SendBackCommunique,
    SkipGroup,
)
from bot.domain.errors import NotAllowed
from bot.domain.notes import KeptNotes
from bot.domain.people import display_name
from bot.domain.release import Release, ReleaseState
from bot.service.announce_rules import skipped
from bot.service.desk.core import DeskCore
from bot.service.notes import read_notes
from bot.service.views import Notice, Reply, Tone
from bot.service.walkthrough import render_communiques

log = logging.getLogger(__name__)


class Review(DeskCore):
    """Announcing a release and reviewing its communiqués."""

    async def _announce(self, command: AnnounceRelease) -> Reply:
        notes = await self._notes_of(command)
        async with self._uow() as uow:
            release = await uow.releases.get(command.version)
            if release is not None:
                if command.actor not in self.plan.announcers and command.actor not in self.plan.approvers:
                    raise NotAllowed("You are not an announcer in the plan, so you cannot announce a release.")
                notice = Notice(
                    f"Release {release.version} was already announced by {display_name(release.announced_by)}; "
                    "here is where it stands.",
                )
                missing = [
                    g for g in self.plan.groups if g.id not in release.communiques and g.id not in release.skipped
                ]
                changes = await self._read_again(release, notes) if notes is not None and _unread(release) else []
                if missing and release.state is ReleaseState.VALIDATING:
                    rendered = await asyncio.to_thread(
                        render_communiques, self.plan, release.version, missing, release.notes
                    )
                    release.communiques.update(rendered)
                    changes.append("added " + ", ".join(g.id for g in missing))
                if changes:
                    await uow.releases.save(release)
                    await self._audit(uow, command, "resumed; " + "; ".join(changes))
                    await uow.commit()
                return Reply([notice, await self.view(release)])
            # The plan's rules (announce_for, prereleases) against the releases before this one.
            left_out = skipped(self.plan, command.version, await uow.releases.versions(), command.components)
            heard = [g for g in self.plan.groups if g.id not in left_out]
            release = Release.announce(
                version=command.version,
                plan=self.plan,
                actor=command.actor,
                now=self._clock.now(),
                # off the event loop: a template is bounded (two seconds) but need not hold anyone else up
                communiques=await asyncio.to_thread(render_communiques, self.plan, command.version, heard, notes),
                skipped=left_out,
                components=command.components,
                notes=notes,
            )
            await uow.releases.add(release)
            snapshot = self.plan.snapshot()
            if snapshot is not None:  # the plan as it is now, for the evidence pack to show later
                await uow.releases.keep_plan(release.version, snapshot)
            said = f"; skipped {', '.join(left_out)} by the plan's rules" if left_out else ""
            if notes is not None:
                said += f"; notes: {notes.problem}" if notes.problem else f"; notes from {notes.origin}"
            await self._audit(uow, command, f"{len(release.communiques)} communiqués rendered{said}")
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

    async def _notes_of(self, command: AnnounceRelease) -> KeptNotes | None:
        """The release's notes, read before any transaction opens (a forge may take seconds to answer). None when
        there are none to read, or when the release was announced already: it keeps the notes it was announced with,
        unless they could not be read then (announcing again while validating reads them again).
        """
        wanted = self.plan.notes is not None or command.notes is not None
        if not wanted or command.actor not in self.plan.announcers:  # a refusal follows: nothing to fetch for it
            return None
        async with self._uow() as uow:
            existing = await uow.releases.get(command.version)
            if existing is not None and not _unread(existing):
                return None
            earlier = await uow.releases.versions()
        return await read_notes(self.plan, command.version, earlier=earlier, forges=self._forges, given=command.notes)

    async def _read_again(self, release: Release, notes: KeptNotes) -> list[str]:
        """Keep the notes read again, and render anew each communiqué that failed to render and nobody edited since
        (the ones whose template used the notes); what changed, for the audit log."""
        release.notes = notes
        stale = [
            group
            for group in self.plan.groups
            if (communique := release.communiques.get(group.id)) is not None
            and communique.render_error
            and communique.edited_by is None
        ]
        rendered = await asyncio.to_thread(render_communiques, self.plan, release.version, stale, notes)
        for group_id, fresh in rendered.items():  # the same communiqué (its place in the thread kept), new text
            communique = release.communiques[group_id]
            communique.text, communique.render_error = fresh.text, fresh.render_error
        said = f"notes still unreadable: {notes.problem}" if notes.problem else f"notes read again from {notes.origin}"
        return [said + (f", rendered {', '.join(rendered)} again" if rendered else "")]

    async def _skip(self, command: SkipGroup) -> Reply:
        async with self._uow() as uow:
            release = await self._release(uow, command.version)
            changed = release.skip_group(self.plan, command.group_id, command.actor, command.reason)
            if changed:
                await uow.releases.save(release)
                await self._audit(uow, command, f"{command.group_id}: {command.reason}".rstrip(": "))
                await uow.commit()
        if changed:
            text = f"Skipped {command.group_id}: it gets nothing from {release.product} {release.version}."
        else:
            text = f"{command.group_id} is already skipped for {release.version}."
        return Reply([Notice(text, Tone.SUCCESS if changed else Tone.INFO), await self.view(release)])

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


def _unread(release: Release) -> bool:
    """Whether a release being validated kept notes that could not be read (announcing again reads them again)."""
    return release.state is ReleaseState.VALIDATING and release.notes is not None and release.notes.problem is not None
