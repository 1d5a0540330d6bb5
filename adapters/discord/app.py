"""Discord's front door: the ``/release`` app commands, the walkthrough buttons, receipts.

Every interaction is answered within Discord's three seconds: the work starts at once
and, if it is not done in ``answer_within`` seconds, the interaction is deferred and
the answer follows. The walkthrough lives in a thread under a release message in the
channel where ``/release announce`` was typed; buttons name their action and release
in ``custom_id`` and are answered by dynamic items, so they keep working after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from adapters.background import Background
from adapters.discord import render, translate
from adapters.discord.gateway import DiscordGateway
from adapters.discord.pace import RestPace
from adapters.redraws import LiveMessages
from bot.domain.commands import (
    Acknowledge,
    AnnounceRelease,
    parse_release_command,
)
from bot.domain.destinations import Kind
from bot.domain.errors import CommandError, HeraldError, PermanentDeliveryError, RateLimited
from bot.domain.receipt import ReceiptSource
from bot.service.actions import Act, Asks, asks_first, command_for
from bot.service.desk import ReleaseDesk
from bot.service.views import HelpView, Notice, Reply, StatusView

log = logging.getLogger(__name__)

_ANSWER_WITHIN = 2.0  # seconds before deferring: Discord drops an interaction not answered in 3
_REDRAW_EVERY = 5.0  # seconds: at most one edit per message per release in that time
_EDIT_LIMIT = 4000  # a text input holds at most 4,000 characters
_REASON_LIMIT = 500  # a send-back reason, shown with the communiqué


def _notices(reply: Reply) -> str:
    """What the desk said, with people named as the platform shows them, not by Herald's ids."""
    return translate.mention_people("\n".join(v.text for v in reply.views if isinstance(v, Notice)))


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


