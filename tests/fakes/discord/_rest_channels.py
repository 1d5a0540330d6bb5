"""REST routes for channels: messages, threads, reactions, and opening a DM."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord._constants import (
    BOT_USER_ID,
    DM,
    GUILDS,
    NONCE_WINDOW_S,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    TEXT,
    Json,
)
from tests.fakes.discord._errors import ApiError, check_content, json_object
from tests.fakes.discord._gateway import Gateway
from tests.fakes.discord._http import ApiRequest
from tests.fakes.discord._model import Channel
from tests.fakes.discord._records import FakeMessage, FakeThread


class ChannelRoutes(Gateway):
    """``/channels/...`` and ``POST /users/@me/channels``: what the bot posts, edits, deletes and reacts with."""

    async def _get_channel(self, request: ApiRequest) -> tuple[int, Any]:
        return 200, self._channel_json(self._channel(int(request.params["channel"])))

    async def _get_messages(self, request: ApiRequest) -> tuple[int, Any]:
        channel = self._channel(int(request.params["channel"]))
        limit = min(int(request.query.get("limit", 50)), 100)
        found = self.messages_in(channel.id)
        if "before" in request.query:
            found = [m for m in found if m.id < int(request.query["before"])]
        if "after" in request.query:
            found = [m for m in found if m.id > int(request.query["after"])][:limit]
        found = list(reversed(found))[:limit]  # newest first, as Discord answers
        return 200, [self._message_json(m) for m in found]

    async def _post_message(self, request: ApiRequest) -> tuple[int, Any]:
        channel = self._channel(int(request.params["channel"]))
        body = json_object(request.body)
        self._check_writable(channel)
        check_content(body)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            for earlier in self.messages_in(channel.id, include_deleted=True):
                if str(earlier.nonce) == str(nonce) and self.clock() - earlier.created_at < NONCE_WINDOW_S:
                    return 200, self._message_json(earlier, with_nonce=True)
        reference = body.get("message_reference")
        if reference is not None and reference.get("fail_if_not_exists", True):
            referenced = self.messages.get(int(reference.get("message_id", 0)))
            if referenced is None or referenced.deleted:
                raise ApiError(
                    400,
                    50035,
                    "Invalid Form Body",
                    {"message_reference": {"_errors": [{"code": "REPLIES_UNKNOWN_MESSAGE"}]}},
                )
        message = self._store_message(channel.id, BOT_USER_ID, body)
        await self._announce_message(message)
        return 200, self._message_json(message, with_nonce=True)

    async def _get_message(self, request: ApiRequest) -> tuple[int, Any]:
        return 200, self._message_json(self._message_in(request))

    async def _patch_message(self, request: ApiRequest) -> tuple[int, Any]:
        message = self._message_in(request)
        if message.author_id != BOT_USER_ID or message.webhook_id is not None:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._edit(message, json_object(request.body))
        await self._broadcast_message("MESSAGE_UPDATE", message)
        return 200, self._message_json(message)

    async def _delete_message(self, request: ApiRequest) -> tuple[int, Any]:
        message = self._message_in(request)
        message.deleted = True
        await self._broadcast_deletion(message)
        return 204, None

    async def _thread_from_message(self, request: ApiRequest) -> tuple[int, Any]:
        message = self._message_in(request)
        parent = self._channels[message.channel_id]
        if parent.type != TEXT:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        if message.thread_id is not None:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        body = json_object(request.body)
        thread = FakeThread(
            message.id, parent.id, str(body.get("name", "")), message.id, PUBLIC_THREAD,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )  # fmt: skip
        message.thread_id = thread.id
        return 201, await self._open_thread(thread, parent)

    async def _thread_without_message(self, request: ApiRequest) -> tuple[int, Any]:
        parent = self._channel(int(request.params["channel"]))
        if parent.type != TEXT:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        body = json_object(request.body)
        kind = int(body.get("type") or PRIVATE_THREAD)
        thread = FakeThread(
            self._next_id(), parent.id, str(body.get("name", "")), None, kind,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )  # fmt: skip
        return 201, await self._open_thread(thread, parent)

    async def _open_thread(self, thread: FakeThread, parent: Channel) -> Json:
        if not thread.name or len(thread.name) > 100:
            raise ApiError(400, 50035, "Invalid Form Body", {"name": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH"}]}})
        self.threads[thread.id] = thread
        self._channels[thread.id] = Channel(thread.id, thread.type, thread.name, parent.guild_id, parent.id)
        payload = self._channel_json(self._channels[thread.id])
        await self._broadcast("THREAD_CREATE", {**payload, "newly_created": True}, GUILDS)
        return payload

    async def _get_reactions(self, request: ApiRequest) -> tuple[int, Any]:
        message = self._message_in(request)
        after = int(request.query.get("after", 0))
        limit = min(int(request.query.get("limit", 25)), 100)
        users = sorted(u for u in message.reactions.get(request.params["emoji"], set()) if u > after)[:limit]
        return 200, [self._users[u].to_json() for u in users]

    async def _put_reaction(self, request: ApiRequest) -> tuple[int, Any]:
        message = self._message_in(request)
        emoji = request.params["emoji"]
        message.reactions.setdefault(emoji, set()).add(BOT_USER_ID)
        return 204, None

    async def _delete_reaction(self, request: ApiRequest) -> tuple[int, Any]:
        message = self._message_in(request)
        message.reactions.get(request.params["emoji"], set()).discard(BOT_USER_ID)
        return 204, None

    async def _create_dm(self, request: ApiRequest) -> tuple[int, Any]:
        body = json_object(request.body)
        user = self._user(int(body.get("recipient_id", 0)))
        return 200, self._channel_json(self._channels[self._open_dm(user.id)])

    def _message_in(self, request: ApiRequest) -> FakeMessage:
        channel = self._channel(int(request.params["channel"]))
        message = self._message(int(request.params["message"]))
        if message.channel_id != channel.id:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def _check_writable(self, channel: Channel) -> None:
        if channel.type == DM:
            recipient = self._users[channel.recipient_id or 0]
            if not recipient.dms_open or recipient.bot:
                raise ApiError(403, 50007, "Cannot send messages to this user")
