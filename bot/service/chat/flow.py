"""The walkthrough in chat, once for every platform: what a command or a press does, and what is redrawn.

A platform's front door only translates: a slash command, a button press, a submitted
modal or a reaction becomes a call here, and the ``Outcome`` goes back as the platform
answers privately (Slack's ephemeral message, Discord's interaction answer, the shell's
printout). What is posted where, which messages are redrawn after what, and what a
person is told is decided here, so Slack, Discord and the shell cannot drift apart. The
platform's messages themselves are drawn by its ``Surface``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import replace

from bot.domain.commands import (
    Acknowledge,
    AnnounceRelease,
    ApproveCommunique,
    ApproveRelease,
    Command,
    RequestSend,
    SkipGroup,
    Unsubscribe,
    parse_release_command,
)
from bot.domain.destinations import Kind
from bot.domain.errors import CommandError, HeraldError, PermanentDeliveryError, RateLimited
from bot.domain.receipt import ReceiptSource
from bot.service.actions import COMMUNIQUE_ACTS, Act, command_for, missing_answer
from bot.service.chat.background import Background
from bot.service.chat.redraws import Redraws
from bot.service.chat.surface import Outcome, Surface
from bot.service.desk import ReleaseDesk
from bot.service.views import Notice, Reply, Tone

log = logging.getLogger(__name__)

REDRAW_EVERY = 5.0  # seconds: at most one edit of a release's messages in that time (platforms allow a few a minute)


def refused(text: str) -> Reply:
    """A reply that says no, in one sentence."""
    return Reply([Notice(text, Tone.ERROR)])


class ChatFlow:
    """The walkthrough, the live counts and the receipts, on one chat platform's ``Surface``.

    ``surface`` None: a platform without threads (the shell), which shows each reply as it comes.
    """

    def __init__(self, desk: ReleaseDesk, surface: Surface | None, *, redraw_every: float = REDRAW_EVERY) -> None:
        self.desk = desk
        self.surface = surface
        self.work = Background()  # what the front door hands off after answering the platform
        self._redraws = Redraws(self._redraw, redraw_every)

    # -- commands and presses --------------------------------------------------------

    async def command(self, actor: str, text: str, channel: str | None = None, *, notes: str | None = None) -> Outcome:
        """A typed ``/release`` command; ``announce`` posts the walkthrough in ``channel`` (with ``notes``, the
        release's notes a pipeline handed over)."""
        try:
            parsed = parse_release_command(text, actor)
        except CommandError as error:
            return self._outcome(refused(str(error)))
        if notes is not None and isinstance(parsed, AnnounceRelease):
            parsed = replace(parsed, notes=notes)
        if isinstance(parsed, SkipGroup) and self.surface is not None:
            return await self._skip(parsed, self.surface)
        reply = await self.desk.handle(parsed)
        if not reply.failed and isinstance(parsed, AnnounceRelease) and channel and self.surface is not None:
            return await self._show_thread(parsed.version, channel, reply, self.surface)
        if not reply.failed and (version := getattr(parsed, "version", None)):
            group_id = getattr(parsed, "group_id", None)
            self.progress(version, (group_id,) if group_id and group_id != "*" else self._changed_by(parsed))
        return self._outcome(reply)

    async def press(self, actor: str, act: Act, version: str, group_id: str | None = None, answer: str = "") -> Outcome:
        """A walkthrough button; ``answer`` is what it asked first (the new text, the reason)."""
        if act is Act.REJECT:
            answer = " ".join(answer.split())
        problem = missing_answer(act, answer)
        if problem is not None:
            return self._outcome(refused(problem))
        try:
            command: Command = command_for(act, actor=actor, version=version, group_id=group_id, text=answer)
        except ValueError:
            return self._outcome(refused(f"That message is no longer part of release {version}'s walkthrough."))
        reply = await self.desk.handle(command)
        self.progress(version, (group_id,) if group_id else self._changed_by(command))
        # What a press on a communiqué did shows in its redrawn message; the rest is worth a word.
        return self._outcome(reply, tell=reply.failed or act not in COMMUNIQUE_ACTS)

    async def acknowledge(self, actor: str, ref: str, source: ReceiptSource, *, tally: bool = False) -> Outcome:
        """An Acknowledge click or a reaction on delivered message ``ref``; ``tally`` says the group's count too.

        Receipts arriving together share one transaction (the desk's group commit); the
        counts they change are redrawn a few times a minute, not once each.
        """
        command = Acknowledge(actor=actor, message_ref=ref, source=source, with_tally=tally)
        reply = await self.desk.handle(command)
        delivery = reply.subject  # the desk already looked it up: no second query per receipt
        if not reply.failed and delivery is not None:
            self.progress(delivery.version, copies=(ref,) if delivery.kind is Kind.CHANNEL else ())
        return self._outcome(reply)

    async def _skip(self, command: SkipGroup, surface: Surface) -> Outcome:
        """Skip a group; its walkthrough message then says so, without buttons (it has no communiqué left)."""
        before = await self.desk.walkthrough(command.version)
        reply = await self.desk.handle(command)
        shown = next((v for v in before[1].communiques if v.group_id == command.group_id), None) if before else None
        communique = before[0].communiques.get(command.group_id) if before else None
        if not reply.failed and shown is not None and communique is not None and communique.message_ref:
            after = await self.desk.walkthrough(command.version)
            why = after[0].skipped.get(command.group_id, "skipped") if after else "skipped"
            await self._drawn(surface.draw_communique(communique.message_ref, replace(shown, closed=True, note=why)))
            self.progress(command.version)
        return self._outcome(reply)

    async def unsubscribe(self, actor: str, component: str) -> Outcome:
        """A copy's Unsubscribe button: ``actor`` stops hearing, where they pressed it, of what brought it (the
        subscriptions to ``component``, ``*`` for any, and to every component)."""
        return self._outcome(await self.desk.handle(Unsubscribe(actor=actor, component=component, within=True)))

    async def shown_at(self, version: str, ref: str) -> tuple[str, str] | None:
        """The group and current text of the communiqué whose walkthrough message is ``ref``."""
        found = await self.desk.walkthrough(version)
        if found is None:
            return None
        return next(((gid, c.text) for gid, c in found[0].communiques.items() if c.message_ref == ref), None)

    async def current_text(self, version: str, group_id: str) -> str:
        """A communiqué's text as it stands (or the correction waiting for approval), to start an edit from."""
        found = await self.desk.walkthrough(version)
        communique = found[0].communiques.get(group_id) if found is not None else None
        if communique is None:
            return ""
        return communique.correction.text if communique.correction is not None else communique.text

    def _outcome(self, reply: Reply, *, tell: bool = True) -> Outcome:
        said = "\n".join(v.text for v in reply.views if isinstance(v, Notice))
        shown = self.surface.mention_people(said) if self.surface is not None else said
        return Outcome(reply, shown, tell=tell)

    # -- the walkthrough thread ------------------------------------------------------

    async def _show_thread(self, version: str, channel: str, reply: Reply, surface: Surface) -> Outcome:
        """Post the release's message, a thread, and one message per communiqué (once; later, redraw)."""
        found = await self.desk.walkthrough(version)
        if found is None:
            return self._outcome(refused(f"Release {version} is not known here."))
        release, view = found
        if release.thread is not None:
            self.progress(version, tuple(release.communiques))
            thread = release.thread
            where = surface.place(thread) if surface.owns(thread) else thread.split(":", 1)[0].title()
            return self._outcome(
                Reply([Notice(f"Release {version} is already being announced in {where}; it is up to date there.")])
            )
        try:
            opened = await surface.open_thread(channel, view)
            refs = {c.group_id: await surface.post_communique(opened, c) for c in view.communiques}
        except PermanentDeliveryError as error:
            text = (
                f"Herald cannot post the walkthrough here ({error}). {surface.post_hint}, "
                f"then run /release announce {version} again."
            )
            return Outcome(reply, text, failed_to_post=True)
        except RateLimited as error:
            text = (
                f"{surface.name} asked Herald to wait {error.retry_after or 1:.0f}s before posting here; nothing "
                f"was lost. Run /release announce {version} again after that."
            )
            return Outcome(reply, text, failed_to_post=True)
        await self.desk.place_thread(version, opened.parent, refs)
        where = surface.place(opened.room)
        text = f"Release {version}: the walkthrough is in {where}. Approve each communiqué there, then Send."
        return Outcome(reply, text)

    # -- live counts -----------------------------------------------------------------

    def _changed_by(self, command: Command) -> tuple[str, ...]:
        """The communiqués a release-wide command redraws: all of them once sending may begin (their buttons
        become "Send a correction"), and after approving every one; none otherwise."""
        if isinstance(command, (RequestSend, ApproveRelease, ApproveCommunique)):
            return tuple(group.id for group in self.desk.plan.groups)
        return ()

    def progress(self, version: str, groups: tuple[str, ...] = (), copies: tuple[str, ...] = ()) -> None:
        """Something changed (a press, a delivery, a receipt): redraw soon, at most once per interval."""
        if self.surface is not None:
            self._redraws.mark(version, groups, copies)

    async def redraw(self, version: str, groups: tuple[str, ...] | None = None) -> None:
        """Redraw the release's message (counts, not names) and the communiqués named (all with None)."""
        surface = self.surface
        found = await self.desk.walkthrough(version)
        if surface is None or found is None or found[0].thread is None or not surface.owns(found[0].thread):
            return  # no walkthrough, or it is on another platform
        release, view = found
        status = await self.desk.status(version, names=False)  # a shared message: counts, not names
        await self._drawn(surface.draw_release(release.thread or "", view, status))
        for communique in view.communiques:
            ref = release.communiques[communique.group_id].message_ref
            if (groups is None or communique.group_id in groups) and ref and surface.owns(ref):
                await self._drawn(surface.draw_communique(ref, communique))

    async def redraw_copy(self, ref: str) -> None:
        """A delivered channel copy, redrawn with its own count of acknowledgements."""
        if self.surface is None or not self.surface.owns(ref):
            return
        found = await self.desk.delivered_copy(ref)
        if found is not None:
            await self._drawn(self.surface.draw_copy(ref, *found))

    async def _redraw(self, version: str, groups: tuple[str, ...], copies: tuple[str, ...]) -> None:
        await self.redraw(version, groups)
        for ref in copies:
            await self.redraw_copy(ref)

    @staticmethod
    async def _drawn(drawing: Awaitable[None]) -> None:
        try:
            await drawing
        except HeraldError as error:  # a redraw is cosmetic: the next change draws again
            log.warning("could not redraw a walkthrough message: %s", error)

    async def flush(self, within: float | None = None) -> None:
        """Finish the work handed off, then the redraws it asked for; past ``within`` seconds, drop the rest."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self.work.drain(within)
        await self._redraws.flush(None if within is None else max(0.0, within - (loop.time() - started)))
