"""A fake Discord for tests: the REST API and the gateway, served to a real discord.py client.

``FakeDiscord`` is a real aiohttp server on 127.0.0.1. ``fake.patched()`` points discord.py's two
hard-coded addresses at it (``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``),
after which an unmodified ``discord.Client`` or ``commands.Bot`` logs in over REST, IDENTIFYs over
the gateway, gets READY and GUILD_CREATE, and talks to a small guild ("Herald Test") that tests seed
with ``add_channel``, ``add_user`` and ``add_role``.

Everything the client does is recorded: every REST call (``calls``), the messages it posted or
edited (``messages``), threads, DMs, the application commands it synced, and every interaction
callback with its follow-ups (``responses``). Tests drive the client the way Discord would:
``slash_command``, ``click`` and ``submit_modal`` send an INTERACTION_CREATE and wait for the
client's callback; ``react``, ``unreact`` and ``dispatch`` send gateway events. Faults are queued
with ``fail_next`` (a 429 with ``retry_after`` by default, or any status with a JSON error code).

With ``enforce_limits=True`` it holds the client to Discord's rate limits, as tabled in
``tests/fakes/discord_rate_limits.py``: the global 50 requests a second (interaction endpoints aside) and
each route's bucket, kept per channel, guild or webhook. Every answer then carries that bucket's
real state in ``X-RateLimit-Limit``/``-Remaining``/``-Reset``/``-Reset-After``/``-Bucket`` (none for
a route with no limit of its own, as on Discord); a call over a limit gets Discord's 429 and is
recorded in ``throttled``, and one inside a window the client had been told to wait out also in
``early_calls``. A served route with no row answers 501 and is recorded in ``untabled_calls``.

Shapes follow Discord API v10 as discord.py 2.7 parses them (``discord/types/``). Things discord.py
insists on, found while building this: every JSON answer must carry ``Content-Type`` exactly
``application/json`` (no charset), a 429 without a ``Via`` header is taken for a Cloudflare ban and
not retried, and an interaction payload without ``attachment_size_limit`` fails to parse.

It does not model permissions or channel overwrites, Discord's anti-spam limits (queue a 403 with
code 40003, "You are opening direct messages too fast", instead), the 3-second interaction deadline
on the client side (the drivers simply time out), attachments, zlib-compressed gateway frames (plain
text frames are allowed), sharding, or voice.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeAlias

import yarl
from aiohttp import WSCloseCode, WSMsgType, web

from tests.eventually import eventually
from tests.fakes.discord_rate_limits import GLOBAL_PER_SECOND, LIMITS, Admitted, Major, Meter, RouteLimit, bucket_hash

__all__ = [
    "APP_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "GUILD_ID",
    "OWNER_ID",
    "Call",
    "FakeDiscord",
    "FakeMessage",
    "FakeThread",
    "InteractionResponse",
    "Throttle",
]

APP_ID = 1_190_000_000_000_000_001
BOT_USER_ID = 1_190_000_000_000_000_002  # a different number from APP_ID on purpose: mixing them up shows
GUILD_ID = 1_190_000_000_000_000_003
OWNER_ID = 1_190_000_000_000_000_004  # owns the application and the guild
BOT_TOKEN = "fake-discord-token"
BOT_NAME = "Herald"
GUILD_NAME = "Herald Test"
API_VERSION = 10

Json: TypeAlias = dict[str, Any]

# Gateway intents (developers/events/gateway.mdx).
_GUILDS = 1 << 0
_GUILD_MEMBERS = 1 << 1
_GUILD_PRESENCES = 1 << 8
_GUILD_MESSAGES = 1 << 9
_GUILD_MESSAGE_REACTIONS = 1 << 10
_DIRECT_MESSAGES = 1 << 12
_DIRECT_MESSAGE_REACTIONS = 1 << 13
_MESSAGE_CONTENT = 1 << 15

# Channel types.
_TEXT = 0
_DM = 1
_PUBLIC_THREAD = 11
_PRIVATE_THREAD = 12

_EPHEMERAL = 1 << 6
_LOADING = 1 << 7
_HEARTBEAT_INTERVAL_MS = 41_250
_NONCE_WINDOW_S = 300.0  # Discord de-duplicates an enforced nonce for "a few minutes"
_DISCORD_EPOCH_MS = 1_420_070_400_000
_FIRST_SNOWFLAKE = (1_735_689_600_000 - _DISCORD_EPOCH_MS) << 22  # 2025-01-01
_SNOWFLAKE = r"\d+"
_ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
# What the bot may do in the guild: add reactions, view, send, embed, read history, external emojis,
# create public threads, send in threads. app_permissions in interactions carries this.
_BOT_PERMISSIONS = str(sum(1 << bit for bit in (6, 10, 11, 14, 15, 16, 18, 35, 38)))
_EVERYONE_PERMISSIONS = str(sum(1 << bit for bit in (6, 10, 11, 14, 15, 16, 31, 35, 38)))
_MEMBER_PERMISSIONS = _EVERYONE_PERMISSIONS


# --- what the fake records -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Call:
    """One REST request: the route without ``/api/v10``, its query and JSON body, and the status given."""

    method: str
    path: str
    query: Mapping[str, str]
    json: Any
    headers: Mapping[str, str]
    status: int
    at: float
    route: str = ""  # ``METHOD /route`` as tabled in tests/fakes/discord_rate_limits.py ("" for an unknown path)

    @property
    def authorized(self) -> bool:
        """Whether the request carried an ``Authorization`` header."""
        return "Authorization" in self.headers


@dataclass(frozen=True, slots=True)
class Throttle:
    """A 429 the rate limits gave: the route, the counter that refused it, when, and for how long.

    ``scope`` is ``"global"`` or ``"user"`` (the route's own bucket), as ``X-RateLimit-Scope`` said;
    ``early`` says the client had already been told to wait past this moment.
    """

    route: str
    bucket: str
    at: float
    retry_after: float
    scope: str
    early: bool


@dataclass(slots=True)
class FakeMessage:
    """A message as the fake stores it; ``components`` and ``embeds`` are the raw JSON sent."""

    id: int
    channel_id: int
    author_id: int
    content: str = ""
    embeds: list[Json] = field(default_factory=list)
    components: list[Json] = field(default_factory=list)
    nonce: str | int | None = None
    flags: int = 0
    allowed_mentions: Json | None = None
    message_reference: Json | None = None
    edits: int = 0
    thread_id: int | None = None
    deleted: bool = False
    webhook_id: int | None = None  # set on interaction responses and follow-ups
    interaction_id: int | None = None
    reactions: dict[str, set[int]] = field(default_factory=dict)  # emoji -> users, the bot included
    created_at: float = 0.0

    @property
    def ephemeral(self) -> bool:
        """Whether only the interacting user can see it."""
        return bool(self.flags & _EPHEMERAL)

    def custom_ids(self) -> list[str]:
        """Every ``custom_id`` in the message's components, in order."""
        return [str(c["custom_id"]) for c in _walk_components(self.components) if "custom_id" in c]


@dataclass(slots=True)
class FakeThread:
    """A thread the client created; a thread started from a message has that message's id."""

    id: int
    parent_channel_id: int
    name: str
    starter_message_id: int | None
    type: int = _PUBLIC_THREAD
    owner_id: int = BOT_USER_ID
    auto_archive_duration: int = 1440


@dataclass(slots=True)
class InteractionResponse:
    """How the client answered one interaction: the callback, then follow-ups and edits of ``@original``.

    ``type`` is the callback type: 4 message, 5 deferred message, 6 deferred update, 7 update message,
    9 modal. ``data`` is the callback's raw ``data``; ``message_id`` the message it created or updated.
    """

    interaction_id: int
    interaction_type: int  # 2 command, 3 component, 5 modal submit
    token: str
    user_id: int
    channel_id: int
    type: int
    data: Json
    message_id: int | None = None
    followups: list[Json] = field(default_factory=list)
    edits: list[Json] = field(default_factory=list)
    at: float = 0.0

    @property
    def content(self) -> str | None:
        """The callback's message content, if it had one."""
        content = self.data.get("content")
        return None if content is None else str(content)

    @property
    def ephemeral(self) -> bool:
        """Whether the response message was ephemeral."""
        return bool(int(self.data.get("flags") or 0) & _EPHEMERAL)


# --- the fake's own model --------------------------------------------------------------------------


@dataclass(slots=True)
class _User:
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
class _Role:
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
class _Channel:
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
class _Guild:
    id: int
    name: str
    owner_id: int
    channel_ids: list[int] = field(default_factory=list)
    roles: dict[int, _Role] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)  # user id -> role ids