class DiscordFrontDoor(LiveMessages):
    """Everything Herald draws in Discord, and what it does when people click and react."""

    def __init__(
        self,
        *,
        desk: ReleaseDesk,
        gateway: DiscordGateway,
        redraw_every: float = _REDRAW_EVERY,
        answer_within: float = _ANSWER_WITHIN,
    ) -> None:
        super().__init__(redraw_every)
        self.desk = desk
        self.gateway = gateway
        self.answer_within = answer_within
        self._work = Background()

    async def flush(self, within: float | None = None) -> None:
        """Finish the interactions and reactions under way, then the redraws they asked for."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self._work.drain(within)
        await super().flush(None if within is None else max(0.0, within - (loop.time() - started)))

    # -- answering within three seconds ----------------------------------------------

    async def answer(
        self, interaction: discord.Interaction[Any], work: Coroutine[Any, Any, Answer], *, update: bool = False
    ) -> None:
        """Run ``work``; answer with its result, deferring first if it takes more than ``answer_within``.

        ``update`` answers a button by redrawing the message it sits on (``Answer.in_place``).
        The work is tracked, so shutdown waits for it (``flush``).
        """
        task = self._work.start(work, None)
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
            answer = Answer("Something went wrong on Herald's side; nothing was lost. Try again, or see the logs.")
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
        actor = translate.person(interaction.user.id)
        try:
            parsed = parse_release_command(text, actor)
        except CommandError as error:
            return Answer(f"❌ {error}")
        reply = await self.desk.handle(parsed)
        if reply.failed:
            return Answer(f"❌ {_notices(reply)}")
        if isinstance(parsed, AnnounceRelease):
            try:
                return await self.show_thread(parsed.version, interaction.channel_id)
            except PermanentDeliveryError as error:
                return Answer(
                    f"❌ Herald cannot post the walkthrough here ({error}). Give it View Channels, Send Messages, "
                    "Embed Links, Create Public Threads and Send Messages in Threads in this channel, then run "
                    f"/release announce {parsed.version} again."
                )
            except RateLimited as error:
                return Answer(
                    f"❌ Discord asked Herald to wait {error.retry_after or 1:.0f}s before posting here; nothing was "
                    f"lost. Run /release announce {parsed.version} again after that."
                )
        status = next((v for v in reply.views if isinstance(v, StatusView)), None)
        if status is not None:
            return Answer(f"{status.product} {status.version}", render.status(status))
        help_view = next((v for v in reply.views if isinstance(v, HelpView)), None)
        if help_view is not None:
            return Answer("\n".join(f"`{line}`" for line in help_view.lines))
        version = getattr(parsed, "version", None)
        if version:
            self.progress(version)
        return Answer(_notices(reply))

    # -- the walkthrough thread ------------------------------------------------------

    async def show_thread(self, version: str, channel: int | None) -> Answer:
        """Post the release message, a thread under it, and one message per communiqué (once)."""
        found = await self.desk.walkthrough(version)
        if found is None or channel is None:
            return Answer(f"Release {version} is not known here.")
        release, view = found
        if release.thread is not None:
            self.progress(version, tuple(release.communiques))
            place = translate.parse_message_ref(release.thread)
            where = f" in <#{place[0]}>" if place else f" in {release.thread.split(':', 1)[0].title()}"
            return Answer(f"Release {version} is already being announced{where}; it is up to date there.")
        content, embed, buttons = render.release(view)
        parent = await self.gateway.post(channel, content, embed=embed, view=buttons)
        room = await self.gateway.thread_for(channel, parent, f"{view.product} {view.version} release communications")
        refs: dict[str, str] = {}
        for communique in view.communiques:
            text, card, actions = render.communique(communique)
            posted = await self.gateway.post(room, text, embed=card, view=actions)
            refs[communique.group_id] = translate.message_ref(room, posted)
        await self.desk.place_thread(version, translate.message_ref(channel, parent), refs)
        return Answer(f"Release {version}: the walkthrough is in <#{room}>. Approve each communiqué there, then Send.")

    async def redraw(self, version: str, groups: tuple[str, ...] | None = None) -> None:
        """Edit the release message (and the communiqués named, or all) to the current state."""
        found = await self.desk.walkthrough(version)
        if found is None or found[0].thread is None:
            return
        release, view = found
        parent = translate.parse_message_ref(release.thread or "")
        if parent is None:
            return  # the walkthrough is on another platform
        status = await self.desk.status(version)
        content, embed, buttons = render.release(view, status)
        await self._edit(parent, content=content, embed=embed, view=buttons)
        for communique in view.communiques:
            if groups is not None and communique.group_id not in groups:
                continue
            place = translate.parse_message_ref(release.communiques[communique.group_id].message_ref or "")
            if place is not None:
                text, card, actions = render.communique(communique)
                await self._edit(place, content=text, embed=card, view=actions)

    async def _edit(self, place: tuple[int, int], **fields: Any) -> None:
        try:
            await self.gateway.edit(*place, **fields)
        except HeraldError as error:
            log.warning("could not redraw a Discord message: %s", error)

    async def redraw_copy(self, ref: str) -> None:
        """A channel copy of a communiqué, redrawn with its own count of acknowledgements."""
        found = await self.desk.delivered_copy(ref)
        place = translate.parse_message_ref(ref)
        if found is None or place is None:
            return
        message, tally = found
        content, view = render.delivered(message, self.gateway.ack_emoji, tally)
        await self._edit(place, content=content, view=view, allowed_mentions=render.mentions(False))

    # -- walkthrough buttons and the modals ------------------------------------------

    async def walkthrough_button(self, interaction: discord.Interaction[Any], action: str, version: str) -> None:
        """Approve / Edit / Send back on a communiqué; Confirm / Send / Approve and send on the release."""
        actor = translate.person(interaction.user.id)
        if asks_first(Act(action)) is not Asks.NOTHING:
            await self._open_modal(interaction, "edit" if action == "edit" else "back", version)
            return
        await self.answer(interaction, self._walkthrough(interaction, actor, action, version))

    async def _walkthrough(
        self, interaction: discord.Interaction[Any], actor: str, action: str, version: str
    ) -> Answer:
        act = Act(action)
        group = await self._clicked_group(interaction, version) if act is Act.APPROVE else None
        if act is Act.APPROVE and group is None:
            return Answer("❌ That message is no longer part of release " + version + "'s walkthrough.")
        reply = await self.desk.handle(command_for(act, actor=actor, version=version, group_id=group))
        self.progress(version, (group,) if group else ())
        if reply.failed:
            return Answer(f"❌ {_notices(reply)}")
        return Answer(_notices(reply) or "Done.")

    async def _clicked_group(self, interaction: discord.Interaction[Any], version: str) -> str | None:
        """The communiqué whose walkthrough message was clicked, read from the release."""
        clicked = await self._clicked(interaction, version)
        return clicked[0] if clicked else None

    async def _clicked(self, interaction: discord.Interaction[Any], version: str) -> tuple[str, str] | None:
        """The group and current text of the communiqué whose walkthrough message was clicked."""
        if interaction.message is None or interaction.channel_id is None:
            return None
        ref = translate.message_ref(interaction.channel_id, interaction.message.id)
        found = await self.desk.walkthrough(version)
        if found is None:
            return None
        return next(((gid, c.text) for gid, c in found[0].communiques.items() if c.message_ref == ref), None)

    async def _open_modal(self, interaction: discord.Interaction[Any], kind: str, version: str) -> None:
        """Edit (the text, to change) or Send back (the reason, to give), about the communiqué clicked."""
        # A modal must be the first answer: it cannot follow a defer, so nothing slow comes first.
        clicked = await self._clicked(interaction, version)
        if clicked is None:
            await self._send_answer(interaction, Answer(f"❌ That message is no longer part of release {version}."))
            return
        group, current = clicked
        if kind == "edit":
            modal = TextModal("Edit communiqué", kind, version, group, translate.EDIT_INPUT, current)
        else:
            modal = TextModal(
                "Send back: what must change?", kind, version, group, translate.SEND_BACK_INPUT, "", limit=_REASON_LIMIT
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
        field = translate.EDIT_INPUT if kind == "edit" else translate.SEND_BACK_INPUT
        text = translate.submitted_value(data.get("components"), field) or ""
        actor = translate.person(interaction.user.id)

        async def work() -> Answer:
            group = await self._clicked_group(interaction, version)
            if group is None:
                return Answer(f"❌ That message is no longer part of release {version}.")
            if kind == "edit":
                return await self._save_edit(actor, version, group, text)
            return await self._send_back(actor, version, group, " ".join(text.split()))

        await self.answer(interaction, work())

    async def _save_edit(self, actor: str, version: str, group: str, text: str) -> Answer:
        if not text.strip():
            return Answer("❌ A communiqué cannot be empty; nothing was changed.")
        reply = await self.desk.handle(command_for(Act.EDIT, actor=actor, version=version, group_id=group, text=text))
        self.progress(version, (group,))
        return Answer(f"❌ {_notices(reply)}" if reply.failed else _notices(reply) or "Saved; the checks ran again.")

    async def _send_back(self, actor: str, version: str, group: str, reason: str) -> Answer:
        if not reason:
            return Answer("❌ Say what must change; the communiqué was not sent back.")
        reply = await self.desk.handle(
            command_for(Act.REJECT, actor=actor, version=version, group_id=group, text=reason)
        )
        self.progress(version, (group,))
        return Answer(f"❌ {_notices(reply)}" if reply.failed else _notices(reply) or "Sent back.")

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
            reply = await self._acknowledge(interaction.user.id, ref, ReceiptSource.BUTTON)
            if in_dm and reply.recorded is not None:
                return Answer(in_place=render.acknowledged(interaction.message.content, _notices(reply)))
            return Answer(_notices(reply))

        await self.answer(interaction, work(), update=in_dm)

    async def reaction(self, payload: discord.RawReactionActionEvent) -> None:
        """A reaction on any message (cached or not): the acknowledgement emoji counts."""
        me = self.gateway.client.user
        if (me is not None and payload.user_id == me.id) or (payload.member is not None and payload.member.bot):
            return
        if _plain(str(payload.emoji)) != _plain(self.gateway.ack_emoji):
            return
        ref = translate.message_ref(payload.channel_id, payload.message_id)
        await self._work.start(self._acknowledge(payload.user_id, ref, ReceiptSource.REACTION), "a reaction")

    async def _acknowledge(self, user: int, ref: str, source: ReceiptSource) -> Reply:
        # Receipts arriving together share one transaction (the desk's group commit).
        reply = await self.desk.handle(
            Acknowledge(actor=translate.person(user), message_ref=ref, source=source, with_tally=False)
        )
        delivery = reply.subject
        if not reply.failed and delivery is not None:
            self.progress(delivery.version, copies=(ref,) if delivery.kind is Kind.CHANNEL else ())
        return reply


def _plain(emoji: str) -> str:
    return emoji.replace("\ufe0f", "")  # ✅ and ✅️ are the same reaction


class TextModal(discord.ui.Modal):
    """One paragraph about one communiqué: its new text (edit) or why it goes back (send back).

    A submit is handled by ``HeraldClient.on_interaction`` from the interaction alone (kind and
    release in the ``custom_id``, the communiqué from the message the modal was opened from),
    so it counts even when Herald restarted while the modal was open.
    """

    def __init__(
        self, title: str, kind: str, version: str, group: str, input_id: str, current: str, *, limit: int = _EDIT_LIMIT
    ) -> None:
        super().__init__(title=title, custom_id=translate.modal_id(kind, version), timeout=15 * 60)
        self.text: discord.ui.TextInput[TextModal] = discord.ui.TextInput(
            label=render.cut(f"{group} · {version}", 45),
            custom_id=input_id,
            style=discord.TextStyle.paragraph,
            default=current[:limit] or None,
            max_length=limit,
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        """Nothing here: the client's ``on_interaction`` handles every submit, before and after a restart."""


