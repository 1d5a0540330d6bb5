"""The ``conversations.*`` methods: open a DM or group DM, list, members, history, info."""

from __future__ import annotations

import hashlib

from tests.fakes.slack._constants import BOT_USER_ID, HISTORY_PAGE_MAX, Json
from tests.fakes.slack._model import Conversation, MethodError, kind_of
from tests.fakes.slack._payloads import flag, paginate
from tests.fakes.slack._state import State


class ConversationMethods(State):
    """Conversations as the bot sees them: a private one only if it is a member."""

    def _conversations_open(self, params: Json) -> Json:
        if params.get("channel"):
            conversation = self._visible(str(params["channel"]))
            return {"no_op": True, "already_open": True, "channel": {"id": conversation.id}}
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            raise MethodError("users_list_not_supplied")
        if len(users) > 8:
            raise MethodError("too_many_users")
        for user_id in users:
            user = self._users.get(user_id)
            if user is None:
                raise MethodError("user_not_found")
            if user.deleted:
                raise MethodError("user_disabled")
        if len(users) == 1:
            conversation = Conversation(
                self.dm_channel(users[0]), "", [BOT_USER_ID, users[0]], is_im=True, user=users[0]
            )
        else:
            members = sorted({BOT_USER_ID, *users})
            digest = hashlib.sha1(",".join(members).encode()).hexdigest()[:10].upper()
            conversation = Conversation(f"G{digest}", "mpdm-" + "--".join(members) + "-1", members, is_mpim=True)
        already_open = conversation.id in self._conversations
        self._conversations.setdefault(conversation.id, conversation)
        answer: Json = {"no_op": True, "already_open": True} if already_open else {}
        channel = conversation.to_slack() if flag(params.get("return_im")) else {"id": conversation.id}
        return {**answer, "channel": channel}

    def _conversations_list(self, params: Json) -> Json:
        types = set(str(params.get("types") or "public_channel").split(","))
        known = {"public_channel", "private_channel", "mpim", "im"}
        if not types <= known:
            raise MethodError("invalid_types")
        exclude_archived = flag(params.get("exclude_archived"))
        listed = [
            c.to_slack()
            for c in self._conversations.values()
            if kind_of(c) in types and self._can_see(c) and not (exclude_archived and c.is_archived)
        ]
        page, cursor = paginate(listed, params)
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_members(self, params: Json) -> Json:
        conversation = self._visible(str(params.get("channel") or ""))
        page, cursor = paginate(conversation.members, params)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_history(self, params: Json) -> Json:
        """Top-level messages (and thread parents), newest first, between ``oldest`` and ``latest``.

        As https://api.slack.com/methods/conversations.history documents: both bounds exclusive
        unless ``inclusive``; ``latest`` defaults to now; cursor pagination with ``has_more``;
        ``limit`` at most 999; metadata only with ``include_all_metadata``; the bot must be in
        the conversation (``not_in_channel`` otherwise).
        """
        conversation = self._visible(str(params.get("channel") or ""))
        if BOT_USER_ID not in conversation.members and not conversation.is_im:
            raise MethodError("not_in_channel")
        try:
            oldest = float(params.get("oldest") or 0)
            latest = float(params.get("latest") or self.wall())
            limit = int(params.get("limit") or 100)
        except (TypeError, ValueError):
            raise MethodError("invalid_arguments") from None
        if limit > HISTORY_PAGE_MAX:
            raise MethodError("invalid_limit")
        inclusive = flag(params.get("inclusive"))
        with_metadata = flag(params.get("include_all_metadata"))

        def within(ts: float) -> bool:
            return oldest <= ts <= latest if inclusive else oldest < ts < latest

        listed = [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
            for m in reversed(self._messages.get(conversation.id, []))
            if within(float(m["ts"])) and m.get("thread_ts") in (None, m["ts"])
        ]
        page, cursor = paginate(listed, {**params, "limit": limit})
        return {
            "messages": page,
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversations_info(self, params: Json) -> Json:
        return {"channel": self._visible(str(params.get("channel") or "")).to_slack()}
