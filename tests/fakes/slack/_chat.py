"""The ``chat.*`` methods and ``reactions.get``: what the bot posts, edits and reads back."""

from __future__ import annotations

from tests.fakes.slack._constants import APP_ID, BOT_ID, BOT_USER_ID, TEAM_ID, Json
from tests.fakes.slack._conversations import ConversationMethods
from tests.fakes.slack._model import Conversation, MethodError
from tests.fakes.slack._payloads import message_author, message_content, message_metadata


class ChatMethods(ConversationMethods):
    """Messages: a post to a user id goes to the DM with that person, as on Slack."""

    def _chat_post_message(self, params: Json) -> Json:
        channel = self._writable(params)
        if channel.is_im and channel.user in self._users and self._users[channel.user].is_bot:
            raise MethodError("cannot_dm_bot")  # chat.postMessage: "cannot_dm_bot: Cannot DM a bot user."
        if channel.is_im and channel.user in self.messages_tab_off:
            # https://docs.slack.dev/reference/methods/chat.postMessage: "messages_tab_disabled: Messages tab
            # for the app is disabled." The person turned off messages from apps.
            raise MethodError("messages_tab_disabled")
        text, blocks = message_content(params)
        message: Json = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": self._next_ts(),
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": text,
            "team": TEAM_ID,
            **message_author(params, self.scopes),
        }
        if blocks is not None:
            message["blocks"] = blocks
        metadata = params.get("metadata")
        if metadata is not None:
            message["metadata"] = message_metadata(metadata)
        thread_ts = params.get("thread_ts")
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
            self._count_reply(channel.id, str(thread_ts))
        self._messages.setdefault(channel.id, []).append(message)
        shown = {k: v for k, v in message.items() if k != "metadata"}  # metadata comes back only from history
        return {"channel": channel.id, "ts": message["ts"], "message": shown}

    def _chat_update(self, params: Json) -> Json:
        channel = self._writable(params)
        ts = str(params.get("ts") or "")
        try:
            message = self.message(channel.id, ts)
        except KeyError:
            raise MethodError("message_not_found") from None
        text, blocks = message_content(params)
        metadata = params.get("metadata")
        # https://docs.slack.dev/reference/methods/chat.update: "If you don't include this field, the message's
        # previous metadata will be retained. To remove previous metadata, include an empty object for this field."
        if metadata == {}:
            message.pop("metadata", None)
        elif metadata is not None:
            message["metadata"] = message_metadata(metadata)
        message["text"] = text
        if blocks is not None:
            message["blocks"] = blocks
        message["edited"] = {"user": BOT_ID, "ts": self._next_ts()}
        return {"channel": channel.id, "ts": ts, "text": text, "message": dict(message)}

    def _chat_post_ephemeral(self, params: Json) -> Json:
        channel = self._writable(params)
        user = str(params.get("user") or "")
        if user not in self._users:
            raise MethodError("user_not_found")
        if user not in channel.members:
            raise MethodError("user_not_in_channel")
        text, blocks = message_content(params)
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel.id,
                "user": user,
                "text": text,
                "blocks": blocks,
                "thread_ts": params.get("thread_ts"),
                "ts": ts,
            }
        )
        return {"message_ts": ts}

    def _reactions_get(self, params: Json) -> Json:
        conversation = self._visible(str(params.get("channel") or ""))
        try:
            message = self.message(conversation.id, str(params.get("timestamp") or ""))
        except KeyError:
            raise MethodError("message_not_found") from None
        return {"type": "message", "channel": conversation.id, "message": dict(message)}

    # -- helpers --

    def _writable(self, params: Json) -> Conversation:
        channel_id = str(params.get("channel") or "")
        if channel_id.startswith(("U", "W")) and channel_id in self._users:
            # Posting to a user id posts in the app's DM with that person.
            self._conversations_open({"users": channel_id})
            channel_id = self.dm_channel(channel_id)
        conversation = self._visible(channel_id)
        if conversation.is_archived:
            raise MethodError("is_archived")
        return conversation
