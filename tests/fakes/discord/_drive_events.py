"""How a test drives the client through gateway events: reactions, messages people post, raw dispatches."""

from __future__ import annotations

from tests.fakes.discord._constants import DIRECT_MESSAGE_REACTIONS, GUILD_MESSAGE_REACTIONS, Json
from tests.fakes.discord._gateway import Gateway
from tests.fakes.discord._records import FakeMessage
from tests.fakes.discord._shapes import emoji_json


class EventDrivers(Gateway):
    """Events people cause: each goes to every session that has not ended."""

    async def react(self, user_id: int, message_id: int, emoji: str = "✅") -> None:
        """``user_id`` adds a reaction: MESSAGE_REACTION_ADD goes to every connected session."""
        message = self._stored(message_id)
        message.reactions.setdefault(emoji, set()).add(user_id)
        payload = self._reaction_event(user_id, message, emoji)
        payload["message_author_id"] = str(message.author_id)
        payload["burst"] = False
        payload["burst_colors"] = []
        guild_id = self._guild_of(self._channels[message.channel_id])
        if guild_id is not None:
            payload["member"] = self._member_json(guild_id, user_id)
        await self._broadcast("MESSAGE_REACTION_ADD", payload, reaction_intent(guild_id))

    async def unreact(self, user_id: int, message_id: int, emoji: str = "✅") -> None:
        """``user_id`` removes a reaction: MESSAGE_REACTION_REMOVE goes to every connected session."""
        message = self._stored(message_id)
        message.reactions.get(emoji, set()).discard(user_id)
        payload = self._reaction_event(user_id, message, emoji)
        payload["burst"] = False
        guild_id = self._guild_of(self._channels[message.channel_id])
        await self._broadcast("MESSAGE_REACTION_REMOVE", payload, reaction_intent(guild_id))

    async def say(self, user_id: int, channel_id: int, content: str) -> FakeMessage:
        """``user_id`` posts a message; MESSAGE_CREATE goes out (content blank without MESSAGE_CONTENT)."""
        message = self._store_message(channel_id, user_id, {"content": content})
        await self._announce_message(message)
        return message

    async def dispatch(self, event: str, data: Json) -> None:
        """Send a raw gateway dispatch ``event`` with ``data`` to every connected session."""
        await self._broadcast(event, data, 0)

    def _reaction_event(self, user_id: int, message: FakeMessage, emoji: str) -> Json:
        payload: Json = {
            "user_id": str(user_id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "emoji": emoji_json(emoji),
            "type": 0,
        }
        guild_id = self._guild_of(self._channels[message.channel_id])
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
        return payload


def reaction_intent(guild_id: int | None) -> int:
    return GUILD_MESSAGE_REACTIONS if guild_id is not None else DIRECT_MESSAGE_REACTIONS
