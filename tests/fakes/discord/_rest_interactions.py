"""REST routes for interactions: the callback, follow-ups, and the webhook messages they made."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord._constants import (
    APP_ID,
    BOT_USER_ID,
    EPHEMERAL,
    LOADING,
    Json,
)
from tests.fakes.discord._errors import ApiError, check_content, json_object
from tests.fakes.discord._gateway import Gateway
from tests.fakes.discord._http import ApiRequest
from tests.fakes.discord._model import Interaction
from tests.fakes.discord._records import FakeMessage, InteractionResponse


class InteractionRoutes(Gateway):
    """``/interactions/.../callback`` and ``/webhooks/{app}/{token}/...``: how the client answers an interaction."""

    async def _callback(self, request: ApiRequest) -> tuple[int, Any]:
        interaction = self._interactions.get(int(request.params["interaction"]))
        if interaction is None or interaction.token != request.params["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        if interaction.response is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = json_object(request.body)
        kind = int(body.get("type", 0))
        data: Json = dict(body.get("data") or {})
        if kind not in (1, 4, 5, 6, 7, 8, 9, 12):
            raise ApiError(400, 50035, "Invalid Form Body", {"type": {"_errors": [{"code": "BASE_TYPE_CHOICES"}]}})
        if kind in (6, 7) and interaction.type != 3 and interaction.message_id is None:
            raise ApiError(400, 40004, "Interaction response type is not valid for this interaction")
        if kind == 9 and interaction.type == 5:
            raise ApiError(400, 40004, "Interaction response type is not valid for this interaction")
        response = InteractionResponse(
            interaction.id, interaction.type, interaction.token, interaction.user_id, interaction.channel_id,
            kind, data, at=self.clock(),
        )  # fmt: skip
        resource: Json = {"type": kind}
        if kind == 4:
            check_content(data)
            message = self._interaction_message(interaction, data)
            response.message_id = message.id
            resource["message"] = self._message_json(message)
        elif kind == 5:
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            message = self._interaction_message(interaction, {"content": "", "flags": flags})
            response.message_id = message.id
            resource["message"] = self._message_json(message)
        elif kind in (6, 7) and interaction.message_id is not None:
            message = self.messages[interaction.message_id]
            response.message_id = message.id
            if kind == 7:
                self._edit(message, data)
                await self._broadcast_message("MESSAGE_UPDATE", message)
            resource["message"] = self._message_json(message)
        interaction.response = response
        self.responses.append(response)
        if not interaction.answered.done():
            interaction.answered.set_result(response)
        answer: Json = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_id": str(response.message_id) if response.message_id else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": response.ephemeral or bool(int(data.get("flags") or 0) & EPHEMERAL),
            },
            "resource": resource,
        }
        if request.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        return 200, answer

    def _interaction_message(self, interaction: Interaction, data: Json) -> FakeMessage:
        message = self._store_message(interaction.channel_id, BOT_USER_ID, data)
        message.webhook_id = APP_ID
        message.interaction_id = interaction.id
        return message

    async def _post_followup(self, request: ApiRequest) -> tuple[int, Any]:
        interaction = self._webhook_interaction(request)
        body = json_object(request.body)
        check_content(body)
        assert interaction.response is not None
        interaction.response.followups.append(body)
        message = self._interaction_message(interaction, body)
        if request.query.get("wait") in ("1", "true", "True"):
            return 200, self._message_json(message)
        return 204, None

    async def _get_webhook_message(self, request: ApiRequest) -> tuple[int, Any]:
        return 200, self._message_json(self._webhook_message(request))

    async def _patch_webhook_message(self, request: ApiRequest) -> tuple[int, Any]:
        message = self._webhook_message(request)
        body = json_object(request.body)
        interaction = self._webhook_interaction(request)
        assert interaction.response is not None
        if request.params["webhook_message"] == "@original":
            interaction.response.edits.append(body)
        message.flags &= ~LOADING
        self._edit(message, body)
        return 200, self._message_json(message)

    async def _delete_webhook_message(self, request: ApiRequest) -> tuple[int, Any]:
        message = self._webhook_message(request)
        message.deleted = True
        return 204, None

    def _webhook_interaction(self, request: ApiRequest) -> Interaction:
        interaction = self._by_token.get(request.params["token"])
        if int(request.params["app"]) != APP_ID or interaction is None or interaction.response is None:
            raise ApiError(404, 10015, "Unknown Webhook")
        return interaction

    def _webhook_message(self, request: ApiRequest) -> FakeMessage:
        interaction = self._webhook_interaction(request)
        assert interaction.response is not None
        wanted = request.params["webhook_message"]
        message_id = interaction.response.message_id if wanted == "@original" else int(wanted)
        message = self.messages.get(message_id or 0)
        if message is None or message.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return message
