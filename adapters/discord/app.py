"""Discord's front door: interactions and reactions in, the shared flow's outcomes out.

Every interaction is answered within Discord's three seconds: the work starts at once
and, if it is not done in ``answer_within`` seconds, the interaction is deferred and
the answer follows. What a command or a press does, what is posted and what is redrawn
is ``ChatFlow``'s, the same on every platform; the walkthrough's messages are drawn by
``DiscordSurface`` and the widgets are in ``components``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import discord

from adapters.discord import render, translate
from adapters.discord.components import EDIT_LIMIT, TextModal
from adapters.discord.gateway import DiscordGateway
from adapters.discord.surface import DiscordSurface
from bot.domain.receipt import ReceiptSource
from bot.service.actions import COMMUNIQUE_ACTS, Act, Asks, asks_first
from bot.service.chat.flow import REDRAW_EVERY, ChatFlow
from bot.service.chat.surface import Outcome
from bot.service.desk import ReleaseDesk

log = logging.getLogger(__name__)

_ANSWER_WITHIN = 2.0  # seconds before deferring: Discord drops an interaction not answered in 3
_REASON_LIMIT = 500  # a send-back reason, shown with the communiqué; a retraction's, on the release
_TROUBLE = "Something went wrong on Herald's side; nothing was lost. Try again, or see the logs."
_MODAL_KIND = {Asks.TEXT: "edit", Asks.REASON: "back", Asks.WHY: "retract"}  # what a press asks first: its modal
_MODAL_ACT = {_MODAL_KIND[asks_first(act)]: act for act in Act if asks_first(act) in _MODAL_KIND}  # and back
_MODAL_INPUT = {"edit": translate.EDIT_INPUT, "back": translate.SEND_BACK_INPUT, "retract": translate.RETRACT_INPUT}
_MODAL_TITLE = {
    "edit": "Edit communiqué",
    "back": "Send back: what must change?",
    "retract": "Retract: why is it withdrawn?",
}
_DONE = {Act.EDIT: "Saved; the checks ran again.", Act.REJECT: "Sent back.", Act.RETRACT: "Retraction recorded."}


def _said(outcome: Outcome) -> str:
    return f"❌ {outcome.text}" if outcome.failed else outcome.text


@dataclass(slots=True)
class Answer:
    """What to show the person who acted, privately."""

    content: str = ""
    embed: discord.Embed | None = None
    in_place: str | None = None  # instead: the clicked message's new content, its buttons gone

    def fields(self) -> dict[str, Any]:
        """Keyword arguments for ``send_message`` / ``followup.send``."""
        found: dict[str, Any] = {"content": render.cut(self.content or "Done.", render.CONTENT_LIMIT)}
        if self.embed is not None:
            found["embed"] = self.embed
        return found


class DiscordFrontDoor:
    """Discord's interactions and reactions, handed to the flow and answered in time."""

    def __init__(
        self,
        *,
        desk: ReleaseDesk,
        gateway: DiscordGateway,
        redraw_every: float = REDRAW_EVERY,
        answer_within: float = _ANSWER_WITHIN,
    ) -> None:
        self.gateway = gateway
        self.flow = ChatFlow(desk, DiscordSurface(gateway), redraw_every=redraw_every)
        self.answer_within = answer_within

    def progress(self, version: str) -> None:
        """Something about ``version`` changed (the engine settled a delivery): redraw soon."""
        self.flow.progress(version)

    async def flush(self, within: float | None = None) -> None:
        """Finish the interactions and reactions under way, then the redraws they asked for."""
        await self.flow.flush(within)

    # -- answering within three seconds ----------------------------------------------

    async def answer(
        self, interaction: discord.Interaction[Any], work: Coroutine[Any, Any, Answer], *, update: bool = False
    ) -> None:
        """Run ``work``; answer with its result, deferring first if it takes more than ``answer_within``.

        ``update`` answers a button by redrawing the message it sits on (``Answer.in_place``).
        The work is tracked, so shutdown waits for it (``flush``).
        """
        task = self.flow.work.start(work, None)
        done, _ = await asyncio.wait({task}, timeout=self.answer_within)
        if not done:
            if update:
                await interaction.response.defer()
            else:
                await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            answer = await task
        except Exception:
            log.exception("an interaction failed")
            answer = Answer(_TROUBLE)
        await self._send_answer(interaction, answer)

    async def _send_answer(self, interaction: discord.Interaction[Any], answer: Answer) -> None:
        try:
            if answer.in_place is not None and interaction.response.is_done():  # deferred as an update
                await interaction.edit_original_response(content=answer.in_place, view=None)
            elif answer.in_place is not None:
                await interaction.response.edit_message(content=answer.in_place, view=None)
            elif interaction.response.is_done():
                await interaction.followup.send(ephemeral=True, **answer.fields())
            else:
                await interaction.response.send_message(ephemeral=True, **answer.fields())
        except discord.HTTPException as error:
            log.warning("could not answer an interaction: %s", error)

    # -- /release --------------------------------------------------------------------

    async def command(self, interaction: discord.Interaction[Any], text: str) -> None:
        """A ``/release`` subcommand, written as the text commands are (``announce 2.4``)."""
        await self.answer(interaction, self._command(interaction, text))

    async def _command(self, interaction: discord.Interaction[Any], text: str) -> Answer:
        channel = None if interaction.channel_id is None else str(interaction.channel_id)
        outcome = await self.flow.command(translate.person(interaction.user.id), text, channel)
        status, help_view = outcome.status, outcome.help
        if status is not None and not outcome.failed:
            return Answer(f"{status.product} {status.version}", render.status(status))
        if help_view is not None:
            return Answer("\n".join(f"`{line}`" for line in help_view.lines))
        return Answer(_said(outcome))

    # -- walkthrough buttons and the modals ------------------------------------------

    async def walkthrough_button(self, interaction: discord.Interaction[Any], action: str, version: str) -> None:
        """Any walkthrough button: a press that asks something first opens its modal."""
        act = Act(action)
        if asks_first(act) is not Asks.NOTHING:
            await self._open_modal(interaction, act, version)
            return
        await self.answer(interaction, self._pressed(interaction, act, version))

    async def _pressed(self, interaction: discord.Interaction[Any], act: Act, version: str) -> Answer:
        clicked = await self._clicked(interaction, version) if act in COMMUNIQUE_ACTS else None
        actor = translate.person(interaction.user.id)
        outcome = await self.flow.press(actor, act, version, clicked[0] if clicked else None)
        return Answer(_said(outcome))

    async def _clicked(self, interaction: discord.Interaction[Any], version: str) -> tuple[str, str] | None:
        """The group and current text of the communiqué whose walkthrough message was clicked."""
        if interaction.message is None or interaction.channel_id is None:
            return None
        return await self.flow.shown_at(version, translate.message_ref(interaction.channel_id, interaction.message.id))

    async def _open_modal(self, interaction: discord.Interaction[Any], act: Act, version: str) -> None:
        """Edit (the text, to change) or Send back (the reason, to give), about the communiqué clicked;
        Retract… (why), about the release, from its own message."""
        # A modal must be the first answer: it cannot follow a defer, so nothing slow comes first.
        kind = _MODAL_KIND[asks_first(act)]
        group, current = None, ""
        if act in COMMUNIQUE_ACTS:  # the release's own message is no communiqué's: nothing to look up there
            clicked = await self._clicked(interaction, version)
            if clicked is None:
                await self._send_answer(interaction, Answer(f"❌ That message is no longer part of release {version}."))
                return
            group, current = clicked
        editing = kind == "edit"
        modal = TextModal(
            _MODAL_TITLE[kind],
            kind,
            version,
            group,
            _MODAL_INPUT[kind],
            current if editing else "",
            limit=EDIT_LIMIT if editing else _REASON_LIMIT,
        )
        await interaction.response.send_modal(modal)

    async def modal_submitted(self, interaction: discord.Interaction[Any]) -> None:
        """A modal was submitted; if it is one of Herald's, act on the text it carries.

        Everything that reads the database happens inside ``answer``, which defers in time.
        """
        data: dict[str, Any] = dict(interaction.data or {})
        opened = translate.parse_modal_id(str(data.get("custom_id", "")))
        if opened is None:
            return
        kind, version = opened
        act = _MODAL_ACT[kind]
        text = translate.submitted_value(data.get("components"), _MODAL_INPUT[kind]) or ""
        actor = translate.person(interaction.user.id)

        async def work() -> Answer:
            clicked = await self._clicked(interaction, version) if act in COMMUNIQUE_ACTS else None
            outcome = await self.flow.press(actor, act, version, clicked[0] if clicked else None, text)
            return Answer(_said(outcome) or _DONE[act])

        await self.answer(interaction, work())

    # -- receipts --------------------------------------------------------------------

    async def ack_button(self, interaction: discord.Interaction[Any]) -> None:
        """Acknowledge, pressed on a delivered copy."""

        # In a DM the copy is the reader's own: it turns into their receipt, in place. A
        # channel post is shared, so there the thanks stays private.
        in_dm = interaction.guild_id is None and interaction.message is not None

        async def work() -> Answer:
            if interaction.message is None or interaction.channel_id is None:
                return Answer("❌ Herald could not tell which message that was.")
            ref = translate.message_ref(interaction.channel_id, interaction.message.id)
            outcome = await self.flow.acknowledge(translate.person(interaction.user.id), ref, ReceiptSource.BUTTON)
            if in_dm and outcome.reply.recorded is not None:
                return Answer(in_place=render.acknowledged(interaction.message.content, outcome.text))
            return Answer(outcome.text)

        await self.answer(interaction, work(), update=in_dm)

    async def unsubscribe_button(self, interaction: discord.Interaction[Any], component: str) -> None:
        """Unsubscribe, pressed on a subscriber's copy: they stop hearing of what brought it; told privately."""

        async def work() -> Answer:
            outcome = await self.flow.unsubscribe(translate.person(interaction.user.id), component)
            return Answer(outcome.text)

        await self.answer(interaction, work())

    async def reaction(self, payload: discord.RawReactionActionEvent) -> None:
        """A reaction on any message (cached or not): the acknowledgement emoji counts."""
        me = self.gateway.client.user
        if (me is not None and payload.user_id == me.id) or (payload.member is not None and payload.member.bot):
            return
        if _plain(str(payload.emoji)) != _plain(self.gateway.ack_emoji):
            return
        ref = translate.message_ref(payload.channel_id, payload.message_id)
        person = translate.person(payload.user_id)
        await self.flow.work.start(self.flow.acknowledge(person, ref, ReceiptSource.REACTION), "a reaction")


def _plain(emoji: str) -> str:
    return emoji.replace("\ufe0f", "")  # ✅ and ✅️ are the same reaction
