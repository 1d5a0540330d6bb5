"""What the fake Discord holds, and the lookups every layer of it shares."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web

from tests.fakes.discord._constants import (
    API_VERSION,
    BOT_NAME,
    BOT_PERMISSIONS,
    BOT_TOKEN,
    BOT_USER_ID,
    DISCORD_EPOCH_MS,
    DM,
    EPHEMERAL,
    EVERYONE_PERMISSIONS,
    FIRST_SNOWFLAKE,
    GUILD_ID,
    GUILD_NAME,
    OWNER_ID,
    Json,
)
from tests.fakes.discord._errors import ApiError, Failure
from tests.fakes.discord._http import Route
from tests.fakes.discord._meter import Meter
from tests.fakes.discord._model import Channel, Guild, Interaction, Role, Session, User, Webhook
from tests.fakes.discord._records import Call, FakeMessage, FakeThread, InteractionResponse, Throttle
from tests.fakes.discord.limits import GLOBAL_PER_SECOND, LIMITS, RouteLimit


@dataclass(eq=False)
class State:
    """``FakeDiscord``'s fields (its docstring says what they mean) and the guild it starts with.

    The layers above (``_shapes``, ``_gateway``, the ``_rest_*`` routes, the drivers) add behaviour
    only; everything they read or change lives here.
    """

    token: str = BOT_TOKEN
    members_intent_granted: bool = False
    presences_intent_granted: bool = False
    message_content_intent_granted: bool = False
    clock: Callable[[], float] = time.monotonic
    calls: list[Call] = field(default_factory=list, init=False)
    messages: dict[int, FakeMessage] = field(default_factory=dict, init=False)
    threads: dict[int, FakeThread] = field(default_factory=dict, init=False)
    responses: list[InteractionResponse] = field(default_factory=list, init=False)
    commands: list[Json] = field(default_factory=list, init=False)
    guild_commands: dict[int, list[Json]] = field(default_factory=dict, init=False)
    identify_payloads: list[Json] = field(default_factory=list, init=False)
    resume_payloads: list[Json] = field(default_factory=list, init=False)
    connections: int = field(default=0, init=False)
    _users: dict[int, User] = field(default_factory=dict, init=False, repr=False)
    _guilds: dict[int, Guild] = field(default_factory=dict, init=False, repr=False)
    _channels: dict[int, Channel] = field(default_factory=dict, init=False, repr=False)
    _dms: dict[int, int] = field(default_factory=dict, init=False, repr=False)  # user id -> DM channel id
    _webhooks: dict[int, Webhook] = field(default_factory=dict, init=False, repr=False)
    _command_ids: dict[tuple[int | None, str, int], int] = field(default_factory=dict, init=False, repr=False)
    _interactions: dict[int, Interaction] = field(default_factory=dict, init=False, repr=False)
    _by_token: dict[str, Interaction] = field(default_factory=dict, init=False, repr=False)
    _sessions: dict[str, Session] = field(default_factory=dict, init=False, repr=False)
    _failures: list[Failure] = field(default_factory=list, init=False, repr=False)
    wall: Callable[[], float] = time.time  # snowflakes carry the Unix time they were made, as on Discord
    reply_latency: float = 0.0  # seconds between a REST request taking effect and its answer leaving
    enforce_limits: bool = False
    rate_limits: Mapping[str, RouteLimit] = field(default_factory=lambda: LIMITS, repr=False)
    global_per_second: int = GLOBAL_PER_SECOND
    throttled: list[Throttle] = field(default_factory=list, init=False, repr=False)
    early_calls: list[Throttle] = field(default_factory=list, init=False, repr=False)
    untabled_calls: list[Call] = field(default_factory=list, init=False, repr=False)
    _meter: Meter = field(init=False, repr=False)
    _by_channel: dict[int, list[FakeMessage]] = field(default_factory=dict, init=False, repr=False)
    _last_id: int = field(default=FIRST_SNOWFLAKE, init=False, repr=False)
    _routes: list[Route] = field(default_factory=list, init=False, repr=False)
    _runner: web.AppRunner | None = field(default=None, init=False, repr=False)
    _port: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._users[BOT_USER_ID] = User(BOT_USER_ID, BOT_NAME.lower(), bot=True)
        self._users[OWNER_ID] = User(OWNER_ID, "owner")
        guild = Guild(GUILD_ID, GUILD_NAME, OWNER_ID)
        self._guilds[GUILD_ID] = guild
        guild.roles[GUILD_ID] = Role(GUILD_ID, "@everyone", 0, EVERYONE_PERMISSIONS)
        bot_role = self._next_id()
        guild.roles[bot_role] = Role(
            bot_role, BOT_NAME, 1, BOT_PERMISSIONS, managed=True, tags={"bot_id": str(BOT_USER_ID)}
        )
        guild.members[BOT_USER_ID] = [bot_role]
        guild.members[OWNER_ID] = []
        self._meter = Meter(self.global_per_second)

    # -- addresses --

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, once started."""
        if self._port is None:
            raise RuntimeError("FakeDiscord is not running; use `async with FakeDiscord() as discord:`")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """What ``discord.http.Route.BASE`` must be: ``http://127.0.0.1:PORT/api/v10``."""
        return f"{self.base_url}/api/v{API_VERSION}"

    @property
    def gateway_url(self) -> str:
        """What ``DiscordWebSocket.DEFAULT_GATEWAY`` must be: ``ws://127.0.0.1:PORT/gateway``."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    # -- model helpers --

    def _next_id(self) -> int:
        now = (int(self.wall() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last_id = max(self._last_id + (1 << 22), now)
        return self._last_id

    def _gateway_base(self) -> str:
        return self.gateway_url

    def _guild(self, guild_id: int) -> Guild:
        try:
            return self._guilds[guild_id]
        except KeyError:
            raise ApiError(404, 10004, "Unknown Guild") from None

    def _user(self, user_id: int) -> User:
        try:
            return self._users[user_id]
        except KeyError:
            raise ApiError(404, 10013, "Unknown User") from None

    def _channel(self, channel_id: int) -> Channel:
        try:
            return self._channels[channel_id]
        except KeyError:
            raise ApiError(404, 10003, "Unknown Channel") from None

    def _message(self, message_id: int) -> FakeMessage:
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise ApiError(404, 10008, "Unknown Message")
        return message

    def _stored(self, message_id: int) -> FakeMessage:
        """For the drivers: a message the test means must exist."""
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise AssertionError(f"the fake holds no message {message_id}")
        return message

    def _guild_of(self, channel: Channel) -> int | None:
        return channel.guild_id

    def _open_dm(self, user_id: int) -> int:
        channel_id = self._dms.get(user_id)
        if channel_id is None:
            channel_id = self._next_id()
            self._dms[user_id] = channel_id
            self._channels[channel_id] = Channel(channel_id, DM, recipient_id=user_id)
        return channel_id

    def _store_message(self, channel_id: int, author_id: int, body: Json) -> FakeMessage:
        message = FakeMessage(
            id=self._next_id(),
            channel_id=channel_id,
            author_id=author_id,
            content=str(body.get("content") or ""),
            embeds=list(body.get("embeds") or []),
            components=list(body.get("components") or []),
            nonce=body.get("nonce"),
            flags=int(body.get("flags") or 0),
            allowed_mentions=body.get("allowed_mentions"),
            message_reference=body.get("message_reference"),
            created_at=self.clock(),
        )
        self.messages[message.id] = message
        self._by_channel.setdefault(channel_id, []).append(message)
        channel = self._channels[channel_id]
        channel.last_message_id = message.id
        channel.message_count += 1
        return message

    def _edit(self, message: FakeMessage, body: Json) -> None:
        if "content" in body:
            message.content = str(body["content"] or "")
        if "embeds" in body:
            message.embeds = list(body["embeds"] or [])
        if "components" in body:
            message.components = list(body["components"] or [])
        if "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        if body.get("flags") is not None:
            message.flags = int(body["flags"]) | (message.flags & EPHEMERAL)
        message.edits += 1

    # -- reading what happened (the routes read it too) --

    def messages_in(self, channel_id: int, *, include_deleted: bool = False) -> list[FakeMessage]:
        """Messages in a channel, DM or thread, oldest first (ephemeral interaction messages included)."""
        # Kept per channel, in the order they were made (ids only grow): a post looks up its nonce here.
        # A test may drop a message from ``messages`` to play one that never arrived; it is gone then.
        stored = self.messages
        return [
            m
            for m in self._by_channel.get(channel_id, ())
            if stored.get(m.id) is m and (include_deleted or not m.deleted)
        ]
