"""The walkthrough's messages in Discord: a release message, a thread under it, embeds with buttons.

Where a thread cannot be started (a DM, a thread already), the channel itself is the room.
Buttons name their action and release in ``custom_id`` (``render``), so they keep working
after a restart.
"""

from __future__ import annotations

from typing import Any

from adapters.discord import render, translate
from adapters.discord.gateway import DiscordGateway
from adapters.discord.messenger import DiscordMessenger
from bot.service.chat.surface import Thread
from bot.service.ports import OutgoingMessage
from bot.service.views import CommuniqueView, ReleaseView, StatusView


class DiscordSurface:
    """Discord's side of the walkthrough (the ``Surface`` port)."""

    name = "Discord"
    post_hint = (
        "Give it View Channels, Send Messages, Embed Links, Create Public Threads and Send Messages in Threads "
        "in this channel"
    )

    def __init__(self, gateway: DiscordGateway) -> None:
        self.gateway = gateway
        self._copies = DiscordMessenger(gateway)  # a copy a group's webhook posted is redrawn through it

    def owns(self, ref: str) -> bool:
        """Whether ``ref`` is a Discord message."""
        return translate.parse_message_ref(ref) is not None

    def place(self, ref: str) -> str:
        """The channel of message ``ref`` (or channel ``ref`` itself), as a Discord channel mention."""
        found = translate.parse_message_ref(ref)
        if found is not None:
            return f"<#{found[0]}>"
        return f"<#{ref}>" if ref.isdigit() else "Discord"

    def mention_people(self, text: str) -> str:
        """Herald's ids of Discord people as Discord mentions."""
        return translate.mention_people(text)

    async def open_thread(self, channel: str, view: ReleaseView) -> Thread:
        """Post the release's message and start a thread from it."""
        content, embed, buttons = render.release(view)
        where = int(channel)
        parent = await self.gateway.post(where, content, embed=embed, view=buttons)
        room = await self.gateway.thread_for(where, parent, f"{view.product} {view.version} release communications")
        return Thread(parent=translate.message_ref(where, parent), room=str(room))

    async def post_communique(self, thread: Thread, view: CommuniqueView) -> str:
        """One communiqué, as an embed with its buttons, in the thread."""
        text, card, actions = render.communique(view)
        room = int(thread.room)
        return translate.message_ref(room, await self.gateway.post(room, text, embed=card, view=actions))

    async def draw_release(self, ref: str, view: ReleaseView, status: StatusView) -> None:
        """Edit the release's message."""
        content, embed, buttons = render.release(view, status)
        await self._edit(ref, content=content, embed=embed, view=buttons)

    async def draw_communique(self, ref: str, view: CommuniqueView) -> None:
        """Edit a communiqué's message."""
        text, card, actions = render.communique(view)
        await self._edit(ref, content=text, embed=card, view=actions)

    async def draw_copy(self, ref: str, message: OutgoingMessage, tally: str) -> None:
        """Edit a delivered channel copy, with its count (nobody is pinged again); through the group's webhook
        when it posted the copy."""
        if await self._copies.redraw_through_webhook(ref, message, tally):
            return
        content, view = render.delivered(message, self.gateway.ack_emoji, tally)
        await self._edit(ref, content=content, view=view, allowed_mentions=render.mentions(False))

    async def _edit(self, ref: str, **fields: Any) -> None:
        place = translate.parse_message_ref(ref)
        if place is not None:
            await self.gateway.edit(*place, **fields)