def _front(interaction: discord.Interaction[Any]) -> DiscordFrontDoor:
    client = interaction.client
    front = getattr(client, "front", None)
    if not isinstance(front, DiscordFrontDoor):
        raise RuntimeError("the Discord client has no Herald front door")
    return front


class WalkthroughButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=translate.WALKTHROUGH.pattern):
    """Any walkthrough button, rebuilt from its ``custom_id`` on every click (so restarts do not matter)."""

    def __init__(self, action: str, version: str) -> None:
        super().__init__(discord.ui.Button(custom_id=translate.custom_id(action, version)))
        self.action, self.version = action, version

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> WalkthroughButton:
        return cls(str(match["action"]), str(match["version"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _front(interaction).walkthrough_button(interaction, self.action, self.version)


class AckButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=translate.ACK_TEMPLATE):
    """The Acknowledge button on every delivered copy (marked with its delivery, or bare on older copies)."""

    def __init__(self, custom_id: str = translate.ACK) -> None:
        super().__init__(discord.ui.Button(custom_id=custom_id))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: Any, /
    ) -> AckButton:
        return cls(match.string)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _front(interaction).ack_button(interaction)


_SUBCOMMANDS = (
    ("announce", "Start the walkthrough: check and approve each communiqué"),
    ("status", "Deliveries and acknowledgements of a release"),
    ("remind", "Remind everyone who has not acknowledged yet, now"),
    ("retry", "Send again whatever failed"),
    ("cancel", "Cancel a release that has not been sent"),
)


def _versioned(name: str, description: str) -> app_commands.Command[Any, Any, None]:
    @app_commands.describe(version="the release version, e.g. 2.4")
    async def callback(interaction: discord.Interaction[Any], version: str) -> None:
        await _front(interaction).command(interaction, f"{name} {version}")

    return app_commands.Command(name=name, description=description, callback=callback)


def release_commands() -> app_commands.Group:
    """The ``/release`` command group, as synced to Discord and answered by the front door."""
    group = app_commands.Group(name="release", description="Herald: validate, send and track release communications")
    for name, description in _SUBCOMMANDS:
        group.add_command(_versioned(name, description))

    async def show_help(interaction: discord.Interaction[Any]) -> None:
        await _front(interaction).command(interaction, "help")

    group.add_command(app_commands.Command(name="help", description="What Herald can do", callback=show_help))
    return group


class HeraldClient(discord.Client):
    """A discord.py client that hands everything to Herald's front door.

    Its HTTP session goes through ``pace``, which keeps Discord's global limit once bound.
    """

    def __init__(self, *, intents: discord.Intents, **options: Any) -> None:
        self.pace = RestPace()
        super().__init__(
            intents=intents,
            allowed_mentions=discord.AllowedMentions.none(),
            http_trace=self.pace.trace,
            **options,
        )
        self.front: DiscordFrontDoor | None = None
        self.tree: app_commands.CommandTree[HeraldClient] = app_commands.CommandTree(self)
        self.tree.add_command(release_commands())

    async def setup_hook(self) -> None:
        self.add_dynamic_items(WalkthroughButton, AckButton)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        if self.front is not None:
            await self.front.reaction(payload)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is discord.InteractionType.modal_submit and self.front is not None:
            await self.front.modal_submitted(interaction)

    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        # A receipt is proof the message was read; taking the emoji back does not unread it.
        log.debug("reaction removed by %s; the receipt stands", payload.user_id)


def intents(*, members: bool) -> discord.Intents:
    """Only what Herald needs: servers, reactions (in servers and DMs), members if roles are used."""
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.guild_reactions = True
    chosen.dm_reactions = True
    chosen.members = members
    return chosen
