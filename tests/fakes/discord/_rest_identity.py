"""REST routes for the gateway's address, the bot's user, other users, the application and its commands."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from tests.fakes.discord._constants import (
    APP_ID,
    BOT_NAME,
    BOT_PERMISSIONS,
    BOT_USER_ID,
    OWNER_ID,
    Json,
)
from tests.fakes.discord._errors import ApiError
from tests.fakes.discord._gateway import Gateway
from tests.fakes.discord._http import ApiRequest


class IdentityRoutes(Gateway):
    """``/gateway``, ``/users``, ``/applications``: who the bot is, and the commands it syncs."""

    # gateway and identity

    async def _get_gateway(self, request: ApiRequest) -> tuple[int, Any]:
        return 200, {"url": self._gateway_base()}

    async def _get_gateway_bot(self, request: ApiRequest) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 1000 - self.connections, "reset_after": 86_400_000, "max_concurrency": 1}
        return 200, {"url": self._gateway_base(), "shards": 1, "session_start_limit": limit}

    async def _get_me(self, request: ApiRequest) -> tuple[int, Any]:
        return 200, self._bot_user_json()

    async def _get_user(self, request: ApiRequest) -> tuple[int, Any]:
        return 200, self._user(int(request.params["user"])).to_json()

    async def _get_application(self, request: ApiRequest) -> tuple[int, Any]:
        return 200, {
            "id": str(APP_ID),
            "name": BOT_NAME,
            "icon": None,
            "description": "Release communications",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": hashlib.sha256(b"herald").hexdigest(),
            "owner": self._users[OWNER_ID].to_json(),
            "team": None,
            "flags": 0,
            "bot": self._users[BOT_USER_ID].to_json(),
            "approximate_guild_count": len(self._guilds),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "install_params": {"scopes": ["bot", "applications.commands"], "permissions": BOT_PERMISSIONS},
            "integration_types_config": {"0": {}},
            "tags": [],
        }

    # application commands

    async def _get_commands(self, request: ApiRequest) -> tuple[int, Any]:
        self._check_app(request)
        guild = request.params.get("guild")
        return 200, copy.deepcopy(self.guild_commands.get(int(guild), []) if guild else self.commands)

    async def _put_commands(self, request: ApiRequest) -> tuple[int, Any]:
        self._check_app(request)
        if not isinstance(request.body, list):
            raise ApiError(400, 50035, "Invalid Form Body")
        guild_id = int(request.params["guild"]) if "guild" in request.params else None
        if guild_id is not None:
            self._guild(guild_id)
        synced = [self._registered_command(dict(c), guild_id) for c in request.body]
        if guild_id is None:
            self.commands = synced
        else:
            self.guild_commands[guild_id] = synced
        return 200, copy.deepcopy(synced)

    def _registered_command(self, sent: Json, guild_id: int | None) -> Json:
        kind = int(sent.get("type", 1))
        key = (guild_id, str(sent["name"]), kind)
        command_id = self._command_ids.setdefault(key, self._next_id())
        command: Json = {
            "id": str(command_id),
            "application_id": str(APP_ID),
            "version": str(self._next_id()),
            "type": kind,
            "name": sent["name"],
            "description": sent.get("description", ""),
            "options": sent.get("options", []),
            "default_member_permissions": sent.get("default_member_permissions"),
            "dm_permission": sent.get("dm_permission", True),
            "nsfw": sent.get("nsfw", False),
            "contexts": sent.get("contexts"),
            "integration_types": sent.get("integration_types", [0]),
            "name_localizations": sent.get("name_localizations"),
            "description_localizations": sent.get("description_localizations"),
        }
        if guild_id is not None:
            command["guild_id"] = str(guild_id)
        return command

    def _check_app(self, request: ApiRequest) -> None:
        if int(request.params["app"]) != APP_ID:
            raise ApiError(403, 50001, "Missing Access")
