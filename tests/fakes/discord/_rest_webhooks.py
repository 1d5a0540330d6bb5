"""REST routes for a channel's incoming webhooks: describe one, execute it, edit what it posted.

A webhook's token is its only credential (no bot token). Its posts are the webhook's, in its
channel: ``webhook_id`` set, the author the webhook under the name the post gave. Only a webhook
the application created may post interactive components; another's are dropped, as Discord
ignores them, unless ``with_components`` asks, which Discord refuses for buttons.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.fakes.discord._errors import ApiError, check_content, json_object
from tests.fakes.discord._gateway import Gateway
from tests.fakes.discord._http import ApiRequest
from tests.fakes.discord._model import Webhook
from tests.fakes.discord._records import FakeMessage, walk_components

_YES = ("1", "true", "True")
_RESERVED_NAMES = ("clyde", "discord")  # refused in a webhook's name (developers/resources/webhook.mdx)


class WebhookRoutes(Gateway):
    """``/webhooks/{webhook}/{token}...`` for a channel's webhooks (an interaction's are ``InteractionRoutes``)."""

    async def _get_webhook(self, request: ApiRequest) -> tuple[int, Any]:
        hook = self._webhook(request)
        return 200, hook.to_json(self._channels[hook.channel_id].guild_id)

    async def _execute_webhook(self, request: ApiRequest) -> tuple[int, Any]:
        hook = self._webhook(request)
        body = self._postable(hook, json_object(request.body), request.query)
        check_content(body)
        username = body.get("username")
        if username is not None and not _valid_name(str(username)):
            raise ApiError(400, 50035, "Invalid Form Body", {"username": {"_errors": [{"code": "USERNAME_INVALID"}]}})
        message = self._store_message(hook.channel_id, hook.id, body)
        message.webhook_id = hook.id
        message.username = None if username is None else str(username)
        message.avatar_url = None if body.get("avatar_url") is None else str(body["avatar_url"])
        await self._announce_message(message)
        if request.query.get("wait") in _YES:
            return 200, self._message_json(message)
        return 204, None

    async def _edit_webhook_post(self, request: ApiRequest) -> tuple[int, Any]:
        hook = self._webhook(request)
        message = self._post_of(hook, int(request.params["message"]))
        self._edit(message, self._postable(hook, json_object(request.body), request.query))
        await self._broadcast_message("MESSAGE_UPDATE", message)
        return 200, self._message_json(message)

    def _webhook(self, request: ApiRequest) -> Webhook:
        hook = self._webhooks.get(int(request.params["webhook"]))
        if hook is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        if hook.token != request.params["token"]:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return hook

    def _post_of(self, hook: Webhook, message_id: int) -> FakeMessage:
        """A message this webhook posted; any other, the bot's too, is unknown to it."""
        message = self.messages.get(message_id)
        if message is None or message.deleted or message.webhook_id != hook.id:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    @staticmethod
    def _postable(hook: Webhook, body: dict[str, Any], query: Mapping[str, str]) -> dict[str, Any]:
        """The body as Discord takes it from this webhook: interactive components only from the application's."""
        components = body.get("components") or []
        interactive = any("custom_id" in c for c in walk_components(components))
        if hook.application_owned or not interactive:
            return body
        if query.get("with_components") in _YES:
            raise ApiError(
                400, 50035, "Invalid Form Body", {"components": {"_errors": [{"code": "COMPONENT_INVALID"}]}}
            )
        return {key: value for key, value in body.items() if key != "components"}


def _valid_name(name: str) -> bool:
    return 1 <= len(name.strip()) <= 80 and not any(word in name.lower() for word in _RESERVED_NAMES)
