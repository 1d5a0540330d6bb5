"""The fake Discord's own model: users, roles, channels, guilds, pending interactions, gateway sessions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.discord._constants import APP_ID, Json
from tests.fakes.discord._records import InteractionResponse


@dataclass(slots=True)
class User:
    id: int
    name: str
    bot: bool = False
    dms_open: bool = True

    def to_json(self) -> Json:
        return {
            "id": str(self.id),
            "username": self.name,
            "discriminator": "0",
            "global_name": None if self.bot else self.name.title(),
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }


@dataclass(slots=True)
class Role:
    id: int
    name: str
    position: int
    permissions: str = "0"
    managed: bool = False
    tags: Json | None = None

    def to_json(self) -> Json:
        payload: Json = {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": self.permissions,
            "managed": self.managed,
            "mentionable": False,
            "flags": 0,
        }
        if self.tags is not None:
            payload["tags"] = self.tags
        return payload


@dataclass(slots=True)
class Channel:
    id: int
    type: int
    name: str | None = None
    guild_id: int | None = None
    parent_id: int | None = None
    position: int = 0
    recipient_id: int | None = None  # for a DM
    last_message_id: int | None = None
    message_count: int = 0


@dataclass(slots=True)
class Webhook:
    """A channel's incoming webhook: anyone holding its token posts in its channel, under its name."""

    id: int
    token: str
    channel_id: int
    name: str
    application_owned: bool = False  # created by the bot's application: its posts may carry buttons

    def to_json(self, guild_id: int | None) -> Json:
        """As Get Webhook with Token answers: no ``user``."""
        return {
            "id": str(self.id),
            "type": 1,
            "guild_id": str(guild_id) if guild_id is not None else None,
            "channel_id": str(self.channel_id),
            "name": self.name,
            "avatar": None,
            "application_id": str(APP_ID) if self.application_owned else None,
            "token": self.token,
        }

    def author_json(self, username: str | None) -> Json:
        """The author a post of this webhook shows: the webhook, under the name the post gave, if any."""
        return {
            "id": str(self.id),
            "username": username or self.name,
            "discriminator": "0000",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass(slots=True)
class Guild:
    id: int
    name: str
    owner_id: int
    channel_ids: list[int] = field(default_factory=list)
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)  # user id -> role ids


@dataclass(slots=True)
class Interaction:
    id: int
    token: str
    type: int
    user_id: int
    channel_id: int
    guild_id: int | None
    message_id: int | None  # the message a component sat on
    answered: asyncio.Future[InteractionResponse]
    response: InteractionResponse | None = None


@dataclass(eq=False, slots=True)
class Session:
    id: str
    intents: int
    shard: list[int] | None
    socket: web.WebSocketResponse | None
    seq: int = 0
    backlog: list[Json] = field(default_factory=list)  # dispatches kept for a RESUME
    ended: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def live(self) -> bool:
        return self.socket is not None and not self.socket.closed and not self.ended