@dataclass(slots=True)
class _Failure:
    method: str
    path: re.Pattern[str]
    status: int
    retry_after: float
    code: int | None
    message: str | None
    global_: bool
    times: int

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.path.fullmatch(path) is not None


@dataclass(slots=True)
class _Interaction:
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
class _Session:
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


class _ApiError(Exception):
    """Raised inside a route handler; becomes Discord's ``{"code", "message"}`` error body."""

    def __init__(self, status: int, code: int, message: str, errors: Json | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> Json:
        payload: Json = {"code": self.code, "message": self.message}
        if self.errors is not None:
            payload["errors"] = self.errors
        return payload


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    body: Any


_Handler: TypeAlias = Callable[[_Request], Awaitable[tuple[int, Any]]]


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    template: str  # /channels/{channel}/messages
    pattern: re.Pattern[str]
    handler: _Handler
    needs_auth: bool

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


@dataclass(eq=False)
class FakeDiscord:
    """Discord's REST API and gateway for one bot and one guild, on 127.0.0.1.

    Use it as ``async with FakeDiscord() as discord, discord.patched():`` and give a real discord.py
    client ``BOT_TOKEN``. The guild ``GUILD_ID`` ("Herald Test"), the bot's member and the guild
    owner exist from the start. A client with ``GUILD_MEMBERS``, ``GUILD_PRESENCES`` or
    ``MESSAGE_CONTENT`` in its intents is closed with 4014 unless the matching ``*_intent_granted``
    flag is set, as Discord does for privileged intents not switched on in the Developer Portal.

    Gateway events go to every session that has not ended; a session dropped by ``disconnect_all``
    gets what it missed when it RESUMEs, while one its client closed (code 1000) is over. An
    interaction goes, as on Discord, to one session only: the newest connected one.

    Rate limits are off unless ``enforce_limits`` is set; then every authorized call is metered by
    its row in ``rate_limits`` (by default ``tests/fakes/discord_rate_limits.LIMITS``) and by the global
    ``global_per_second``, on ``clock``. Queued 429s (``fail_next``) count as told waits: a call
    inside one is early too. Without ``enforce_limits`` every answer carries the same roomy headers.
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
    _users: dict[int, _User] = field(default_factory=dict, init=False, repr=False)
    _guilds: dict[int, _Guild] = field(default_factory=dict, init=False, repr=False)
    _channels: dict[int, _Channel] = field(default_factory=dict, init=False, repr=False)
    _dms: dict[int, int] = field(default_factory=dict, init=False, repr=False)  # user id -> DM channel id
    _command_ids: dict[tuple[int | None, str, int], int] = field(default_factory=dict, init=False, repr=False)
    _interactions: dict[int, _Interaction] = field(default_factory=dict, init=False, repr=False)
    _by_token: dict[str, _Interaction] = field(default_factory=dict, init=False, repr=False)
    _sessions: dict[str, _Session] = field(default_factory=dict, init=False, repr=False)
    _failures: list[_Failure] = field(default_factory=list, init=False, repr=False)
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
    _last_id: int = field(default=_FIRST_SNOWFLAKE, init=False, repr=False)
    _routes: list[_Route] = field(default_factory=list, init=False, repr=False)
    _runner: web.AppRunner | None = field(default=None, init=False, repr=False)
    _port: int | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._users[BOT_USER_ID] = _User(BOT_USER_ID, BOT_NAME.lower(), bot=True)
        self._users[OWNER_ID] = _User(OWNER_ID, "owner")
        guild = _Guild(GUILD_ID, GUILD_NAME, OWNER_ID)
        self._guilds[GUILD_ID] = guild
        guild.roles[GUILD_ID] = _Role(GUILD_ID, "@everyone", 0, _EVERYONE_PERMISSIONS)
        bot_role = self._next_id()
        guild.roles[bot_role] = _Role(
            bot_role, BOT_NAME, 1, _BOT_PERMISSIONS, managed=True, tags={"bot_id": str(BOT_USER_ID)}
        )
        guild.members[BOT_USER_ID] = [bot_role]
        guild.members[OWNER_ID] = []
        self._routes = self._route_table()
        self._meter = Meter(self.global_per_second)

    # -- lifecycle --

    async def start(self) -> None:
        """Serve on an ephemeral port of 127.0.0.1."""
        app = web.Application()
        app.router.add_route("*", f"/api/v{API_VERSION}/{{tail:.*}}", self._rest)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._rest_unversioned)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """Close every gateway session and stop serving; idempotent."""
        for session in self._sessions.values():
            session.ended = True
            if session.socket is not None and not session.socket.closed:
                await session.socket.close(code=WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for interaction in self._interactions.values():
            interaction.answered.cancel()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

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

    def point_discord_py_here(self) -> None:
        """Aim discord.py's REST base and default gateway at this fake (process-wide; see ``patched``)."""
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        Route.BASE = self.api_url
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    @contextlib.contextmanager
    def patched(self) -> Iterator[Self]:
        """``point_discord_py_here`` for the length of a ``with`` block, then put discord.com back."""
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        self.point_discord_py_here()
        try:
            yield self
        finally:
            Route.BASE = base
            DiscordWebSocket.DEFAULT_GATEWAY = gateway

    # -- seeding the guild --

    def add_guild(self, guild_id: int, name: str) -> None:
        """Add another guild the bot is in (it starts with the bot and the owner as members)."""
        guild = _Guild(guild_id, name, OWNER_ID)
        guild.roles[guild_id] = _Role(guild_id, "@everyone", 0, _EVERYONE_PERMISSIONS)
        guild.members[BOT_USER_ID] = []
        guild.members[OWNER_ID] = []
        self._guilds[guild_id] = guild

    def add_channel(self, channel_id: int, name: str, guild_id: int = GUILD_ID) -> None:
        """Add (or rename) a text channel in a guild."""
        guild = self._guild(guild_id)
        if channel_id not in guild.channel_ids:
            guild.channel_ids.append(channel_id)
        self._channels[channel_id] = _Channel(
            channel_id, _TEXT, name, guild_id, position=guild.channel_ids.index(channel_id)
        )

    def add_user(
        self,
        user_id: int,
        name: str,
        *,
        bot: bool = False,
        dms_open: bool = True,
        guild_id: int | None = GUILD_ID,
        roles: Iterable[int] = (),
    ) -> None:
        """Add (or replace) a user, a member of ``guild_id`` unless that is None.

        With ``dms_open=False`` a message into their DM channel gets 403 / 50007, as when a person has
        closed DMs from server members or shares no server with the bot.
        """
        self._users[user_id] = _User(user_id, name, bot=bot, dms_open=dms_open)
        if guild_id is not None:
            guild = self._guild(guild_id)
            for role in roles:
                if role not in guild.roles:
                    raise KeyError(f"no role {role} in guild {guild_id}; add_role first")
            guild.members[user_id] = list(roles)

    def add_role(self, role_id: int, name: str, guild_id: int = GUILD_ID) -> None:
        """Add (or rename) a role in a guild."""
        guild = self._guild(guild_id)
        guild.roles[role_id] = _Role(role_id, name, len(guild.roles), "0")

    # -- faults --

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 429,
        retry_after: float = 0.2,
        code: int | None = None,
        message: str | None = None,
        global_: bool = False,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests matching ``method`` (or ``"*"``) and ``path_regex`` with an error.

        ``path_regex`` must match the whole path without ``/api/v10`` (``r"/channels/\\d+/messages"``).
        A 429 carries ``{message, retry_after, global}``, ``Retry-After`` and the ``X-RateLimit-*``
        headers with ``X-RateLimit-Scope``; any other status carries ``{code, message}``. Failures
        queued for the same route are used in order.
        """
        self._failures.append(
            _Failure(method.upper(), re.compile(path_regex), status, retry_after, code, message, global_, times)
        )

    async def disconnect_all(self, *, code: int = 4000, resumable: bool = True) -> None:
        """Drop every gateway connection with ``code``; clients then RESUME (or re-IDENTIFY if not resumable)."""
        for session in list(self._sessions.values()):
            socket = session.socket
            if not resumable:
                session.ended = True
            if socket is not None and not socket.closed:
                session.socket = None
                await socket.close(code=code)

    # -- reading what happened --

    def calls_to(self, method: str, path_regex: str) -> list[Call]:
        """Recorded REST calls whose method (or ``"*"``) and whole path match, in arrival order."""
        pattern = re.compile(path_regex)
        return [c for c in self.calls if method.upper() in ("*", c.method) and pattern.fullmatch(c.path)]

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

    def dm_channel_of(self, user_id: int) -> int | None:
        """The DM channel opened with this user, if the client opened one."""
        return self._dms.get(user_id)

    def response_to(self, interaction_id: int) -> InteractionResponse | None:
        """The client's answer to one interaction, if it answered."""
        interaction = self._interactions.get(interaction_id)
        return None if interaction is None else interaction.response

    @property
    def live_sessions(self) -> int:
        """Gateway sessions currently connected and identified."""
        return sum(1 for s in self._sessions.values() if s.live)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``predicate()`` holds (``tests.eventually``); ``AssertionError`` after ``timeout`` seconds."""
        await eventually(predicate, within=timeout)

    # -- driving the client --

    async def slash_command(
        self,
        user_id: int,
        channel_id: int,
        name: str,
        options: list[Json] | Mapping[str, Any] | None = None,
        *,
        subcommand: str | None = None,
        guild_id: int | None = GUILD_ID,
        timeout: float = 3.0,  # noqa: ASYNC109 - a timeout here fails the test with what it waited for
    ) -> InteractionResponse:
        """Invoke ``/name [subcommand] option:value…`` as ``user_id``; return the client's callback.

        ``options`` is a list of ``{"name", "value"}`` (``"type"`` optional: taken from the synced
        command, else from the value's Python type) or a plain ``{name: value}`` mapping.
        ``subcommand`` may be ``"group sub"``. With ``guild_id=None`` it comes from the user's DM.
        """
        command, scope = self._find_command(name, guild_id)
        definitions: list[Json] = list(command.get("options", [])) if command else []
        leaf_options, path = definitions, (subcommand.split() if subcommand else [])
        for part in path:
            leaf_options = next((o.get("options", []) for o in leaf_options if o.get("name") == part), [])
        built = [_option(o, leaf_options) for o in _normalise_options(options)]
        for part, kind in reversed(list(zip(path, [2] * (len(path) - 1) + [1], strict=True))):
            built = [{"type": kind, "name": part, "options": built}]
        data: Json = {
            "id": str(command["id"]) if command else str(self._next_id()),
            "name": name,
            "type": 1,
            "options": built,
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        return await self._interact(2, user_id, channel_id, guild_id, data, None, timeout)

    async def click(
        self,
        user_id: int,
        message_id: int,
        custom_id: str,
        *,
        values: list[str] | None = None,
        timeout: float = 3.0,  # noqa: ASYNC109 - a timeout here fails the test with what it waited for
    ) -> InteractionResponse:
        """Press the button (or choose ``values`` in the select) with ``custom_id`` on a stored message."""
        message = self._stored(message_id)
        component = next((c for c in _walk_components(message.components) if c.get("custom_id") == custom_id), None)
        if component is None:
            raise AssertionError(f"message {message_id} has no component {custom_id!r}; it has {message.custom_ids()}")
        data: Json = {"custom_id": custom_id, "component_type": component["type"]}
        if "id" in component:
            data["id"] = component["id"]
        if component["type"] != 2:
            data["values"] = list(values or [])
        channel = self._channels[message.channel_id]
        guild_id = self._guild_of(channel)
        return await self._interact(3, user_id, channel.id, guild_id, data, message, timeout)

    async def submit_modal(
        self,
        user_id: int,
        custom_id: str,
        values: Mapping[str, str],
        *,
        channel_id: int,
        message_id: int | None = None,
        timeout: float = 3.0,  # noqa: ASYNC109 - a timeout here fails the test with what it waited for
    ) -> InteractionResponse:
        """Submit the modal ``custom_id`` with these text input values, as ``user_id`` in ``channel_id``.

        The submitted components mirror the modal the client last opened with this ``custom_id``
        (action rows, or labels) and are plain action rows of text inputs otherwise.
        """
        shown = next(
            (r.data for r in reversed(self.responses) if r.type == 9 and r.data.get("custom_id") == custom_id), None
        )
        components = _modal_submission(shown, values)
        message = self._stored(message_id) if message_id is not None else None
        if channel_id not in self._channels:
            raise AssertionError(f"no channel {channel_id}; add_channel first")
        guild_id = self._channels[channel_id].guild_id
        data: Json = {"custom_id": custom_id, "components": components}
        return await self._interact(5, user_id, channel_id, guild_id, data, message, timeout)

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
        await self._broadcast("MESSAGE_REACTION_ADD", payload, _reaction_intent(guild_id))

    async def unreact(self, user_id: int, message_id: int, emoji: str = "✅") -> None:
        """``user_id`` removes a reaction: MESSAGE_REACTION_REMOVE goes to every connected session."""
        message = self._stored(message_id)
        message.reactions.get(emoji, set()).discard(user_id)
        payload = self._reaction_event(user_id, message, emoji)
        payload["burst"] = False
        guild_id = self._guild_of(self._channels[message.channel_id])
        await self._broadcast("MESSAGE_REACTION_REMOVE", payload, _reaction_intent(guild_id))

    async def say(self, user_id: int, channel_id: int, content: str) -> FakeMessage:
        """``user_id`` posts a message; MESSAGE_CREATE goes out (content blank without MESSAGE_CONTENT)."""
        message = self._store_message(channel_id, user_id, {"content": content})
        await self._announce_message(message)
        return message

    async def dispatch(self, event: str, data: Json) -> None:
        """Send a raw gateway dispatch ``event`` with ``data`` to every connected session."""
        await self._broadcast(event, data, 0)

    # -- REST --

    async def _rest_unversioned(self, request: web.Request) -> web.Response:
        return await self._serve(request, "/" + request.match_info["tail"], known=False)

    async def _rest(self, request: web.Request) -> web.Response:
        return await self._serve(request, "/" + request.match_info["tail"], known=True)

    async def _serve(self, request: web.Request, path: str, *, known: bool) -> web.Response:
        at = self.clock()
        body = await _read_body(request)
        query = {k: v for k, v in request.query.items()}
        headers = {k: v for k, v in request.headers.items()}
        route, answered = await self._answer(request.method, path if known else "?" + path, query, body, headers, at)
        status, payload, extra = answered
        call = Call(request.method, path, query, body, headers, status, at, route)
        self.calls.append(call)
        if status == 501 and self.enforce_limits:
            self.untabled_calls.append(call)
        if self.reply_latency:  # the request has taken effect; its answer is still on its way
            await asyncio.sleep(self.reply_latency)
        extra.setdefault("Via", "1.1 google")  # discord.py treats a 429 without Via as a Cloudflare ban
        if status == 204:
            return web.Response(status=204, headers=extra)
        return web.Response(
            status=status, headers=extra, body=json.dumps(payload).encode(), content_type="application/json"
        )

    async def _answer(
        self, method: str, path: str, query: Mapping[str, str], body: Any, headers: Mapping[str, str], at: float
    ) -> tuple[str, tuple[int, Any, dict[str, str]]]:
        """The route the call matched (``METHOD /template``, or "") and the answer: status, body, headers."""
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None or route.method != method:
                continue
            if route.needs_auth and headers.get("Authorization") != f"Bot {self.token}":
                return route.key, (401, {"code": 0, "message": "401: Unauthorized"}, {})
            params = match.groupdict()
            if not self.enforce_limits:
                roomy = _ratelimit_headers(_bucket(method, route.pattern.pattern), wall=self.wall())
                return route.key, await self._handle(route, method, path, params, query, body, roomy)
            row = self.rate_limits.get(route.key)
            if row is None:
                detail = f"no documented rate limit for {route.key} in tests/fakes/discord_rate_limits.py"
                return route.key, (501, {"code": 0, "message": detail}, {})
            major = _major(row, params)
            verdict = self._meter.take(row, major, at)
            if not isinstance(verdict, Admitted):
                throttle = Throttle(route.key, verdict.bucket, at, verdict.retry_after, verdict.scope, verdict.early)
                self.throttled.append(throttle)
                if verdict.early:
                    self.early_calls.append(throttle)
                refused = _refusal(row, verdict.scope, verdict.retry_after, wall=self.wall())
                return route.key, refused
            limits = _admitted_headers(verdict, wall=self.wall())
            failure = self._take_failure(method, path)
            if failure is not None:
                if failure.status == 429:  # Discord's own reasons (a shared limit): the bucket's state stands
                    self._meter.tell(row, major, at + failure.retry_after, global_=failure.global_)
                return route.key, _failure_answer(failure, {} if failure.global_ else limits)
            return route.key, await self._run(route, method, params, query, body, limits)
        return "", (404, {"code": 0, "message": "404: Not Found"}, {})

    async def _handle(
        self,
        route: _Route,
        method: str,
        path: str,
        params: Mapping[str, str],
        query: Mapping[str, str],
        body: Any,
        limits: dict[str, str],
    ) -> tuple[int, Any, dict[str, str]]:
        """Without limits: a queued failure if one matches, else the route's handler."""
        failure = self._take_failure(method, path)
        if failure is not None and failure.status == 429:
            bucket = _bucket(method, route.pattern.pattern)
            exhausted = _ratelimit_headers(bucket, remaining=0, reset_after=failure.retry_after, wall=self.wall())
            return _failure_answer(failure, exhausted)
        if failure is not None:
            return _failure_answer(failure, limits)
        return await self._run(route, method, params, query, body, limits)

    async def _run(
        self,
        route: _Route,
        method: str,
        params: Mapping[str, str],
        query: Mapping[str, str],
        body: Any,
        limits: dict[str, str],
    ) -> tuple[int, Any, dict[str, str]]:
        try:
            status, payload = await route.handler(_Request(method, params, query, body))
        except _ApiError as error:
            return error.status, error.body(), limits
        return status, payload, limits

    def _take_failure(self, method: str, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.matches(method, path):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    def _route_table(self) -> list[_Route]:
        """Routes as discord.py's ``Route`` spells them; the last field says whether the bot token is needed."""
        table: list[tuple[str, str, _Handler, bool]] = [
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/@me", self._get_me, True),
            ("GET", "/users/{user}", self._get_user, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", "/applications/{app}/commands", self._get_commands, True),
            ("PUT", "/applications/{app}/commands", self._put_commands, True),
            ("GET", "/applications/{app}/guilds/{guild}/commands", self._get_commands, True),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self._put_commands, True),
            ("GET", "/channels/{channel}", self._get_channel, True),
            ("GET", "/channels/{channel}/messages", self._get_messages, True),
            ("POST", "/channels/{channel}/messages", self._post_message, True),
            ("GET", "/channels/{channel}/messages/{message}", self._get_message, True),
            ("PATCH", "/channels/{channel}/messages/{message}", self._patch_message, True),
            ("DELETE", "/channels/{channel}/messages/{message}", self._delete_message, True),
            ("POST", "/channels/{channel}/messages/{message}/threads", self._thread_from_message, True),
            ("POST", "/channels/{channel}/threads", self._thread_without_message, True),
            ("GET", "/channels/{channel}/messages/{message}/reactions/{emoji}", self._get_reactions, True),
            ("PUT", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me", self._put_reaction, True),
            ("DELETE", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me", self._delete_reaction, True),
            ("GET", "/guilds/{guild}", self._get_guild, True),
            ("GET", "/guilds/{guild}/members", self._get_members, True),
            ("GET", "/guilds/{guild}/members/{user}", self._get_member, True),
            ("GET", "/guilds/{guild}/roles", self._get_roles, True),
            ("GET", "/guilds/{guild}/channels", self._get_guild_channels, True),
            ("POST", "/interactions/{interaction}/{token}/callback", self._callback, False),
            ("POST", "/webhooks/{app}/{token}", self._post_followup, False),
            ("GET", "/webhooks/{app}/{token}/messages/{webhook_message}", self._get_webhook_message, False),
            ("PATCH", "/webhooks/{app}/{token}/messages/{webhook_message}", self._patch_webhook_message, False),
            ("DELETE", "/webhooks/{app}/{token}/messages/{webhook_message}", self._delete_webhook_message, False),
        ]
        return [_Route(method, path, _path_pattern(path), handler, auth) for method, path, handler, auth in table]

    def served_routes(self) -> list[str]:
        """Every route the fake serves, as ``METHOD /template`` (the keys of the rate-limit table)."""
        return [route.key for route in self._routes]

    def calls_per_route(self) -> dict[str, int]:
        """How many calls reached each route, busiest first (unknown paths left out)."""
        counted: dict[str, int] = {}
        for call in self.calls:
            if call.route:
                counted[call.route] = counted.get(call.route, 0) + 1
        return dict(sorted(counted.items(), key=lambda item: -item[1]))

    # gateway and identity

    async def _get_gateway(self, request: _Request) -> tuple[int, Any]:
        return 200, {"url": self._gateway_base()}

    async def _get_gateway_bot(self, request: _Request) -> tuple[int, Any]:
        limit = {"total": 1000, "remaining": 1000 - self.connections, "reset_after": 86_400_000, "max_concurrency": 1}
        return 200, {"url": self._gateway_base(), "shards": 1, "session_start_limit": limit}

    async def _get_me(self, request: _Request) -> tuple[int, Any]:
        return 200, self._bot_user_json()

    async def _get_user(self, request: _Request) -> tuple[int, Any]:
        return 200, self._user(int(request.params["user"])).to_json()

    async def _get_application(self, request: _Request) -> tuple[int, Any]:
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
            "install_params": {"scopes": ["bot", "applications.commands"], "permissions": _BOT_PERMISSIONS},
            "integration_types_config": {"0": {}},
            "tags": [],
        }

    # application commands

    async def _get_commands(self, request: _Request) -> tuple[int, Any]:
        self._check_app(request)
        guild = request.params.get("guild")
        return 200, copy.deepcopy(self.guild_commands.get(int(guild), []) if guild else self.commands)

    async def _put_commands(self, request: _Request) -> tuple[int, Any]:
        self._check_app(request)
        if not isinstance(request.body, list):
            raise _ApiError(400, 50035, "Invalid Form Body")
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

    def _check_app(self, request: _Request) -> None:
        if int(request.params["app"]) != APP_ID:
            raise _ApiError(403, 50001, "Missing Access")

    # channels and messages

    async def _get_channel(self, request: _Request) -> tuple[int, Any]:
        return 200, self._channel_json(self._channel(int(request.params["channel"])))

    async def _get_messages(self, request: _Request) -> tuple[int, Any]:
        channel = self._channel(int(request.params["channel"]))
        limit = min(int(request.query.get("limit", 50)), 100)
        found = self.messages_in(channel.id)
        if "before" in request.query:
            found = [m for m in found if m.id < int(request.query["before"])]
        if "after" in request.query:
            found = [m for m in found if m.id > int(request.query["after"])][:limit]
        found = list(reversed(found))[:limit]  # newest first, as Discord answers
        return 200, [self._message_json(m) for m in found]

    async def _post_message(self, request: _Request) -> tuple[int, Any]:
        channel = self._channel(int(request.params["channel"]))
        body = _json_object(request.body)
        self._check_writable(channel)
        _check_content(body)
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            for earlier in self.messages_in(channel.id, include_deleted=True):
                if str(earlier.nonce) == str(nonce) and self.clock() - earlier.created_at < _NONCE_WINDOW_S:
                    return 200, self._message_json(earlier, with_nonce=True)
        reference = body.get("message_reference")
        if reference is not None and reference.get("fail_if_not_exists", True):
            referenced = self.messages.get(int(reference.get("message_id", 0)))
            if referenced is None or referenced.deleted:
                raise _ApiError(
                    400,
                    50035,
                    "Invalid Form Body",
                    {"message_reference": {"_errors": [{"code": "REPLIES_UNKNOWN_MESSAGE"}]}},
                )
        message = self._store_message(channel.id, BOT_USER_ID, body)
        await self._announce_message(message)
        return 200, self._message_json(message, with_nonce=True)

    async def _get_message(self, request: _Request) -> tuple[int, Any]:
        return 200, self._message_json(self._message_in(request))

    async def _patch_message(self, request: _Request) -> tuple[int, Any]:
        message = self._message_in(request)
        if message.author_id != BOT_USER_ID or message.webhook_id is not None:
            raise _ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._edit(message, _json_object(request.body))
        await self._broadcast_message("MESSAGE_UPDATE", message)
        return 200, self._message_json(message)

    async def _delete_message(self, request: _Request) -> tuple[int, Any]:
        message = self._message_in(request)
        message.deleted = True
        await self._broadcast_deletion(message)
        return 204, None

    async def _thread_from_message(self, request: _Request) -> tuple[int, Any]:
        message = self._message_in(request)
        parent = self._channels[message.channel_id]
        if parent.type != _TEXT:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        if message.thread_id is not None:
            raise _ApiError(400, 160004, "A thread has already been created for this message")
        body = _json_object(request.body)
        thread = FakeThread(
            message.id, parent.id, str(body.get("name", "")), message.id, _PUBLIC_THREAD,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )  # fmt: skip
        message.thread_id = thread.id
        return 201, await self._open_thread(thread, parent)

    async def _thread_without_message(self, request: _Request) -> tuple[int, Any]:
        parent = self._channel(int(request.params["channel"]))
        if parent.type != _TEXT:
            raise _ApiError(400, 50024, "Cannot execute action on this channel type")
        body = _json_object(request.body)
        kind = int(body.get("type") or _PRIVATE_THREAD)
        thread = FakeThread(
            self._next_id(), parent.id, str(body.get("name", "")), None, kind,
            auto_archive_duration=int(body.get("auto_archive_duration") or 1440),
        )  # fmt: skip
        return 201, await self._open_thread(thread, parent)

    async def _open_thread(self, thread: FakeThread, parent: _Channel) -> Json:
        if not thread.name or len(thread.name) > 100:
            raise _ApiError(400, 50035, "Invalid Form Body", {"name": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH"}]}})
        self.threads[thread.id] = thread
        self._channels[thread.id] = _Channel(thread.id, thread.type, thread.name, parent.guild_id, parent.id)
        payload = self._channel_json(self._channels[thread.id])
        await self._broadcast("THREAD_CREATE", {**payload, "newly_created": True}, _GUILDS)
        return payload

    async def _get_reactions(self, request: _Request) -> tuple[int, Any]:
        message = self._message_in(request)
        after = int(request.query.get("after", 0))
        limit = min(int(request.query.get("limit", 25)), 100)
        users = sorted(u for u in message.reactions.get(request.params["emoji"], set()) if u > after)[:limit]
        return 200, [self._users[u].to_json() for u in users]

    async def _put_reaction(self, request: _Request) -> tuple[int, Any]:
        message = self._message_in(request)
        emoji = request.params["emoji"]
        message.reactions.setdefault(emoji, set()).add(BOT_USER_ID)
        return 204, None

    async def _delete_reaction(self, request: _Request) -> tuple[int, Any]:
        message = self._message_in(request)
        message.reactions.get(request.params["emoji"], set()).discard(BOT_USER_ID)
        return 204, None

    async def _create_dm(self, request: _Request) -> tuple[int, Any]:
        body = _json_object(request.body)
        user = self._user(int(body.get("recipient_id", 0)))
        return 200, self._channel_json(self._channels[self._open_dm(user.id)])

    # guilds

    async def _get_guild(self, request: _Request) -> tuple[int, Any]:
        guild = self._guild_for(request)
        payload = self._guild_json(guild)
        if request.query.get("with_counts") in ("true", "1"):
            payload["approximate_member_count"] = len(guild.members)
            payload["approximate_presence_count"] = 0
        return 200, payload

    async def _get_members(self, request: _Request) -> tuple[int, Any]:
        guild = self._guild_for(request)
        if not self.members_intent_granted:
            raise _ApiError(403, 50001, "Missing Access")
        limit = int(request.query.get("limit", 1))
        if not 1 <= limit <= 1000:
            raise _ApiError(400, 50035, "Invalid Form Body", {"limit": {"_errors": [{"code": "NUMBER_TYPE_MAX"}]}})
        after = int(request.query.get("after", 0))
        ids = sorted(user_id for user_id in guild.members if user_id > after)[:limit]
        return 200, [self._member_json(guild.id, user_id) for user_id in ids]

    async def _get_member(self, request: _Request) -> tuple[int, Any]:
        guild = self._guild_for(request)
        user_id = int(request.params["user"])
        if user_id not in guild.members:
            raise _ApiError(404, 10007, "Unknown Member")
        return 200, self._member_json(guild.id, user_id)

    async def _get_roles(self, request: _Request) -> tuple[int, Any]:
        return 200, [role.to_json() for role in self._guild_for(request).roles.values()]

    async def _get_guild_channels(self, request: _Request) -> tuple[int, Any]:
        guild = self._guild_for(request)
        return 200, [self._channel_json(self._channels[c]) for c in guild.channel_ids]

    # interactions

    async def _callback(self, request: _Request) -> tuple[int, Any]:
        interaction = self._interactions.get(int(request.params["interaction"]))
        if interaction is None or interaction.token != request.params["token"]:
            raise _ApiError(404, 10062, "Unknown interaction")
        if interaction.response is not None:
            raise _ApiError(400, 40060, "Interaction has already been acknowledged.")
        body = _json_object(request.body)
        kind = int(body.get("type", 0))
        data: Json = dict(body.get("data") or {})
        if kind not in (1, 4, 5, 6, 7, 8, 9, 12):
            raise _ApiError(400, 50035, "Invalid Form Body", {"type": {"_errors": [{"code": "BASE_TYPE_CHOICES"}]}})
        if kind in (6, 7) and interaction.type != 3 and interaction.message_id is None:
            raise _ApiError(400, 40004, "Interaction response type is not valid for this interaction")
        if kind == 9 and interaction.type == 5:
            raise _ApiError(400, 40004, "Interaction response type is not valid for this interaction")
        response = InteractionResponse(
            interaction.id, interaction.type, interaction.token, interaction.user_id, interaction.channel_id,
            kind, data, at=self.clock(),
        )  # fmt: skip
        resource: Json = {"type": kind}
        if kind == 4:
            _check_content(data)
            message = self._interaction_message(interaction, data)
            response.message_id = message.id
            resource["message"] = self._message_json(message)
        elif kind == 5:
            flags = _LOADING | (int(data.get("flags") or 0) & _EPHEMERAL)
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
                "response_message_ephemeral": response.ephemeral or bool(int(data.get("flags") or 0) & _EPHEMERAL),
            },
            "resource": resource,
        }
        if request.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        return 200, answer

    def _interaction_message(self, interaction: _Interaction, data: Json) -> FakeMessage:
        message = self._store_message(interaction.channel_id, BOT_USER_ID, data)
        message.webhook_id = APP_ID
        message.interaction_id = interaction.id
        return message

    async def _post_followup(self, request: _Request) -> tuple[int, Any]:
        interaction = self._webhook_interaction(request)
        body = _json_object(request.body)
        _check_content(body)
        assert interaction.response is not None
        interaction.response.followups.append(body)
        message = self._interaction_message(interaction, body)
        if request.query.get("wait") in ("1", "true", "True"):
            return 200, self._message_json(message)
        return 204, None

    async def _get_webhook_message(self, request: _Request) -> tuple[int, Any]:
        return 200, self._message_json(self._webhook_message(request))

    async def _patch_webhook_message(self, request: _Request) -> tuple[int, Any]:
        message = self._webhook_message(request)
        body = _json_object(request.body)
        interaction = self._webhook_interaction(request)
        assert interaction.response is not None
        if request.params["webhook_message"] == "@original":
            interaction.response.edits.append(body)
        message.flags &= ~_LOADING
        self._edit(message, body)
        return 200, self._message_json(message)

    async def _delete_webhook_message(self, request: _Request) -> tuple[int, Any]:
        message = self._webhook_message(request)
        message.deleted = True
        return 204, None

    def _webhook_interaction(self, request: _Request) -> _Interaction:
        interaction = self._by_token.get(request.params["token"])
        if int(request.params["app"]) != APP_ID or interaction is None or interaction.response is None:
            raise _ApiError(404, 10015, "Unknown Webhook")
        return interaction

    def _webhook_message(self, request: _Request) -> FakeMessage:
        interaction = self._webhook_interaction(request)
        assert interaction.response is not None
        wanted = request.params["webhook_message"]
        message_id = interaction.response.message_id if wanted == "@original" else int(wanted)
        message = self.messages.get(message_id or 0)
        if message is None or message.deleted:
            raise _ApiError(404, 10008, "Unknown Message")
        return message

    # -- gateway --

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(max_msg_size=0)
        await socket.prepare(request)
        self.connections += 1
        await socket.send_str(
            json.dumps({"op": 10, "d": {"heartbeat_interval": _HEARTBEAT_INTERVAL_MS}, "s": None, "t": None})
        )
        session: _Session | None = None
        async for frame in socket:
            if frame.type is not WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            op, data = message.get("op"), message.get("d")
            if op == 1:
                await socket.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
            elif op == 2:
                session = await self._identify(socket, data)
            elif op == 6:
                session = await self._resume(socket, data)
            elif op == 8 and session is not None:
                await self._send_member_chunks(session, data)
        if session is not None and session.socket is socket:
            session.socket = None
            if socket.close_code in (1000, 1001):  # a client that closes cleanly ends its session
                session.ended = True
        return socket

    async def _identify(self, socket: web.WebSocketResponse, data: Json) -> _Session | None:
        self.identify_payloads.append(copy.deepcopy(data))
        if data.get("token") not in (self.token, f"Bot {self.token}"):
            await socket.close(code=4004, message=b"Authentication failed.")
            return None
        intents = int(data.get("intents", 0))
        refused = (
            (intents & _GUILD_MEMBERS and not self.members_intent_granted)
            or (intents & _GUILD_PRESENCES and not self.presences_intent_granted)
            or (intents & _MESSAGE_CONTENT and not self.message_content_intent_granted)
        )
        if refused:
            await socket.close(code=4014, message=b"Disallowed intent(s).")
            return None
        session = _Session(uuid.uuid4().hex, intents, data.get("shard"), socket)
        self._sessions[session.id] = session
        ready: Json = {
            "v": API_VERSION,
            "user": self._bot_user_json(),
            "user_settings": {},
            "guilds": [{"id": str(g), "unavailable": True} for g in self._guilds],
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._gateway_base(),
            "application": {"id": str(APP_ID), "flags": 0},
            "geo_ordered_rtc_regions": [],
            "_trace": ["fake-discord"],
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        await self._send(session, "READY", ready)
        if intents & _GUILDS:
            for guild in self._guilds.values():
                await self._send(session, "GUILD_CREATE", self._guild_create_json(guild, intents))
        return session

    async def _resume(self, socket: web.WebSocketResponse, data: Json) -> _Session | None:
        self.resume_payloads.append(copy.deepcopy(data))
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or session.ended or data.get("token") not in (self.token, f"Bot {self.token}"):
            await socket.send_str(json.dumps({"op": 9, "d": False, "s": None, "t": None}))
            return None
        if session.socket is not None and not session.socket.closed:
            await session.socket.close(code=4000)
        session.socket = socket
        since = int(data.get("seq") or 0)
        async with session.lock:
            for frame in session.backlog:
                if frame["s"] > since:
                    await socket.send_str(json.dumps(frame))
        await self._send(session, "RESUMED", {"_trace": ["fake-discord"]})
        return session

    async def _send_member_chunks(self, session: _Session, data: Json) -> None:
        guild = self._guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        wanted = data.get("user_ids")
        members = [
            self._member_json(guild.id, user_id)
            for user_id in guild.members
            if wanted is None or str(user_id) in {str(w) for w in wanted}
        ]
        if not session.intents & _GUILD_MEMBERS and wanted is None:
            members = []
        chunk: Json = {"guild_id": str(guild.id), "members": members, "chunk_index": 0, "chunk_count": 1}
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await self._send(session, "GUILD_MEMBERS_CHUNK", chunk)

    async def _send(self, session: _Session, event: str, data: Json) -> None:
        async with session.lock:
            session.seq += 1
            frame = {"op": 0, "t": event, "s": session.seq, "d": data}
            session.backlog.append(frame)
            if session.socket is not None and not session.socket.closed:
                with contextlib.suppress(ConnectionResetError):
                    await session.socket.send_str(json.dumps(frame))

    async def _broadcast(self, event: str, data: Json, intent: int) -> None:
        """Send to every session that has not ended; a dropped one gets it when it RESUMEs."""
        for session in list(self._sessions.values()):
            if session.ended or (intent and not session.intents & intent):
                continue
            await self._send(session, event, copy.deepcopy(data))

    async def _newest_live_session(self, within: float) -> _Session:
        await self.wait_for(lambda: self.live_sessions > 0, within)
        return [s for s in self._sessions.values() if s.live][-1]

    async def _interact(
        self,
        kind: int,
        user_id: int,
        channel_id: int,
        guild_id: int | None,
        data: Json,
        message: FakeMessage | None,
        within: float,
    ) -> InteractionResponse:
        if user_id not in self._users:
            raise AssertionError(f"no user {user_id}; add_user first")
        if guild_id is None and self._channels.get(channel_id, _Channel(0, _TEXT)).type != _DM:
            channel_id = self._open_dm(user_id)
        if channel_id not in self._channels:
            raise AssertionError(f"no channel {channel_id}; add_channel first")
        channel = self._channels[channel_id]
        if channel.type == _DM:
            guild_id = None
        interaction_id = self._next_id()
        token = f"fake-interaction-{interaction_id}-{uuid.uuid4().hex}"
        loop = asyncio.get_running_loop()
        interaction = _Interaction(
            interaction_id, token, kind, user_id, channel_id, guild_id,
            message.id if message else None, loop.create_future(),
        )  # fmt: skip
        self._interactions[interaction_id] = interaction
        self._by_token[token] = interaction
        payload: Json = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": kind,
            "data": data,
            "channel_id": str(channel_id),
            "channel": self._channel_json(channel),
            "token": token,
            "version": 1,
            "app_permissions": _BOT_PERMISSIONS,
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": _ATTACHMENT_SIZE_LIMIT,
        }
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
            payload["guild_locale"] = "en-US"
            payload["member"] = {**self._member_json(guild_id, user_id), "permissions": _MEMBER_PERMISSIONS}
            payload["authorizing_integration_owners"] = {"0": str(guild_id)}
            payload["context"] = 0
        else:
            payload["user"] = self._users[user_id].to_json()
            payload["authorizing_integration_owners"] = {"0": str(GUILD_ID)}
            payload["context"] = 1
        if message is not None:
            payload["message"] = self._message_json(message)
        session = await self._newest_live_session(within)
        await self._send(session, "INTERACTION_CREATE", payload)
        try:
            return await asyncio.wait_for(asyncio.shield(interaction.answered), within)
        except TimeoutError:
            raise AssertionError(
                f"the client did not answer interaction {interaction_id} (type {kind}, {data}) within {within}s"
            ) from None

    # -- model helpers --

    def _next_id(self) -> int:
        now = (int(self.wall() * 1000) - _DISCORD_EPOCH_MS) << 22
        self._last_id = max(self._last_id + (1 << 22), now)
        return self._last_id

    def _gateway_base(self) -> str:
        return self.gateway_url

    def _guild(self, guild_id: int) -> _Guild:
        try:
            return self._guilds[guild_id]
        except KeyError:
            raise _ApiError(404, 10004, "Unknown Guild") from None

    def _guild_for(self, request: _Request) -> _Guild:
        return self._guild(int(request.params["guild"]))

    def _user(self, user_id: int) -> _User:
        try:
            return self._users[user_id]
        except KeyError:
            raise _ApiError(404, 10013, "Unknown User") from None

    def _channel(self, channel_id: int) -> _Channel:
        try:
            return self._channels[channel_id]
        except KeyError:
            raise _ApiError(404, 10003, "Unknown Channel") from None

    def _message(self, message_id: int) -> FakeMessage:
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise _ApiError(404, 10008, "Unknown Message")
        return message

    def _stored(self, message_id: int) -> FakeMessage:
        """For the drivers: a message the test means must exist."""
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise AssertionError(f"the fake holds no message {message_id}")
        return message

    def _message_in(self, request: _Request) -> FakeMessage:
        channel = self._channel(int(request.params["channel"]))
        message = self._message(int(request.params["message"]))
        if message.channel_id != channel.id:
            raise _ApiError(404, 10008, "Unknown Message")
        return message

    def _guild_of(self, channel: _Channel) -> int | None:
        return channel.guild_id

    def _open_dm(self, user_id: int) -> int:
        channel_id = self._dms.get(user_id)
        if channel_id is None:
            channel_id = self._next_id()
            self._dms[user_id] = channel_id
            self._channels[channel_id] = _Channel(channel_id, _DM, recipient_id=user_id)
        return channel_id

    def _check_writable(self, channel: _Channel) -> None:
        if channel.type == _DM:
            recipient = self._users[channel.recipient_id or 0]
            if not recipient.dms_open or recipient.bot:
                raise _ApiError(403, 50007, "Cannot send messages to this user")

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
            message.flags = int(body["flags"]) | (message.flags & _EPHEMERAL)
        message.edits += 1

    async def _announce_message(self, message: FakeMessage) -> None:
        await self._broadcast_message("MESSAGE_CREATE", message)

    async def _broadcast_message(self, event: str, message: FakeMessage) -> None:
        if message.ephemeral:
            return
        guild_id = self._guild_of(self._channels[message.channel_id])
        intent = _GUILD_MESSAGES if guild_id is not None else _DIRECT_MESSAGES
        payload = self._message_json(message, with_nonce=event == "MESSAGE_CREATE")
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
            payload["member"] = self._member_json(guild_id, message.author_id)
        for session in list(self._sessions.values()):
            if session.ended or not session.intents & intent:
                continue
            visible = payload
            if message.author_id != BOT_USER_ID and not session.intents & _MESSAGE_CONTENT:
                visible = {**payload, "content": "", "embeds": [], "components": []}
            await self._send(session, event, copy.deepcopy(visible))

    async def _broadcast_deletion(self, message: FakeMessage) -> None:
        guild_id = self._guild_of(self._channels[message.channel_id])
        payload: Json = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
        await self._broadcast("MESSAGE_DELETE", payload, _GUILD_MESSAGES if guild_id else _DIRECT_MESSAGES)

    def _find_command(self, name: str, guild_id: int | None) -> tuple[Json | None, int | None]:
        if guild_id is not None:
            for command in self.guild_commands.get(guild_id, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    return command, guild_id
        for command in self.commands:
            if command["name"] == name and command.get("type", 1) == 1:
                return command, None
        return None, None

    def _reaction_event(self, user_id: int, message: FakeMessage, emoji: str) -> Json:
        payload: Json = {
            "user_id": str(user_id),
            "channel_id": str(message.channel_id),
            "message_id": str(message.id),
            "emoji": _emoji_json(emoji),
            "type": 0,
        }
        guild_id = self._guild_of(self._channels[message.channel_id])
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
        return payload

    # -- JSON shapes --

    def _bot_user_json(self) -> Json:
        return {
            **self._users[BOT_USER_ID].to_json(),
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
        }

    def _member_json(self, guild_id: int, user_id: int) -> Json:
        roles = self._guilds[guild_id].members.get(user_id, [])
        return {
            "user": self._user(user_id).to_json(),
            "roles": [str(r) for r in roles],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": _iso(_FIRST_SNOWFLAKE),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }

    def _channel_json(self, channel: _Channel) -> Json:
        last = str(channel.last_message_id) if channel.last_message_id else None
        if channel.type == _DM:
            return {
                "id": str(channel.id),
                "type": _DM,
                "last_message_id": last,
                "flags": 0,
                "recipients": [self._users[channel.recipient_id or 0].to_json()],
            }
        if channel.type in (_PUBLIC_THREAD, _PRIVATE_THREAD):
            thread = self.threads[channel.id]
            return {
                "id": str(channel.id),
                "type": channel.type,
                "guild_id": str(channel.guild_id),
                "parent_id": str(channel.parent_id),
                "owner_id": str(thread.owner_id),
                "name": channel.name,
                "last_message_id": last,
                "rate_limit_per_user": 0,
                "message_count": channel.message_count,
                "member_count": 1,
                "total_message_sent": channel.message_count,
                "flags": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": thread.auto_archive_duration,
                    "archive_timestamp": _iso(channel.id),
                    "locked": False,
                    "create_timestamp": _iso(channel.id),
                    **({"invitable": True} if channel.type == _PRIVATE_THREAD else {}),
                },
                "member": {
                    "id": str(channel.id),
                    "user_id": str(BOT_USER_ID),
                    "join_timestamp": _iso(channel.id),
                    "flags": 0,
                },
            }
        return {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": [],
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "rate_limit_per_user": 0,
            "last_message_id": last,
            "default_auto_archive_duration": 1440,
            "flags": 0,
        }

    def _guild_json(self, guild: _Guild) -> Json:
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [role.to_json() for role in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "max_members": 500_000,
            "max_video_channel_users": 25,
        }

    def _guild_create_json(self, guild: _Guild, intents: int) -> Json:
        members = list(guild.members) if intents & _GUILD_MEMBERS else [BOT_USER_ID]
        return {
            **self._guild_json(guild),
            "unavailable": False,
            "large": False,
            "member_count": len(guild.members),
            "joined_at": _iso(_FIRST_SNOWFLAKE),
            "members": [self._member_json(guild.id, user_id) for user_id in members],
            "channels": [self._channel_json(self._channels[c]) for c in guild.channel_ids],
            "threads": [
                self._channel_json(self._channels[t.id])
                for t in self.threads.values()
                if self._channels[t.id].guild_id == guild.id
            ],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _message_json(self, message: FakeMessage, *, with_nonce: bool = False) -> Json:
        """A message as the API shows it. Its nonce is not stored by Discord: it is echoed only in the
        answer to the create and in MESSAGE_CREATE (Rapptz/discord.py#2451), never when fetched."""
        channel = self._channels[message.channel_id]
        payload: Json = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": self._users[message.author_id].to_json(),
            "content": message.content,
            "timestamp": _iso(message.id),
            "edited_timestamp": _iso(message.id, plus_ms=message.edits) if message.edits else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": copy.deepcopy(message.embeds),
            "components": copy.deepcopy(message.components),
            "reactions": [
                {
                    "emoji": _emoji_json(emoji),
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": BOT_USER_ID in users,
                    "me_burst": False,
                    "burst_colors": [],
                }
                for emoji, users in message.reactions.items()
                if users
            ],
            "pinned": False,
            "type": 0 if message.message_reference is None else 19,
            "flags": message.flags,
        }
        if with_nonce and message.nonce is not None:
            payload["nonce"] = message.nonce
        if message.webhook_id is not None:
            payload["webhook_id"] = str(message.webhook_id)
            payload["application_id"] = str(APP_ID)
        if message.interaction_id is not None:
            interaction = self._interactions[message.interaction_id]
            payload["type"] = 20 if interaction.type == 2 else 0
            payload["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self._users[interaction.user_id].to_json(),
                "authorizing_integration_owners": {"0": str(interaction.guild_id or GUILD_ID)},
            }
        if message.message_reference is not None:
            payload["message_reference"] = {
                "type": 0,
                "channel_id": str(message.channel_id),
                **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
                **{k: str(v) for k, v in message.message_reference.items() if k in ("message_id",)},
            }
        if message.thread_id is not None:
            payload["thread"] = self._channel_json(self._channels[message.thread_id])
        return payload


# --- helpers ---------------------------------------------------------------------------------------


async def _read_body(request: web.Request) -> Any:
    if not request.body_exists:
        return None
    if request.content_type == "multipart/form-data":
        form = await request.post()
        payload = form.get("payload_json")
        return json.loads(str(payload)) if payload is not None else None
    raw = await request.read()
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _json_object(body: Any) -> Json:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _ApiError(400, 50109, "The request body contains invalid JSON.")
    return body


def _check_content(body: Json) -> None:
    content = body.get("content") or ""
    if len(str(content)) > 2000:
        raise _ApiError(400, 50035, "Invalid Form Body", {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}})
    if len(body.get("embeds") or []) > 10:
        raise _ApiError(400, 50035, "Invalid Form Body", {"embeds": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH"}]}})
    for component in _walk_components(body.get("components") or []):
        if "custom_id" in component and not 1 <= len(str(component["custom_id"])) <= 100:
            raise _ApiError(
                400, 50035, "Invalid Form Body", {"components": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH"}]}}
            )
    if not (content or body.get("embeds") or body.get("components") or body.get("sticker_ids") or body.get("poll")):
        raise _ApiError(400, 50006, "Cannot send an empty message")


def _walk_components(components: Iterable[Json]) -> Iterator[Json]:
    for component in components:
        yield component
        yield from _walk_components(component.get("components") or [])
        if isinstance(component.get("component"), dict):
            yield from _walk_components([component["component"]])
        if isinstance(component.get("accessory"), dict):
            yield component["accessory"]


def _normalise_options(options: list[Json] | Mapping[str, Any] | None) -> list[Json]:
    if options is None:
        return []
    if isinstance(options, Mapping):
        return [{"name": name, "value": value} for name, value in options.items()]
    return [dict(o) for o in options]


def _option(given: Json, definitions: list[Json]) -> Json:
    if "type" not in given:
        defined = next((d for d in definitions if d.get("name") == given["name"]), None)
        if defined is not None:
            given["type"] = defined["type"]
        else:
            value = given.get("value")
            given["type"] = (
                5 if isinstance(value, bool) else 4 if isinstance(value, int) else 10 if isinstance(value, float) else 3
            )
    return given


def _modal_submission(shown: Json | None, values: Mapping[str, str]) -> list[Json]:
    if shown is None:
        return [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
    submitted: list[Json] = []
    for row in shown.get("components", []):
        if row.get("type") == 18 and isinstance(row.get("component"), dict):
            inner = row["component"]
            if inner.get("custom_id") in values:
                entry = {"type": inner["type"], "custom_id": inner["custom_id"], "value": values[inner["custom_id"]]}
                submitted.append({"type": 18, "component": entry})
        elif row.get("type") == 1:
            inputs = [
                {"type": c["type"], "custom_id": c["custom_id"], "value": values[c["custom_id"]]}
                for c in row.get("components", [])
                if c.get("custom_id") in values
            ]
            if inputs:
                submitted.append({"type": 1, "components": inputs})
    return submitted


def _emoji_json(emoji: str) -> Json:
    custom = re.fullmatch(r"<?a?:?(?P<name>\w+):(?P<id>\d+)>?", emoji)
    if custom:
        return {"id": custom["id"], "name": custom["name"], "animated": emoji.startswith("<a:")}
    return {"id": None, "name": emoji}


def _reaction_intent(guild_id: int | None) -> int:
    return _GUILD_MESSAGE_REACTIONS if guild_id is not None else _DIRECT_MESSAGE_REACTIONS


def _iso(snowflake: int, *, plus_ms: int = 0) -> str:
    millis = (snowflake >> 22) + _DISCORD_EPOCH_MS + plus_ms
    return datetime.fromtimestamp(millis / 1000, tz=UTC).isoformat()


def _path_pattern(template: str) -> re.Pattern[str]:
    """``/channels/{channel}`` -> a regex with named groups: snowflakes, except tokens, emoji and ``@original``."""
    special = {"token": r"[^/]+", "emoji": r"[^/]+", "webhook_message": r"@original|\d+"}

    def group(match: re.Match[str]) -> str:
        return f"(?P<{match[1]}>{special.get(match[1], _SNOWFLAKE)})"

    return re.compile(re.sub(r"\{(\w+)\}", group, template))


def _bucket(method: str, route_pattern: str) -> str:
    return hashlib.sha1(f"{method} {route_pattern}".encode(), usedforsecurity=False).hexdigest()[:16]


def _ratelimit_headers(
    bucket: str, *, remaining: int = 49, reset_after: float = 1.0, wall: float | None = None
) -> dict[str, str]:
    """The roomy headers every answer carries when limits are not enforced."""
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{(time.time() if wall is None else wall) + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


def _major(row: RouteLimit, params: Mapping[str, str]) -> str:
    """The top-level resource the route's bucket is kept per, from the path."""
    if row.major is Major.CHANNEL:
        return params["channel"]
    if row.major is Major.GUILD:
        return params["guild"]
    if row.major is Major.WEBHOOK:
        return f"{params['app']}+{params['token']}"
    return ""


def _admitted_headers(admitted: Admitted, *, wall: float) -> dict[str, str]:
    """A bucketed route's state after a call; no headers for a route with no limit of its own."""
    if admitted.limit is None:
        return {}
    return {
        "X-RateLimit-Limit": str(admitted.limit),
        "X-RateLimit-Remaining": str(admitted.remaining),
        "X-RateLimit-Reset": f"{wall + admitted.reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{admitted.reset_after:.3f}",
        "X-RateLimit-Bucket": admitted.bucket,
    }


def _refusal(row: RouteLimit, scope: str, retry_after: float, *, wall: float) -> tuple[int, Any, dict[str, str]]:
    """Discord's 429: the global limit's (no route headers) or the route's (its bucket, empty)."""
    wait = max(0.001, round(retry_after, 3))
    if scope == "global":
        headers = {"X-RateLimit-Global": "true"}
    else:
        headers = _admitted_headers(Admitted(row.limit, 0, wait, bucket_hash(row.header_name)), wall=wall)
    headers["Retry-After"] = str(math.ceil(wait))
    headers["X-RateLimit-Scope"] = scope
    return 429, {"message": "You are being rate limited.", "retry_after": wait, "global": scope == "global"}, headers


def _failure_answer(failure: _Failure, limits: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
    """A queued failure, with the route's rate-limit headers as given."""
    headers = dict(limits)
    if failure.status != 429:
        code = failure.code if failure.code is not None else 0
        message = failure.message or f"{failure.status}: fake failure"
        return failure.status, {"code": code, "message": message}, headers
    headers["Retry-After"] = str(math.ceil(failure.retry_after))
    headers["X-RateLimit-Scope"] = "global" if failure.global_ else "user"
    if failure.global_:
        headers["X-RateLimit-Global"] = "true"
    body: Json = {
        "message": failure.message or "You are being rate limited.",
        "retry_after": failure.retry_after,
        "global": failure.global_,
    }
    if failure.code is not None:
        body["code"] = failure.code
    return 429, body, headers
