"""The walkthrough's messages in Slack: Block Kit posted with chat.postMessage, redrawn with chat.update.

The release's message is posted in the channel where ``/release announce`` was typed;
each communiqué is a reply in its thread (``thread_ts``), so the room is the parent itself.
"""

from __future__ import annotations

from typing import Any

from adapters.slack import blocks, translate
from adapters.slack.gateway import SlackGateway
from bot.service.chat.surface import Thread
from bot.service.ports import OutgoingMessage
from bot.service.views import CommuniqueView, ReleaseView, StatusView


class SlackSurface:
    """Slack's side of the walkthrough (the ``Surface`` port)."""

    name = "Slack"
    post_hint = "Invite Herald to this channel (/invite @Herald) or give it chat:write.public"

    def __init__(self, gateway: SlackGateway) -> None:
        self.gateway = gateway

    def owns(self, ref: str) -> bool:
        """Whether ``ref`` is a Slack message."""
        return translate.parse_message_ref(ref) is not None

    def place(self, ref: str) -> str:
        """The channel of message ``ref``, as a Slack channel mention."""
        found = translate.parse_message_ref(ref)
        return f"<#{found[0]}>" if found else "Slack"

    def mention_people(self, text: str) -> str:
        """Herald's ids of Slack people as Slack mentions."""
        return translate.mention_people(text)

    async def open_thread(self, channel: str, view: ReleaseView) -> Thread:
        """Post the release's message; its replies are the thread."""
        parent = await self.gateway.post(
            channel, text=f"{view.product} {view.version}", blocks=blocks.as_dicts(blocks.release_blocks(view))
        )
        ref = translate.message_ref(channel, str(parent["ts"]))
        return Thread(parent=ref, room=ref)

    async def post_communique(self, thread: Thread, view: CommuniqueView) -> str:
        """A reply in the release's thread."""
        channel, parent_ts = translate.parse_message_ref(thread.room) or ("", "")
        posted = await self.gateway.post(
            channel,
            thread_ts=parent_ts,
            text=f"{view.group_name}: communiqué for {view.version}",
            blocks=blocks.as_dicts(blocks.communique_blocks(view)),
            unfurl_links=False,
        )
        return translate.message_ref(channel, str(posted["ts"]))

    async def draw_release(self, ref: str, view: ReleaseView, status: StatusView) -> None:
        """chat.update of the release's message."""
        await self._update(ref, f"{view.product} {view.version}", blocks.as_dicts(blocks.release_blocks(view, status)))

    async def draw_communique(self, ref: str, view: CommuniqueView) -> None:
        """chat.update of a communiqué's reply."""
        await self._update(ref, view.group_name, blocks.as_dicts(blocks.communique_blocks(view)))

    async def draw_copy(self, ref: str, message: OutgoingMessage, tally: str) -> None:
        """chat.update of a delivered channel copy, with its count."""
        shown = blocks.recipient_text(message.text, message.allow_mentions)
        content = blocks.delivered_blocks(message, shown, self.gateway.ack_emoji, tally)
        await self._update(ref, shown[:3000], blocks.as_dicts(content))

    async def _update(self, ref: str, text: str, content: list[dict[str, Any]]) -> None:
        place = translate.parse_message_ref(ref)
        if place is not None:
            await self.gateway.call("chat.update", channel=place[0], ts=place[1], text=text, blocks=content)
