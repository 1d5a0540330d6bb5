"""REST routes for guilds: the guild, its members, roles and channels."""

from __future__ import annotations

from typing import Any

from tests.fakes.discord._errors import ApiError
from tests.fakes.discord._gateway import Gateway
from tests.fakes.discord._http import ApiRequest
from tests.fakes.discord._model import Guild
from tests.fakes.discord._shapes import guild_json


class GuildRoutes(Gateway):
    """``/guilds/...``; listing members needs the Server Members intent granted."""

    async def _get_guild(self, request: ApiRequest) -> tuple[int, Any]:
        guild = self._guild_for(request)
        payload = guild_json(guild)
        if request.query.get("with_counts") in ("true", "1"):
            payload["approximate_member_count"] = len(guild.members)
            payload["approximate_presence_count"] = 0
        return 200, payload

    async def _get_members(self, request: ApiRequest) -> tuple[int, Any]:
        guild = self._guild_for(request)
        if not self.members_intent_granted:
            raise ApiError(403, 50001, "Missing Access")
        limit = int(request.query.get("limit", 1))
        if not 1 <= limit <= 1000:
            raise ApiError(400, 50035, "Invalid Form Body", {"limit": {"_errors": [{"code": "NUMBER_TYPE_MAX"}]}})
        after = int(request.query.get("after", 0))
        ids = sorted(user_id for user_id in guild.members if user_id > after)[:limit]
        return 200, [self._member_json(guild.id, user_id) for user_id in ids]

    async def _get_member(self, request: ApiRequest) -> tuple[int, Any]:
        guild = self._guild_for(request)
        user_id = int(request.params["user"])
        if user_id not in guild.members:
            raise ApiError(404, 10007, "Unknown Member")
        return 200, self._member_json(guild.id, user_id)

    async def _get_roles(self, request: ApiRequest) -> tuple[int, Any]:
        return 200, [role.to_json() for role in self._guild_for(request).roles.values()]

    async def _get_guild_channels(self, request: ApiRequest) -> tuple[int, Any]:
        guild = self._guild_for(request)
        return 200, [self._channel_json(self._channels[c]) for c in guild.channel_ids]

    def _guild_for(self, request: ApiRequest) -> Guild:
        return self._guild(int(request.params["guild"]))
